// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The client library's paging helper (client/paging.h), which cardctl's list
// commands and card-stress's read-back both rely on to see every card, and its
// status-code names, which cardctl's errors and card-stress's reports print.
#include <map>
#include <string>
#include <vector>

#include "client/card_client.h"
#include "client/paging.h"
#include "gtest/gtest.h"

namespace card::client {
namespace {

// A server's pages: page token -> the response for it.
using Pages = std::map<std::string, v1::ListCardsResponse>;

v1::ListCardsResponse Page(std::vector<std::string> ids, std::string next_token) {
  v1::ListCardsResponse response;
  for (const std::string& id : ids) response.add_cards()->set_id(id);
  response.set_next_page_token(next_token);
  return response;
}

// Answers from `pages`, counting the calls and checking every request keeps
// the first request's user and page size.
struct FakeServer {
  Pages pages;
  int calls = 0;
  grpc::Status operator()(const v1::ListCardsRequest& request,
                          v1::ListCardsResponse* response) {
    ++calls;
    EXPECT_EQ(request.user_id(), "alice");
    EXPECT_EQ(request.page_size(), 2);
    auto found = pages.find(request.page_token());
    if (found == pages.end())
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad token");
    *response = found->second;
    return grpc::Status::OK;
  }
};

v1::ListCardsRequest FirstPage() {
  v1::ListCardsRequest request;
  request.set_user_id("alice");
  request.set_page_size(2);
  return request;
}

std::vector<std::string> Ids(const std::vector<v1::Card>& cards) {
  std::vector<std::string> ids;
  for (const v1::Card& card : cards) ids.push_back(card.id());
  return ids;
}

TEST(ReadAllPages, CollectsEveryPageInOrderUntilTheTokenIsEmpty) {
  FakeServer server{{{"", Page({"a", "b"}, "t1")},
                     {"t1", Page({"c", "d"}, "t2")},
                     {"t2", Page({"e"}, "")}}};
  std::vector<v1::Card> cards;
  grpc::Status status = ReadAllPages(FirstPage(), std::ref(server),
                                     &v1::ListCardsResponse::mutable_cards, &cards);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(Ids(cards), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(server.calls, 3);
}

TEST(ReadAllPages, StopsAtTheFirstFailedCallWithItsCode) {
  FakeServer server{{{"", Page({"a", "b"}, "gone")}}};
  std::vector<v1::Card> cards;
  grpc::Status status = ReadAllPages(FirstPage(), std::ref(server),
                                     &v1::ListCardsResponse::mutable_cards, &cards);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Ids(cards), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(server.calls, 2);
}

TEST(ReadAllPages, RefusesAServerThatRepeatsAPageTokenInsteadOfLooping) {
  FakeServer server{{{"", Page({"a"}, "t1")}, {"t1", Page({"b"}, "t1")}}};
  std::vector<v1::Card> cards;
  grpc::Status status = ReadAllPages(FirstPage(), std::ref(server),
                                     &v1::ListCardsResponse::mutable_cards, &cards);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(server.calls, 2);
}

TEST(StatusCodeName, NamesEveryGrpcCodeAsGrpcDoes) {
  const std::vector<std::string> names = {"OK",
                                          "CANCELLED",
                                          "UNKNOWN",
                                          "INVALID_ARGUMENT",
                                          "DEADLINE_EXCEEDED",
                                          "NOT_FOUND",
                                          "ALREADY_EXISTS",
                                          "PERMISSION_DENIED",
                                          "RESOURCE_EXHAUSTED",
                                          "FAILED_PRECONDITION",
                                          "ABORTED",
                                          "OUT_OF_RANGE",
                                          "UNIMPLEMENTED",
                                          "INTERNAL",
                                          "UNAVAILABLE",
                                          "DATA_LOSS",
                                          "UNAUTHENTICATED"};
  for (int code = 0; code < static_cast<int>(names.size()); ++code) {
    EXPECT_EQ(StatusCodeName(static_cast<grpc::StatusCode>(code)), names[code]) << code;
  }
}

TEST(StatusCodeName, CallsANumberOutsideTheTableUnknown) {
  EXPECT_EQ(StatusCodeName(static_cast<grpc::StatusCode>(17)), "UNKNOWN");
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::DO_NOT_USE), "UNKNOWN");
}

}  // namespace
}  // namespace card::client
