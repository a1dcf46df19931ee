// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// UpdateCard, DeleteCard, SetDefaultCard, GetDefaultCard, GetSharedCard and the
// platform-link RPCs: each behaviour and each listed error, checked through
// the typed client (client_) and in the database.
#include <functional>
#include <string>

#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/support/server_fixture.h"

namespace card::testing {
namespace {

class CardLifecycleTest : public CardServerTest {
 protected:
  void Configure(app::ServerConfig& options) override {
    options.service.request_id_sweep_interval = absl::Milliseconds(100);
  }

  v1::Card MustCreate(const std::string& user_id, const std::string& title,
                      v1::Visibility visibility = v1::VISIBILITY_UNSPECIFIED) {
    v1::CreateCardRequest request;
    request.set_user_id(user_id);
    request.mutable_card()->set_title(title);
    request.mutable_card()->set_visibility(visibility);
    v1::Card card;
    grpc::Status status = client_->CreateCard(request, &card);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return card;
  }

  v1::PlatformLink MustCreateLink(const std::string& user_id,
                                  const std::string& username) {
    v1::CreatePlatformLinkRequest request;
    request.set_user_id(user_id);
    request.mutable_link()->set_platform("github");
    request.mutable_link()->set_username(username);
    request.mutable_link()->set_url("https://github.com/" + username);
    v1::PlatformLink link;
    grpc::Status status = client_->CreatePlatformLink(request, &link);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return link;
  }

  grpc::Status Delete(const std::string& user_id, const std::string& card_id,
                      const std::string& etag = "") {
    v1::DeleteCardRequest request;
    request.set_user_id(user_id);
    request.set_card_id(card_id);
    request.set_etag(etag);
    return client_->DeleteCard(request);
  }

  grpc::Status SetDefault(const std::string& user_id, const std::string& card_id,
                          v1::Card* out) {
    v1::SetDefaultCardRequest request;
    request.set_user_id(user_id);
    request.set_card_id(card_id);
    return client_->SetDefaultCard(request, out);
  }

  grpc::Status GetDefault(const std::string& user_id, v1::Card* out) {
    v1::GetDefaultCardRequest request;
    request.set_user_id(user_id);
    return client_->GetDefaultCard(request, out);
  }

  std::string DefaultInDatabase(const std::string& user_id) {
    pqxx::result rows = Query("SELECT id FROM cards WHERE is_default AND user_id = " +
                              sql_->quote(user_id));
    return rows.empty() ? "" : rows[0][0].c_str();
  }

  static v1::UpdateCardRequest UpdateOf(const v1::Card& card,
                                        const std::vector<std::string>& paths) {
    v1::UpdateCardRequest request;
    request.set_user_id(card.user_id());
    *request.mutable_card() = card;
    for (const std::string& path : paths) request.mutable_update_mask()->add_paths(path);
    return request;
  }
};

TEST_F(CardLifecycleTest, UpdateChangesOnlyMaskedFieldsAndTheEtag) {
  v1::Card card = MustCreate("alice", "Old title");
  v1::UpdateCardRequest request = UpdateOf(card, {"title", "visibility", "qr_enabled"});
  request.mutable_card()->set_title("New title");
  request.mutable_card()->set_description("ignored: not in the mask");
  request.mutable_card()->set_visibility(v1::VISIBILITY_UNLISTED);
  request.mutable_card()->set_qr_enabled(true);
  v1::Card updated;
  ASSERT_TRUE(client_->UpdateCard(request, &updated).ok());
  EXPECT_EQ(updated.title(), "New title");
  EXPECT_EQ(updated.description(), "");
  EXPECT_EQ(updated.visibility(), v1::VISIBILITY_UNLISTED);
  EXPECT_TRUE(updated.qr_enabled());
  EXPECT_TRUE(updated.is_default());
  EXPECT_EQ(updated.slug(), card.slug());  // shared links stay valid
  EXPECT_NE(updated.etag(), card.etag());
  EXPECT_GE(updated.update_time().seconds(), card.update_time().seconds());

  request = UpdateOf(updated, {"description"});
  request.mutable_card()->set_description("Now described");
  ASSERT_TRUE(client_->UpdateCard(request, &updated).ok());
  EXPECT_EQ(updated.description(), "Now described");
  EXPECT_EQ(updated.title(), "New title");
}

TEST_F(CardLifecycleTest, UpdateWithStaleEtagIsAbortedAndChangesNothing) {
  v1::Card card = MustCreate("alice", "Title");
  v1::UpdateCardRequest first = UpdateOf(card, {"title"});
  first.mutable_card()->set_title("First writer");
  v1::Card updated;
  ASSERT_TRUE(client_->UpdateCard(first, &updated).ok());

  v1::UpdateCardRequest stale = UpdateOf(card, {"title"});  // carries the old etag
  stale.mutable_card()->set_title("Second writer");
  grpc::Status status = client_->UpdateCard(stale, &updated);
  EXPECT_EQ(status.error_code(), StatusCode::ABORTED) << status.error_message();
  EXPECT_EQ(Query("SELECT title FROM cards")[0][0].c_str(), std::string("First writer"));

  // Without an etag the write is unconditional.
  stale.mutable_card()->clear_etag();
  EXPECT_TRUE(client_->UpdateCard(stale, &updated).ok());
  EXPECT_EQ(updated.title(), "Second writer");
}

TEST_F(CardLifecycleTest, UpdateRejectsBadMasksAndFieldsNamingThem) {
  v1::Card card = MustCreate("alice", "Title");
  struct Case {
    std::vector<std::string> paths;
    std::function<void(v1::UpdateCardRequest&)> spoil;
    StatusCode code;
    std::string field;
  };
  auto none = [](v1::UpdateCardRequest&) {};
  const std::vector<Case> cases = {
      {{}, none, StatusCode::INVALID_ARGUMENT, "update_mask"},
      {{"colour"}, none, StatusCode::INVALID_ARGUMENT, "update_mask"},
      {{"is_default"}, none, StatusCode::INVALID_ARGUMENT, "update_mask"},
      {{"title", "title"}, none, StatusCode::INVALID_ARGUMENT, "update_mask"},
      {{"title"},
       [](auto& r) { r.mutable_card()->set_title(""); },
       StatusCode::INVALID_ARGUMENT,
       "card.title"},
      {{"description"},
       [](auto& r) { r.mutable_card()->set_description(std::string(101, 'd')); },
       StatusCode::INVALID_ARGUMENT,
       "card.description"},
      {{"visibility"},
       [](auto& r) { r.mutable_card()->set_visibility(v1::VISIBILITY_UNSPECIFIED); },
       StatusCode::INVALID_ARGUMENT,
       "card.visibility"},
      {{"title"},
       [](auto& r) { r.add_link_ids("123e4567-e89b-12d3-a456-426614174000"); },
       StatusCode::INVALID_ARGUMENT,
       "link_ids"},
      {{"links"},
       [](auto& r) {
         r.add_link_ids("123e4567-e89b-12d3-a456-426614174000");
         r.add_link_ids("123e4567-e89b-12d3-a456-426614174000");
       },
       StatusCode::INVALID_ARGUMENT,
       "link_ids[1]"},
      {{"title"},
       [](auto& r) { r.mutable_card()->set_etag("W/\"nonsense"); },
       StatusCode::INVALID_ARGUMENT,
       "card.etag"},
      {{"title"},
       [](auto& r) { r.mutable_card()->set_id("nope"); },
       StatusCode::INVALID_ARGUMENT,
       "card.id"},
      {{"title"},
       [](auto& r) { r.set_user_id(""); },
       StatusCode::INVALID_ARGUMENT,
       "user_id"},
      {{"title"},
       [](auto& r) { r.mutable_card()->set_id("00000000-0000-0000-0000-000000000000"); },
       StatusCode::NOT_FOUND,
       "card.id"},
      {{"title"},
       [](auto& r) { r.set_user_id("mallory"); },
       StatusCode::NOT_FOUND,
       "card.id"},
  };
  for (const Case& c : cases) {
    v1::UpdateCardRequest request = UpdateOf(card, c.paths);
    c.spoil(request);
    v1::Card out;
    grpc::Status status = client_->UpdateCard(request, &out);
    EXPECT_EQ(status.error_code(), c.code) << c.field << ": " << status.error_message();
    EXPECT_EQ(status.error_message().rfind(c.field + ":", 0), 0u)
        << status.error_message();
  }
  EXPECT_EQ(Query("SELECT version FROM cards")[0][0].as<int>(), 1);  // nothing written
}

TEST_F(CardLifecycleTest, UpdateLinksReplacesThemInOrder) {
  v1::PlatformLink a = MustCreateLink("alice", "a");
  v1::PlatformLink b = MustCreateLink("alice", "b");
  v1::PlatformLink c = MustCreateLink("alice", "c");
  v1::Card card = MustCreate("alice", "Linked");
  v1::UpdateCardRequest request = UpdateOf(card, {"links"});
  for (const auto* link : {&c, &a, &b}) request.add_link_ids(link->id());
  v1::Card updated;
  ASSERT_TRUE(client_->UpdateCard(request, &updated).ok());
  ASSERT_EQ(updated.links_size(), 3);
  EXPECT_EQ(updated.links(0).id(), c.id());
  EXPECT_EQ(updated.links(1).id(), a.id());
  EXPECT_EQ(updated.links(2).id(), b.id());
  EXPECT_EQ(updated.links(2).display_order(), 2);

  request = UpdateOf(updated, {"links"});
  request.add_link_ids(b.id());
  ASSERT_TRUE(client_->UpdateCard(request, &updated).ok());
  ASSERT_EQ(updated.links_size(), 1);
  EXPECT_EQ(updated.links(0).id(), b.id());

  request = UpdateOf(updated, {"links"});  // empty: no links
  ASSERT_TRUE(client_->UpdateCard(request, &updated).ok());
  EXPECT_EQ(updated.links_size(), 0);
  EXPECT_EQ(Query("SELECT count(*) FROM card_links")[0][0].as<int>(), 0);
}

TEST_F(CardLifecycleTest, UpdateLinksRefusesAnotherUsersLinkAndChangesNothing) {
  v1::PlatformLink mine = MustCreateLink("alice", "mine");
  v1::PlatformLink theirs = MustCreateLink("bob", "theirs");
  v1::Card card = MustCreate("alice", "Card");
  v1::UpdateCardRequest request = UpdateOf(card, {"links", "title"});
  request.mutable_card()->set_title("Changed");
  request.add_link_ids(mine.id());
  request.add_link_ids(theirs.id());
  v1::Card out;
  grpc::Status status = client_->UpdateCard(request, &out);
  EXPECT_EQ(status.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind("link_ids[1]:", 0), 0u)
      << status.error_message();
  EXPECT_EQ(Query("SELECT count(*) FROM card_links")[0][0].as<int>(), 0);
  EXPECT_EQ(Query("SELECT title FROM cards")[0][0].c_str(), std::string("Card"));
}

TEST_F(CardLifecycleTest, TooManyLinksIsInvalid) {
  v1::Card card = MustCreate("alice", "Card");
  v1::UpdateCardRequest request = UpdateOf(card, {"links"});
  for (int i = 0; i < 51; ++i) {
    char id[37];
    snprintf(id, sizeof id, "00000000-0000-0000-0000-%012d", i);
    request.add_link_ids(id);
  }
  v1::Card out;
  grpc::Status status = client_->UpdateCard(request, &out);
  EXPECT_EQ(status.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind("link_ids:", 0), 0u) << status.error_message();
}

TEST_F(CardLifecycleTest, DeletingTheDefaultPromotesTheOldestRemainingCard) {
  v1::Card first = MustCreate("alice", "First");
  v1::Card second = MustCreate("alice", "Second");
  v1::Card third = MustCreate("alice", "Third");
  ASSERT_TRUE(Delete("alice", first.id()).ok());
  EXPECT_EQ(DefaultInDatabase("alice"), second.id());
  v1::Card fetched;
  ASSERT_TRUE(GetDefault("alice", &fetched).ok());
  EXPECT_EQ(fetched.id(), second.id());
  EXPECT_NE(fetched.etag(), second.etag());  // promotion is a change

  // Deleting a card that is not the default leaves the default alone.
  ASSERT_TRUE(Delete("alice", third.id()).ok());
  EXPECT_EQ(DefaultInDatabase("alice"), second.id());
  EXPECT_EQ(Query("SELECT count(*) FROM cards")[0][0].as<int>(), 1);
}

TEST_F(CardLifecycleTest, TheLastCardCannotBeDeleted) {
  v1::Card only = MustCreate("alice", "Only");
  grpc::Status status = Delete("alice", only.id());
  EXPECT_EQ(status.error_code(), StatusCode::FAILED_PRECONDITION)
      << status.error_message();
  EXPECT_EQ(DefaultInDatabase("alice"), only.id());
}

TEST_F(CardLifecycleTest, DeleteChecksEtagOwnerAndInput) {
  v1::Card first = MustCreate("alice", "First");
  v1::Card second = MustCreate("alice", "Second");
  v1::Card changed;
  ASSERT_TRUE(SetDefault("alice", second.id(), &changed).ok());  // bumps second's etag
  EXPECT_EQ(Delete("alice", second.id(), second.etag()).error_code(),
            StatusCode::ABORTED);
  EXPECT_EQ(Delete("mallory", second.id()).error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(Delete("alice", "00000000-0000-0000-0000-000000000000").error_code(),
            StatusCode::NOT_FOUND);
  EXPECT_EQ(Delete("alice", "not-a-uuid").error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Delete("alice", second.id(), "garbage").error_code(),
            StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Query("SELECT count(*) FROM cards")[0][0].as<int>(), 2);
  EXPECT_TRUE(Delete("alice", second.id(), changed.etag()).ok());
  EXPECT_EQ(DefaultInDatabase("alice"), first.id());
}

TEST_F(CardLifecycleTest, RetryOfACreateWhoseCardWasDeletedIsRefused) {
  v1::Card keep = MustCreate("alice", "Keep");
  v1::Card card;
  ASSERT_TRUE(Create("alice", "Gone", &card, "req-gone").ok());
  ASSERT_TRUE(Delete("alice", card.id()).ok());
  grpc::Status status = Create("alice", "Gone", &card, "req-gone");
  EXPECT_EQ(status.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Query("SELECT count(*) FROM cards")[0][0].as<int>(), 1);
}

TEST_F(CardLifecycleTest, SetDefaultSwitchesAtomicallyAndIsIdempotent) {
  v1::Card first = MustCreate("alice", "First");
  v1::Card second = MustCreate("alice", "Second");
  v1::Card result;
  ASSERT_TRUE(SetDefault("alice", second.id(), &result).ok());
  EXPECT_TRUE(result.is_default());
  EXPECT_EQ(result.id(), second.id());
  EXPECT_EQ(DefaultInDatabase("alice"), second.id());
  EXPECT_EQ(Query("SELECT count(*) FROM cards WHERE is_default")[0][0].as<int>(), 1);

  v1::Card again;
  ASSERT_TRUE(SetDefault("alice", second.id(), &again).ok());
  EXPECT_EQ(again.etag(), result.etag());  // no change, no new etag

  // And back, in the other row order.
  ASSERT_TRUE(SetDefault("alice", first.id(), &result).ok());
  EXPECT_EQ(DefaultInDatabase("alice"), first.id());
}

TEST_F(CardLifecycleTest, SetDefaultErrors) {
  v1::Card card = MustCreate("alice", "Card");
  v1::Card out;
  EXPECT_EQ(SetDefault("mallory", card.id(), &out).error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(
      SetDefault("alice", "00000000-0000-0000-0000-000000000000", &out).error_code(),
      StatusCode::NOT_FOUND);
  EXPECT_EQ(SetDefault("alice", "bad", &out).error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(SetDefault("", card.id(), &out).error_code(), StatusCode::INVALID_ARGUMENT);
}

TEST_F(CardLifecycleTest, GetDefaultIsNotFoundWithoutCards) {
  v1::Card out;
  EXPECT_EQ(GetDefault("nobody", &out).error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(GetDefault("", &out).error_code(), StatusCode::INVALID_ARGUMENT);
  v1::Card card = MustCreate("alice", "Card");
  ASSERT_TRUE(GetDefault("alice", &out).ok());
  EXPECT_EQ(out.id(), card.id());
}

TEST_F(CardLifecycleTest, SharedCardsArePublicOrUnlistedOnly) {
  v1::Card public_card = MustCreate("alice", "Public", v1::VISIBILITY_PUBLIC);
  v1::Card unlisted = MustCreate("alice", "Unlisted", v1::VISIBILITY_UNLISTED);
  v1::Card hidden = MustCreate("alice", "Private", v1::VISIBILITY_PRIVATE);
  auto shared = [&](const std::string& slug, v1::SharedCard* out) {
    v1::GetSharedCardRequest request;
    request.set_slug(slug);
    return client_->GetSharedCard(request, out);
  };
  v1::SharedCard out;
  ASSERT_TRUE(shared(public_card.slug(), &out).ok());
  EXPECT_EQ(out.slug(), public_card.slug());
  EXPECT_EQ(out.title(), "Public");
  ASSERT_TRUE(shared(unlisted.slug(), &out).ok());
  EXPECT_EQ(out.slug(), unlisted.slug());
  EXPECT_EQ(out.visibility(), unlisted.visibility());
  grpc::Status private_status = shared(hidden.slug(), &out);
  grpc::Status unknown_status = shared("no-such-slug-12345678", &out);
  EXPECT_EQ(private_status.error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(unknown_status.error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(private_status.error_message(),
            unknown_status.error_message());  // reveals nothing
  EXPECT_EQ(shared("", &out).error_code(), StatusCode::INVALID_ARGUMENT);
}

// GetSharedCard answers anyone holding the slug: it carries what the card
// shows, and nothing that names the owner (user_id) or that the owner's calls
// take (card id, link ids, etag).
TEST_F(CardLifecycleTest, SharedCardCarriesOnlyThePublicView) {
  v1::PlatformLink first = MustCreateLink("alice-owner-7f3e", "octo");
  v1::PlatformLink second = MustCreateLink("alice-owner-7f3e", "cat");
  v1::CreateCardRequest create;
  create.set_user_id("alice-owner-7f3e");
  create.mutable_card()->set_title("Alice Doe");
  create.mutable_card()->set_description("Engineer");
  create.mutable_card()->set_visibility(v1::VISIBILITY_UNLISTED);
  create.mutable_card()->set_qr_enabled(true);
  create.add_link_ids(second.id());  // shown first
  create.add_link_ids(first.id());
  v1::Card card;
  ASSERT_TRUE(client_->CreateCard(create, &card).ok());

  v1::GetSharedCardRequest request;
  request.set_slug(card.slug());
  v1::SharedCard shared;
  grpc::Status status = client_->GetSharedCard(request, &shared);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(shared.title(), "Alice Doe");
  EXPECT_EQ(shared.description(), "Engineer");
  EXPECT_EQ(shared.slug(), card.slug());
  EXPECT_EQ(shared.visibility(), card.visibility());
  EXPECT_TRUE(shared.qr_enabled());
  ASSERT_EQ(shared.links_size(), 2);
  EXPECT_EQ(shared.links(0).platform(), "github");
  EXPECT_EQ(shared.links(0).username(), "cat");
  EXPECT_EQ(shared.links(0).url(), "https://github.com/cat");
  EXPECT_EQ(shared.links(1).username(), "octo");
  EXPECT_EQ(shared.links(1).url(), "https://github.com/octo");

  // Everything the server sent: a parsed message keeps fields it does not
  // know, so these bytes include any the schema above would not show.
  const std::string bytes = shared.SerializeAsString();
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(shared, &json, options).ok());
  EXPECT_EQ(shared.GetReflection()->GetUnknownFields(shared).field_count(), 0);
  for (const std::string& secret :
       {card.user_id(), card.id(), first.id(), second.id(), card.etag()}) {
    EXPECT_EQ(bytes.find(secret), std::string::npos) << secret;
    EXPECT_EQ(json.find(secret), std::string::npos) << secret << " in " << json;
  }
  for (const char* key : {"\"user_id\"", "\"id\"", "\"etag\"", "\"is_default\"",
                          "\"create_time\"", "\"update_time\"", "\"display_order\""}) {
    EXPECT_EQ(json.find(key), std::string::npos) << key << " in " << json;
  }

  // A client built when GetSharedCard returned Card reads the same bytes as a
  // Card: the shown fields land where they always did, the rest stays empty.
  v1::Card as_old_card;
  ASSERT_TRUE(as_old_card.ParseFromString(bytes));
  EXPECT_EQ(as_old_card.title(), "Alice Doe");
  EXPECT_EQ(as_old_card.slug(), card.slug());
  EXPECT_TRUE(as_old_card.qr_enabled());
  ASSERT_EQ(as_old_card.links_size(), 2);
  EXPECT_EQ(as_old_card.links(0).url(), "https://github.com/cat");
  EXPECT_EQ(as_old_card.id(), "");
  EXPECT_EQ(as_old_card.user_id(), "");
  EXPECT_EQ(as_old_card.etag(), "");
  EXPECT_EQ(as_old_card.links(0).id(), "");

  // A card without links is one row with NULL link columns: no empty link.
  v1::Card bare = MustCreate("alice-owner-7f3e", "Bare", v1::VISIBILITY_PUBLIC);
  request.set_slug(bare.slug());
  ASSERT_TRUE(client_->GetSharedCard(request, &shared).ok());
  EXPECT_EQ(shared.title(), "Bare");
  EXPECT_EQ(shared.links_size(), 0);
}

// Which link ids exist must not be learnable from CreateCard or UpdateCard: a
// link of another user and an id no link has get the same answer (code,
// message, BadRequest detail), and nothing is written either way.
TEST_F(CardLifecycleTest, AnotherUsersLinkAndAnUnknownLinkAnswerAlike) {
  v1::PlatformLink mine = MustCreateLink("alice", "mine");
  v1::PlatformLink bobs = MustCreateLink("bob", "theirs");
  const std::string unknown = "0b1e2c3d-4f50-4a6b-8c7d-9e0f1a2b3c4d";
  auto create = [&](const std::string& link_id) {
    v1::CreateCardRequest request;
    request.set_user_id("alice");
    request.mutable_card()->set_title("Card");
    request.add_link_ids(mine.id());
    request.add_link_ids(link_id);
    v1::Card out;
    return client_->CreateCard(request, &out);
  };
  auto expect_alike = [](const grpc::Status& theirs, const grpc::Status& none) {
    EXPECT_EQ(theirs.error_code(), StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(theirs.error_code(), none.error_code());
    EXPECT_EQ(theirs.error_message(), none.error_message());
    EXPECT_EQ(theirs.error_message().rfind("link_ids[1]:", 0), 0u)
        << theirs.error_message();
    EXPECT_EQ(theirs.error_details(), none.error_details());
    google::rpc::Status details;
    google::rpc::BadRequest bad_request;
    ASSERT_TRUE(details.ParseFromString(theirs.error_details()));
    ASSERT_EQ(details.details_size(), 1);
    ASSERT_TRUE(details.details(0).UnpackTo(&bad_request));
    ASSERT_EQ(bad_request.field_violations_size(), 1);
    EXPECT_EQ(bad_request.field_violations(0).field(), "link_ids[1]");
  };
  expect_alike(create(bobs.id()), create(unknown));
  EXPECT_EQ(Query("SELECT count(*) FROM cards")[0][0].as<int>(), 0);

  v1::Card card = MustCreate("alice", "Card");
  auto update = [&](const std::string& link_id) {
    v1::UpdateCardRequest request = UpdateOf(card, {"links", "title"});
    request.mutable_card()->set_title("Changed");
    request.add_link_ids(mine.id());
    request.add_link_ids(link_id);
    v1::Card out;
    return client_->UpdateCard(request, &out);
  };
  expect_alike(update(bobs.id()), update(unknown));
  EXPECT_EQ(Query("SELECT count(*) FROM card_links")[0][0].as<int>(), 0);
  EXPECT_EQ(Query("SELECT title FROM cards")[0][0].c_str(), std::string("Card"));
}

TEST_F(CardLifecycleTest, PlatformLinksAreValidated) {
  struct Case {
    std::function<void(v1::PlatformLink&)> spoil;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& l) { l.clear_platform(); }, "link.platform"},
      {[](auto& l) { l.set_platform(std::string(51, 'p')); }, "link.platform"},
      {[](auto& l) { l.clear_username(); }, "link.username"},
      {[](auto& l) { l.set_username(std::string(101, 'u')); }, "link.username"},
      {[](auto& l) { l.clear_url(); }, "link.url"},
      {[](auto& l) { l.set_url("ftp://example.com/x"); }, "link.url"},
      {[](auto& l) { l.set_url("javascript:alert(1)"); }, "link.url"},
      {[](auto& l) { l.set_url("https://"); }, "link.url"},
      {[](auto& l) { l.set_url("https://exa mple.com"); }, "link.url"},
      {[](auto& l) { l.set_url("https://example.com/" + std::string(2030, 'x')); },
       "link.url"},
      {[](auto& l) { l.set_display_order(-1); }, "link.display_order"},
  };
  for (const Case& c : cases) {
    v1::CreatePlatformLinkRequest request;
    request.set_user_id("alice");
    request.mutable_link()->set_platform("github");
    request.mutable_link()->set_username("octo");
    request.mutable_link()->set_url("https://github.com/octo");
    c.spoil(*request.mutable_link());
    v1::PlatformLink out;
    grpc::Status status = client_->CreatePlatformLink(request, &out);
    EXPECT_EQ(status.error_code(), StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_EQ(status.error_message().rfind(c.field + ":", 0), 0u)
        << status.error_message();
  }
  EXPECT_EQ(Query("SELECT count(*) FROM platform_links")[0][0].as<int>(), 0);
}

TEST_F(CardLifecycleTest, PlatformLinksListInPagesOldestFirst) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(MustCreateLink("alice", "u" + std::to_string(i)).id());
  MustCreateLink("bob", "not-alice");
  std::vector<std::string> listed;
  std::string token;
  int pages = 0;
  do {
    v1::ListPlatformLinksRequest request;
    request.set_user_id("alice");
    request.set_page_size(2);
    request.set_page_token(token);
    v1::ListPlatformLinksResponse response;
    ASSERT_TRUE(client_->ListPlatformLinks(request, &response).ok());
    for (const auto& link : response.links()) {
      listed.push_back(link.id());
      EXPECT_EQ(link.user_id(), "alice");
      EXPECT_EQ(link.platform(), "github");
    }
    token = response.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(listed, ids);

  v1::ListPlatformLinksRequest bad;
  bad.set_user_id("bob");
  bad.set_page_token(token.empty() ? "x" : token);
  v1::ListPlatformLinksResponse response;
  EXPECT_EQ(client_->ListPlatformLinks(bad, &response).error_code(),
            StatusCode::INVALID_ARGUMENT);
}

TEST_F(CardLifecycleTest, DeletingALinkRemovesItFromEveryCard) {
  v1::PlatformLink a = MustCreateLink("alice", "a");
  v1::PlatformLink b = MustCreateLink("alice", "b");
  std::vector<v1::Card> cards;
  for (int i = 0; i < 2; ++i) {
    v1::Card card = MustCreate("alice", "Card");
    v1::UpdateCardRequest request = UpdateOf(card, {"links"});
    request.add_link_ids(a.id());
    request.add_link_ids(b.id());
    ASSERT_TRUE(client_->UpdateCard(request, &card).ok());
    cards.push_back(card);
  }
  v1::DeletePlatformLinkRequest request;
  request.set_user_id("alice");
  request.set_link_id(a.id());
  ASSERT_TRUE(client_->DeletePlatformLink(request).ok());
  for (const v1::Card& before : cards) {
    v1::Card after;
    ASSERT_TRUE(Get("alice", before.id(), &after).ok());
    ASSERT_EQ(after.links_size(), 1);
    EXPECT_EQ(after.links(0).id(), b.id());
    EXPECT_EQ(after.links(0).display_order(), 0);
    EXPECT_NE(after.etag(), before.etag());
  }
  EXPECT_EQ(client_->DeletePlatformLink(request).error_code(), StatusCode::NOT_FOUND);
  request.set_user_id("mallory");
  request.set_link_id(b.id());
  EXPECT_EQ(client_->DeletePlatformLink(request).error_code(), StatusCode::NOT_FOUND);
  request.set_link_id("nope");
  EXPECT_EQ(client_->DeletePlatformLink(request).error_code(),
            StatusCode::INVALID_ARGUMENT);
}

TEST_F(CardLifecycleTest, RequestIdsExpireAfterTheRetentionOnly) {
  v1::Card card;
  ASSERT_TRUE(Create("alice", "Fresh", &card, "fresh").ok());
  ASSERT_TRUE(Create("alice", "Old", &card, "old").ok());
  Query(
      "UPDATE create_requests SET create_time = now() - interval '49 hours' "
      "WHERE request_id = 'old'");
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (Query("SELECT count(*) FROM create_requests WHERE request_id = 'old'")[0][0]
                 .as<int>() > 0 &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(Query("SELECT count(*) FROM create_requests WHERE request_id = 'old'")[0][0]
                .as<int>(),
            0);
  EXPECT_EQ(Query("SELECT count(*) FROM create_requests WHERE request_id = 'fresh'")[0][0]
                .as<int>(),
            1);
}

}  // namespace
}  // namespace card::testing
