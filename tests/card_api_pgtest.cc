// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Every RPC of the core API, its invalid inputs, and what the database holds
// afterwards — through a real gRPC server on a real PostgreSQL.
#include <functional>
#include <string>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/support/health.h"
#include "tests/support/server_fixture.h"

namespace card::testing {
namespace {

// The BadRequest field named by a failed call, or "".
std::string ViolatedField(const grpc::Status& status) {
  google::rpc::Status details;
  google::rpc::BadRequest bad_request;
  if (!details.ParseFromString(status.error_details()) || details.details_size() != 1 ||
      !details.details(0).UnpackTo(&bad_request) ||
      bad_request.field_violations_size() != 1) {
    return "";
  }
  return bad_request.field_violations(0).field();
}

class CardApiTest : public CardServerTest {
 protected:
  int CardRows() { return Query("SELECT count(*) FROM cards")[0][0].as<int>(); }

  std::string InsertLink(const std::string& user_id) {
    return Query(
               "INSERT INTO platform_links (id, user_id, platform, username, url, "
               "create_time) "
               "VALUES (gen_random_uuid(), " +
               sql_->quote(user_id) +
               ", 'github', 'octo', 'https://github.com/octo', now()) RETURNING id")[0][0]
        .c_str();
  }
};

TEST_F(CardApiTest, FirstCardIsDefaultLaterOnesAreNot) {
  v1::CreateCardRequest request;
  request.set_user_id("alice");
  request.mutable_card()->set_title("Jane Doe, Engineer");
  request.mutable_card()->set_description("Builds things");
  request.mutable_card()->set_qr_enabled(true);
  v1::Card first;
  ASSERT_TRUE(stub_->CreateCard(Context().get(), request, &first).ok());
  EXPECT_TRUE(first.is_default());
  EXPECT_EQ(first.user_id(), "alice");
  EXPECT_EQ(first.title(), "Jane Doe, Engineer");
  EXPECT_EQ(first.description(), "Builds things");
  EXPECT_EQ(first.visibility(),
            v1::VISIBILITY_PUBLIC);  // unspecified on create means PUBLIC
  EXPECT_TRUE(first.qr_enabled());
  EXPECT_EQ(first.id().size(), 36u);
  EXPECT_EQ(first.slug().rfind("jane-doe-engineer-", 0), 0u) << first.slug();
  EXPECT_FALSE(first.etag().empty());
  EXPECT_GT(first.create_time().seconds(), 1600000000);
  EXPECT_EQ(first.create_time().seconds(), first.update_time().seconds());

  request.mutable_card()->set_visibility(v1::VISIBILITY_PRIVATE);
  v1::Card second;
  ASSERT_TRUE(stub_->CreateCard(Context().get(), request, &second).ok());
  EXPECT_FALSE(second.is_default());
  EXPECT_EQ(second.visibility(), v1::VISIBILITY_PRIVATE);
  EXPECT_NE(second.slug(), first.slug());

  // Another user's first card is their default, whatever alice has.
  v1::Card bobs;
  ASSERT_TRUE(Create("bob", "Bob", &bobs).ok());
  EXPECT_TRUE(bobs.is_default());

  EXPECT_EQ(Query("SELECT count(*) FROM cards WHERE is_default")[0][0].as<int>(), 2);
  EXPECT_EQ(
      Query("SELECT id FROM cards WHERE user_id = 'alice' AND is_default")[0][0].c_str(),
      first.id());
}

TEST_F(CardApiTest, GetCardReturnsTheStoredCard) {
  v1::Card created;
  ASSERT_TRUE(Create("alice", "Card", &created).ok());
  v1::Card fetched;
  ASSERT_TRUE(Get("alice", created.id(), &fetched).ok());
  EXPECT_EQ(fetched.SerializeAsString(), created.SerializeAsString());
}

TEST_F(CardApiTest, GetCardIsNotFoundForOtherUsersAndUnknownIds) {
  v1::Card created;
  ASSERT_TRUE(Create("alice", "Card", &created).ok());
  v1::Card fetched;
  EXPECT_EQ(Get("mallory", created.id(), &fetched).error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(Get("alice", "00000000-0000-0000-0000-000000000000", &fetched).error_code(),
            StatusCode::NOT_FOUND);
}

TEST_F(CardApiTest, GetCardRejectsBadInputNamingTheField) {
  v1::Card fetched;
  grpc::Status status = Get("", "00000000-0000-0000-0000-000000000000", &fetched);
  EXPECT_EQ(status.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "user_id");
  status = Get("alice", "not-a-uuid", &fetched);
  EXPECT_EQ(status.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "card_id");
}

TEST_F(CardApiTest, CreateCardRejectsEachInvalidFieldAndWritesNothing) {
  struct Case {
    std::string name;
    std::function<void(v1::CreateCardRequest&)> spoil;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"no user", [](auto& r) { r.clear_user_id(); }, "user_id"},
      {"long user", [](auto& r) { r.set_user_id(std::string(129, 'u')); }, "user_id"},
      {"space in user", [](auto& r) { r.set_user_id("a b"); }, "user_id"},
      {"no title", [](auto& r) { r.mutable_card()->clear_title(); }, "card.title"},
      {"long title", [](auto& r) { r.mutable_card()->set_title(std::string(101, 't')); },
       "card.title"},
      {"control character", [](auto& r) { r.mutable_card()->set_title("a\tb"); },
       "card.title"},
      {"long description",
       [](auto& r) { r.mutable_card()->set_description(std::string(101, 'd')); },
       "card.description"},
      {"unknown visibility",
       [](auto& r) { r.mutable_card()->set_visibility(static_cast<v1::Visibility>(7)); },
       "card.visibility"},
      {"link not a uuid", [](auto& r) { r.add_link_ids("github"); }, "link_ids[0]"},
      {"repeated link",
       [](auto& r) {
         r.add_link_ids("123e4567-e89b-12d3-a456-426614174000");
         r.add_link_ids("123e4567-e89b-12d3-a456-426614174000");
       },
       "link_ids[1]"},
      {"unknown link",
       [](auto& r) { r.add_link_ids("123e4567-e89b-12d3-a456-426614174000"); },
       "link_ids[0]"},
      {"long request id", [](auto& r) { r.set_request_id(std::string(129, 'r')); },
       "request_id"},
  };
  for (const Case& c : cases) {
    v1::CreateCardRequest request;
    request.set_user_id("alice");
    request.mutable_card()->set_title("Card");
    c.spoil(request);
    v1::Card card;
    grpc::Status status = stub_->CreateCard(Context().get(), request, &card);
    EXPECT_EQ(status.error_code(), StatusCode::INVALID_ARGUMENT) << c.name;
    EXPECT_EQ(ViolatedField(status), c.field) << c.name << ": " << status.error_message();
    EXPECT_NE(status.error_message().find(c.field), std::string::npos) << c.name;
  }
  EXPECT_EQ(CardRows(), 0);
  EXPECT_EQ(Query("SELECT count(*) FROM create_requests")[0][0].as<int>(), 0);
}

TEST_F(CardApiTest, CreateCardWithOwnLinksKeepsTheirOrder) {
  std::string first = InsertLink("alice");
  std::string second = InsertLink("alice");
  v1::CreateCardRequest request;
  request.set_user_id("alice");
  request.mutable_card()->set_title("Linked");
  request.add_link_ids(second);
  request.add_link_ids(first);
  v1::Card card;
  ASSERT_TRUE(stub_->CreateCard(Context().get(), request, &card).ok());
  ASSERT_EQ(card.links_size(), 2);
  EXPECT_EQ(card.links(0).id(), second);
  EXPECT_EQ(card.links(0).display_order(), 0);
  EXPECT_EQ(card.links(1).id(), first);
  EXPECT_EQ(card.links(1).display_order(), 1);
  EXPECT_EQ(card.links(0).url(), "https://github.com/octo");
  EXPECT_EQ(card.links(0).user_id(), "alice");
}

TEST_F(CardApiTest, CreateCardRefusesAnotherUsersLinkAndWritesNothing) {
  std::string bobs_link = InsertLink("bob");
  v1::CreateCardRequest request;
  request.set_user_id("alice");
  request.mutable_card()->set_title("Mine");
  request.add_link_ids(bobs_link);
  v1::Card card;
  grpc::Status status = stub_->CreateCard(Context().get(), request, &card);
  // Like an unknown id: which link ids exist is not the caller's to learn.
  EXPECT_EQ(status.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("link_ids[0]"), std::string::npos);
  EXPECT_EQ(CardRows(), 0);
}

TEST_F(CardApiTest, RetriedCreateWithSameRequestIdReturnsTheFirstCard) {
  v1::Card first, retried, other;
  ASSERT_TRUE(Create("alice", "Card", &first, "req-1").ok());
  ASSERT_TRUE(Create("alice", "Card", &retried, "req-1").ok());
  EXPECT_EQ(retried.id(), first.id());
  EXPECT_EQ(CardRows(), 1);
  // The key is per user: bob's "req-1" is a different request.
  ASSERT_TRUE(Create("bob", "Card", &other, "req-1").ok());
  EXPECT_NE(other.id(), first.id());
  // Same key, different content: refused, nothing written.
  grpc::Status status = Create("alice", "Other title", &other, "req-1");
  EXPECT_EQ(status.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("request_id"), std::string::npos);
  EXPECT_EQ(CardRows(), 2);
}

TEST_F(CardApiTest, ListCardsPagesOldestFirst) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    v1::Card card;
    ASSERT_TRUE(Create("alice", "Card " + std::to_string(i), &card).ok());
    ids.push_back(card.id());
  }
  v1::Card bobs;
  ASSERT_TRUE(Create("bob", "Not alice's", &bobs).ok());

  std::vector<std::string> listed;
  std::string token;
  int pages = 0;
  do {
    v1::ListCardsRequest request;
    request.set_user_id("alice");
    request.set_page_size(3);
    request.set_page_token(token);
    v1::ListCardsResponse response;
    ASSERT_TRUE(stub_->ListCards(Context().get(), request, &response).ok());
    EXPECT_LE(response.cards_size(), 3);
    for (const v1::Card& card : response.cards()) listed.push_back(card.id());
    token = response.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(listed, ids);
}

TEST_F(CardApiTest, ListCardsDefaultsTo50AndCapsAt1000) {
  Query(
      "INSERT INTO cards (id, user_id, title, description, slug, visibility, qr_enabled, "
      "is_default, create_time, update_time) "
      "SELECT gen_random_uuid(), 'bulk', 'c' || i, '', 'bulk-' || i, 1, false, i = 1, "
      "now() + i * interval '1 ms', now() FROM generate_series(1, 1100) i");
  v1::ListCardsRequest request;
  request.set_user_id("bulk");
  v1::ListCardsResponse response;
  ASSERT_TRUE(stub_->ListCards(Context().get(), request, &response).ok());
  EXPECT_EQ(response.cards_size(), 50);
  EXPECT_TRUE(response.cards(0).is_default());
  EXPECT_FALSE(response.next_page_token().empty());
  request.set_page_size(5000);
  response.Clear();
  ASSERT_TRUE(stub_->ListCards(Context().get(), request, &response).ok());
  EXPECT_EQ(response.cards_size(), 1000);
  request.set_page_token(response.next_page_token());
  response.Clear();
  ASSERT_TRUE(stub_->ListCards(Context().get(), request, &response).ok());
  EXPECT_EQ(response.cards_size(), 100);
  EXPECT_TRUE(response.next_page_token().empty());
}

TEST_F(CardApiTest, ListCardsOfUnknownUserIsEmpty) {
  v1::ListCardsRequest request;
  request.set_user_id("nobody");
  v1::ListCardsResponse response;
  ASSERT_TRUE(stub_->ListCards(Context().get(), request, &response).ok());
  EXPECT_EQ(response.cards_size(), 0);
  EXPECT_TRUE(response.next_page_token().empty());
}

TEST_F(CardApiTest, ListCardsRejectsBadInputNamingTheField) {
  v1::Card card;
  ASSERT_TRUE(Create("alice", "Card", &card).ok());
  ASSERT_TRUE(Create("alice", "Card 2", &card).ok());
  v1::ListCardsRequest request;
  v1::ListCardsResponse response;
  grpc::Status status = stub_->ListCards(Context().get(), request, &response);
  EXPECT_EQ(ViolatedField(status), "user_id");

  request.set_user_id("alice");
  request.set_page_size(-1);
  status = stub_->ListCards(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "page_size");

  request.set_page_size(1);
  request.set_page_token("garbage!");
  status = stub_->ListCards(Context().get(), request, &response);
  EXPECT_EQ(ViolatedField(status), "page_token");

  // A token from alice's list is no good for bob's.
  request.clear_page_token();
  ASSERT_TRUE(stub_->ListCards(Context().get(), request, &response).ok());
  ASSERT_FALSE(response.next_page_token().empty());
  request.set_user_id("bob");
  request.set_page_token(response.next_page_token());
  status = stub_->ListCards(Context().get(), request, &response);
  EXPECT_EQ(ViolatedField(status), "page_token");
}

TEST_F(CardApiTest, HealthIsServingWhileTheDatabaseAnswers) {
  for (const char* service : {"", "devcard.card.v1.CardService"}) {
    EXPECT_EQ(HealthOf(NewChannel(1), service), kServing) << service;
  }
}

}  // namespace
}  // namespace card::testing
