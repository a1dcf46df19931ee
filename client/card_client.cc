// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "client/card_client.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/paging.h"

namespace card::client {

namespace {

// Which methods gRPC may resend on UNAVAILABLE. A policy retry can resend a
// call the server already received and even committed (the connection may
// break after the commit, or the server may answer UNAVAILABLE when its
// database connection broke during the commit), so only calls for which a
// second delivery is harmless are listed:
//  * the reads (GetCard, ListCards, GetDefaultCard, GetSharedCard,
//    ListPlatformLinks);
//  * CreateCard, because the server deduplicates on (user_id, request_id) and
//    cardctl always sends a request_id (callers of this library must too, or a
//    retry may create a second card);
//  * SetDefaultCard, which is idempotent.
// Not retried automatically, because a second delivery after a first that
// succeeded gives a wrong answer or a wrong result:
//  * UpdateCard: with an etag the resend fails ABORTED although the update
//    happened; without one it may overwrite a concurrent writer's change that
//    landed between the two deliveries.
//  * DeleteCard: the resend answers NOT_FOUND for a delete that succeeded (or
//    FAILED_PRECONDITION if the remaining card is now the last one).
//  * CreatePlatformLink: no idempotency key, so a resend creates a second link.
//  * DeletePlatformLink: the resend answers NOT_FOUND for a delete that succeeded.
// gRPC still retries any call transparently when it provably never left the
// client; the caller decides about the rest (e.g. re-read, then retry).
// grpc.health.v1.Health/Check is not listed either: a probe should report what
// it sees now.
constexpr const char* kRetriedMethods[] = {
    "CreateCard",    "GetCard",        "ListCards",        "GetDefaultCard",
    "GetSharedCard", "SetDefaultCard", "ListPlatformLinks"};

std::string BuildServiceConfig() {
  std::vector<std::string> names;
  for (const char* method : kRetriedMethods) {
    names.push_back(absl::StrCat(R"({"service":"devcard.card.v1.CardService","method":")",
                                 method, R"("})"));
  }
  // Backoff between attempts: random in [0, min(0.1s * 2^(n-1), 2s)].
  return absl::StrCat(R"({"methodConfig":[{"name":[)", absl::StrJoin(names, ","),
                      R"(],"retryPolicy":{"maxAttempts":4,"initialBackoff":"0.1s",)",
                      R"("maxBackoff":"2s","backoffMultiplier":2,)",
                      R"("retryableStatusCodes":["UNAVAILABLE"]}}]})");
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace

const std::string& ServiceConfigJson() {
  static const std::string* const kConfig = new std::string(BuildServiceConfig());
  return *kConfig;
}

std::string StatusCodeName(grpc::StatusCode code) {
  std::string name = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  return name.empty() ? "UNKNOWN" : name;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateChannel(
    const ClientOptions& options, grpc::ChannelArguments args) {
  if (options.retries) {
    args.SetServiceConfigJSON(ServiceConfigJson());
  } else {
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  bool identity = !options.tls_cert_file.empty() || !options.tls_key_file.empty();
  if (identity && (options.tls_cert_file.empty() || options.tls_key_file.empty())) {
    return absl::InvalidArgumentError("--tls_cert_file and --tls_key_file go together");
  }
  if (identity && !options.tls) {
    return absl::InvalidArgumentError("--tls_cert_file and --tls_key_file need --tls");
  }
  if (options.tls) {
    grpc::SslCredentialsOptions ssl;
    if (!options.tls_ca_file.empty()) {
      absl::StatusOr<std::string> roots = ReadFile(options.tls_ca_file);
      if (!roots.ok()) return roots.status();
      ssl.pem_root_certs = *std::move(roots);
    }
    if (identity) {
      absl::StatusOr<std::string> chain = ReadFile(options.tls_cert_file);
      if (!chain.ok()) return chain.status();
      absl::StatusOr<std::string> key = ReadFile(options.tls_key_file);
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *std::move(chain);
      ssl.pem_private_key = *std::move(key);
    }
    credentials = grpc::SslCredentials(ssl);
    if (!options.tls_server_name.empty()) {
      args.SetSslTargetNameOverride(options.tls_server_name);
    }
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  return grpc::CreateCustomChannel(options.target, credentials, args);
}

CardClient::CardClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
    : timeout_(timeout),
      stub_(v1::CardService::NewStub(channel)),
      health_(grpc::health::v1::Health::NewStub(channel)) {}

absl::StatusOr<std::unique_ptr<CardClient>> CardClient::Connect(
    const ClientOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = CreateChannel(options);
  if (!channel.ok()) return channel.status();
  return std::make_unique<CardClient>(*std::move(channel), options.timeout);
}

std::unique_ptr<grpc::ClientContext> CardClient::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  return context;
}

grpc::Status CardClient::CreateCard(const v1::CreateCardRequest& request,
                                    v1::Card* card) {
  return stub_->CreateCard(NewContext().get(), request, card);
}

grpc::Status CardClient::GetCard(const v1::GetCardRequest& request, v1::Card* card) {
  return stub_->GetCard(NewContext().get(), request, card);
}

grpc::Status CardClient::ListCards(const v1::ListCardsRequest& request,
                                   v1::ListCardsResponse* response) {
  return stub_->ListCards(NewContext().get(), request, response);
}

grpc::Status CardClient::UpdateCard(const v1::UpdateCardRequest& request,
                                    v1::Card* card) {
  return stub_->UpdateCard(NewContext().get(), request, card);
}

grpc::Status CardClient::DeleteCard(const v1::DeleteCardRequest& request) {
  google::protobuf::Empty empty;
  return stub_->DeleteCard(NewContext().get(), request, &empty);
}

grpc::Status CardClient::SetDefaultCard(const v1::SetDefaultCardRequest& request,
                                        v1::Card* card) {
  return stub_->SetDefaultCard(NewContext().get(), request, card);
}

grpc::Status CardClient::GetDefaultCard(const v1::GetDefaultCardRequest& request,
                                        v1::Card* card) {
  return stub_->GetDefaultCard(NewContext().get(), request, card);
}

grpc::Status CardClient::GetSharedCard(const v1::GetSharedCardRequest& request,
                                       v1::SharedCard* card) {
  return stub_->GetSharedCard(NewContext().get(), request, card);
}

grpc::Status CardClient::CreatePlatformLink(const v1::CreatePlatformLinkRequest& request,
                                            v1::PlatformLink* link) {
  return stub_->CreatePlatformLink(NewContext().get(), request, link);
}

grpc::Status CardClient::ListPlatformLinks(const v1::ListPlatformLinksRequest& request,
                                           v1::ListPlatformLinksResponse* response) {
  return stub_->ListPlatformLinks(NewContext().get(), request, response);
}

grpc::Status CardClient::DeletePlatformLink(
    const v1::DeletePlatformLinkRequest& request) {
  google::protobuf::Empty empty;
  return stub_->DeletePlatformLink(NewContext().get(), request, &empty);
}

grpc::Status CardClient::ListAllCards(const std::string& user_id, int page_size,
                                      std::vector<v1::Card>* cards) {
  v1::ListCardsRequest request;
  request.set_user_id(user_id);
  request.set_page_size(page_size);
  auto fetch = [this](const v1::ListCardsRequest& page, v1::ListCardsResponse* response) {
    return ListCards(page, response);
  };
  return ReadAllPages(request, fetch, &v1::ListCardsResponse::mutable_cards, cards);
}

grpc::Status CardClient::ListAllPlatformLinks(const std::string& user_id, int page_size,
                                              std::vector<v1::PlatformLink>* links) {
  v1::ListPlatformLinksRequest request;
  request.set_user_id(user_id);
  request.set_page_size(page_size);
  auto fetch = [this](const v1::ListPlatformLinksRequest& page,
                      v1::ListPlatformLinksResponse* response) {
    return ListPlatformLinks(page, response);
  };
  return ReadAllPages(request, fetch, &v1::ListPlatformLinksResponse::mutable_links,
                      links);
}

grpc::Status CardClient::CheckHealth(const std::string& service,
                                     grpc::health::v1::HealthCheckResponse* response) {
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  return health_->Check(NewContext().get(), request, response);
}

}  // namespace card::client
