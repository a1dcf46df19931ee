// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// libFuzzer target over what a caller controls before anything is written:
// request parsing (rpc/request_parsing), proto-to-model conversion, the
// service's validation (against the in-memory repository), and page-token
// decoding. The first byte picks the request type; the rest are its bytes.
// Built and run by scripts/fuzz.sh (clang, libFuzzer, AddressSanitizer).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/time/clock.h"
#include "devcard/card/v1/card_service.pb.h"
#include "server/rpc/proto_convert.h"
#include "server/rpc/request_parsing.h"
#include "server/service/card_service.h"
#include "server/service/page_token.h"
#include "tests/support/fake_repository.h"

namespace {

namespace v1 = devcard::card::v1;
using card::rpc::FromProto;

// Parses like the server does (ByteBuffer, protobuf's UTF-8 checks).
template <class Request>
bool Parse(const std::string& bytes, Request* request) {
  grpc::Slice slice(bytes);
  grpc::ByteBuffer buffer(&slice, 1);
  return card::rpc::ParseRequest(buffer, request).ok();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // As in the server: protobuf's complaints are captured while parsing.
  static const bool routed = (card::rpc::RouteProtobufLogs(), true);
  (void)routed;
  static card::testing::FakeRepository* repository = new card::testing::FakeRepository();
  static card::service::CardService* service =
      new card::service::CardService(repository, card::service::ServiceOptions());
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const absl::Time deadline = absl::Now() + absl::Seconds(1);
  switch (data[0] % 6) {
    case 0: {
      v1::CreateCardRequest request;
      if (Parse(bytes, &request)) (void)service->CreateCard(FromProto(request), deadline);
      break;
    }
    case 1: {
      v1::UpdateCardRequest request;
      if (Parse(bytes, &request)) (void)service->UpdateCard(FromProto(request), deadline);
      break;
    }
    case 2: {
      v1::CreatePlatformLinkRequest request;
      if (Parse(bytes, &request)) {
        (void)service->CreatePlatformLink(FromProto(request), deadline);
      }
      break;
    }
    case 3: {
      v1::ListCardsRequest request;
      if (Parse(bytes, &request)) {
        (void)service->ListCards(request.user_id(), request.page_size(),
                                 request.page_token(), deadline);
      }
      break;
    }
    case 4: {
      v1::GetSharedCardRequest request;
      if (Parse(bytes, &request)) (void)service->GetSharedCard(request.slug(), deadline);
      break;
    }
    case 5:
      // A token as a caller may forge it, for both kinds of list.
      (void)card::service::DecodePageToken("cards", "fuzz-user", bytes);
      (void)card::service::DecodePageToken("links", "fuzz-user", bytes);
      break;
  }
  return 0;
}
