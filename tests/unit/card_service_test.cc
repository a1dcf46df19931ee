// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The service's rules without a database: update masks, paging and page
// tokens, etags, the deadline cap, and "invalid input writes nothing". The SQL
// behind the repository is covered by the *_pgtest binaries.
#include "server/service/card_service.h"

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/common/status.h"
#include "server/service/etag.h"
#include "tests/support/fake_repository.h"

namespace card::service {
namespace {

using ::card::testing::FakeRepository;

constexpr char kUser[] = "alice";

class CardServiceTest : public ::testing::Test {
 protected:
  CardServiceTest() : service_(&repository_, Options()) {}

  static ServiceOptions Options() {
    ServiceOptions options;
    options.max_request_time = absl::Seconds(10);
    options.request_id_retention = absl::Hours(30);
    return options;
  }

  absl::Time Deadline() const { return absl::Now() + absl::Seconds(5); }

  model::Card Create(const std::string& title, const std::string& user = kUser) {
    model::NewCard card;
    card.user_id = user;
    card.title = title;
    absl::StatusOr<model::Card> created = service_.CreateCard(card, Deadline());
    EXPECT_TRUE(created.ok()) << created.status();
    return created.value_or(model::Card{});
  }

  model::CardPatch Patch(const model::Card& card, std::vector<std::string> paths) {
    model::CardPatch patch;
    patch.user_id = card.user_id;
    patch.card_id = card.id;
    patch.update_paths = std::move(paths);
    return patch;
  }

  // Expects INVALID_ARGUMENT naming `field`, and that the repository was not asked.
  void ExpectRefused(const absl::Status& status, const std::string& field,
                     int calls_before) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_EQ(ErrorField(status).value_or(""), field) << status;
    EXPECT_EQ(repository_.calls, calls_before) << "invalid input reached the repository";
  }

  FakeRepository repository_;
  CardService service_;
};

TEST_F(CardServiceTest, UpdateChangesOnlyTheFieldsTheMaskNames) {
  model::Card card = Create("Old title");
  model::CardPatch patch = Patch(card, {"title"});
  patch.title = "New title";
  patch.description = "ignored: not in the mask";
  patch.qr_enabled = true;
  absl::StatusOr<model::Card> updated = service_.UpdateCard(patch, Deadline());
  ASSERT_TRUE(updated.ok()) << updated.status();
  ASSERT_TRUE(repository_.last_update.has_value());
  EXPECT_EQ(repository_.last_update->title, "New title");
  EXPECT_FALSE(repository_.last_update->description.has_value());
  EXPECT_FALSE(repository_.last_update->qr_enabled.has_value());
  EXPECT_FALSE(repository_.last_update->visibility.has_value());
  EXPECT_FALSE(repository_.last_update->link_ids.has_value());
  EXPECT_EQ(updated->description, "");
}

TEST_F(CardServiceTest, UpdateMaskCanClearAndSetFieldsToTheirZeroValues) {
  model::Card card = Create("Title");
  model::CardPatch patch = Patch(card, {"description", "qr_enabled", "links"});
  ASSERT_TRUE(service_.UpdateCard(patch, Deadline()).ok());
  EXPECT_EQ(repository_.last_update->description, "");
  EXPECT_EQ(repository_.last_update->qr_enabled, false);
  ASSERT_TRUE(repository_.last_update->link_ids.has_value());
  EXPECT_TRUE(repository_.last_update->link_ids->empty());
}

TEST_F(CardServiceTest, UpdateMaskMistakesAreRefusedBeforeAnythingIsWritten) {
  model::Card card = Create("Title");
  int calls = repository_.calls;
  ExpectRefused(service_.UpdateCard(Patch(card, {}), Deadline()).status(), "update_mask",
                calls);
  ExpectRefused(service_.UpdateCard(Patch(card, {"colour"}), Deadline()).status(),
                "update_mask", calls);
  model::CardPatch repeated = Patch(card, {"title", "title"});
  repeated.title = "T";
  ExpectRefused(service_.UpdateCard(repeated, Deadline()).status(), "update_mask", calls);
  ExpectRefused(service_.UpdateCard(Patch(card, {"is_default"}), Deadline()).status(),
                "update_mask", calls);
  model::CardPatch links_without_path = Patch(card, {"title"});
  links_without_path.title = "T";
  links_without_path.link_ids = {"123e4567-e89b-12d3-a456-426614174000"};
  ExpectRefused(service_.UpdateCard(links_without_path, Deadline()).status(), "link_ids",
                calls);
  model::CardPatch empty_title = Patch(card, {"title"});
  ExpectRefused(service_.UpdateCard(empty_title, Deadline()).status(), "card.title",
                calls);
  model::CardPatch unspecified_visibility = Patch(card, {"visibility"});
  ExpectRefused(service_.UpdateCard(unspecified_visibility, Deadline()).status(),
                "card.visibility", calls);
}

TEST_F(CardServiceTest, EtagOfACardIsTheVersionTheRepositoryChecks) {
  model::Card card = Create("Title");
  model::CardPatch patch = Patch(card, {"title"});
  patch.title = "Second";
  patch.etag = EtagForVersion(card.version);
  absl::StatusOr<model::Card> updated = service_.UpdateCard(patch, Deadline());
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(repository_.last_update->expected_version, card.version);
  EXPECT_GT(updated->version, card.version);

  // The same etag again is stale now.
  patch.title = "Third";
  EXPECT_EQ(service_.UpdateCard(patch, Deadline()).status().code(),
            absl::StatusCode::kAborted);

  // No etag: no check.
  patch.etag = "";
  ASSERT_TRUE(service_.UpdateCard(patch, Deadline()).ok());
  EXPECT_EQ(repository_.last_update->expected_version, 0);
}

TEST_F(CardServiceTest, MalformedEtagsAreInvalidArgumentsNamingTheField) {
  model::Card card = Create("Title");
  int calls = repository_.calls;
  for (const char* etag : {"7", "\"0\"", "\"-3\"", "\"x\"", "W/\"1\""}) {
    model::CardPatch patch = Patch(card, {"qr_enabled"});
    patch.etag = etag;
    ExpectRefused(service_.UpdateCard(patch, Deadline()).status(), "card.etag", calls);
    ExpectRefused(service_.DeleteCard(kUser, card.id, etag, Deadline()), "etag", calls);
  }
}

TEST_F(CardServiceTest, PagesCoverEveryCardOnceInCreationOrder) {
  std::vector<std::string> created;
  for (int i = 0; i < 5; ++i) created.push_back(Create("Card " + std::to_string(i)).id);
  Create("Someone else's", "bob");

  std::vector<std::string> listed;
  std::vector<size_t> page_sizes;
  std::string token;
  do {
    absl::StatusOr<model::CardPage> page =
        service_.ListCards(kUser, 2, token, Deadline());
    ASSERT_TRUE(page.ok()) << page.status();
    page_sizes.push_back(page->cards.size());
    for (const model::Card& card : page->cards) listed.push_back(card.id);
    token = page->next_page_token;
  } while (!token.empty() && page_sizes.size() < 10);
  EXPECT_EQ(listed, created);
  EXPECT_EQ(page_sizes, (std::vector<size_t>{2, 2, 1}));
}

TEST_F(CardServiceTest, AFullLastPageHasNoNextToken) {
  for (int i = 0; i < 4; ++i) Create("Card");
  absl::StatusOr<model::CardPage> first = service_.ListCards(kUser, 2, "", Deadline());
  ASSERT_TRUE(first.ok());
  absl::StatusOr<model::CardPage> second =
      service_.ListCards(kUser, 2, first->next_page_token, Deadline());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->cards.size(), 2u);
  EXPECT_EQ(second->next_page_token, "");
}

TEST_F(CardServiceTest, PageSizeDefaultsAndIsCapped) {
  Create("Card");
  ASSERT_TRUE(service_.ListCards(kUser, 0, "", Deadline()).ok());
  EXPECT_EQ(repository_.last_limit, kDefaultPageSize + 1);  // one extra: is there more?
  // A large page is read kFetchBatch at a time (plus one: is there more?).
  ASSERT_TRUE(service_.ListCards(kUser, 100000, "", Deadline()).ok());
  EXPECT_EQ(repository_.last_limit, static_cast<int>(kFetchBatch) + 1);
  int calls = repository_.calls;
  ExpectRefused(service_.ListCards(kUser, -1, "", Deadline()).status(), "page_size",
                calls);
}

TEST_F(CardServiceTest, PageTokensOnlyWorkForTheListTheyCameFrom) {
  for (int i = 0; i < 3; ++i) Create("Card");
  absl::StatusOr<model::CardPage> page = service_.ListCards(kUser, 1, "", Deadline());
  ASSERT_TRUE(page.ok());
  ASSERT_FALSE(page->next_page_token.empty());
  int calls = repository_.calls;
  ExpectRefused(service_.ListCards("bob", 1, page->next_page_token, Deadline()).status(),
                "page_token", calls);
  ExpectRefused(
      service_.ListPlatformLinks(kUser, 1, page->next_page_token, Deadline()).status(),
      "page_token", calls);
  ExpectRefused(service_.ListCards(kUser, 1, "not-a-token", Deadline()).status(),
                "page_token", calls);
}

TEST_F(CardServiceTest, LinksPageLikeCards) {
  for (int i = 0; i < 3; ++i) {
    model::NewPlatformLink link;
    link.user_id = kUser;
    link.platform = "github";
    link.username = "alice";
    link.url = "https://github.com/alice";
    ASSERT_TRUE(service_.CreatePlatformLink(link, Deadline()).ok());
  }
  absl::StatusOr<model::LinkPage> first =
      service_.ListPlatformLinks(kUser, 2, "", Deadline());
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->links.size(), 2u);
  absl::StatusOr<model::LinkPage> rest =
      service_.ListPlatformLinks(kUser, 2, first->next_page_token, Deadline());
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(rest->links.size(), 1u);
  EXPECT_EQ(rest->next_page_token, "");
}

TEST_F(CardServiceTest, RequestDeadlineIsTheCallersButNeverBeyondTheCap) {
  absl::Time before = absl::Now();
  absl::Time capped = service_.RequestDeadline(absl::InfiniteFuture());
  EXPECT_GE(capped, before + absl::Seconds(10));
  EXPECT_LE(capped, absl::Now() + absl::Seconds(10));
  absl::Time soon = absl::Now() + absl::Seconds(2);
  EXPECT_EQ(service_.RequestDeadline(soon), soon);
}

TEST_F(CardServiceTest, TheRepositoryGetsTheDeadlineItWasGiven) {
  absl::Time deadline = absl::Now() + absl::Milliseconds(1234);
  model::NewCard card;
  card.user_id = kUser;
  card.title = "Title";
  ASSERT_TRUE(service_.CreateCard(card, deadline).ok());
  ASSERT_TRUE(service_.GetDefaultCard(kUser, deadline).ok());
  EXPECT_EQ(repository_.deadlines, (std::vector<absl::Time>{deadline, deadline}));
}

TEST_F(CardServiceTest, ExpiringRequestIdsWorksInCappedBatches) {
  repository_.expire_answers = {1000, 1000, 7};
  absl::Time before = absl::Now();
  absl::StatusOr<int> expired = service_.ExpireRequestIds();
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(*expired, 2007);
  EXPECT_EQ(repository_.calls, 3);  // stops at the first short batch
  EXPECT_EQ(repository_.last_expire_age, absl::Hours(30));
  for (absl::Time deadline : repository_.deadlines) {
    EXPECT_LE(deadline, absl::Now() + absl::Seconds(10));
    EXPECT_GE(deadline, before + absl::Seconds(10));
  }
}

TEST_F(CardServiceTest, InvalidCreatesWriteNothing) {
  model::NewCard card;
  card.user_id = kUser;
  card.title = "Title";
  card.visibility = static_cast<model::Visibility>(9);
  ExpectRefused(service_.CreateCard(card, Deadline()).status(), "card.visibility", 0);
  card.visibility = model::Visibility::kUnspecified;
  card.link_ids = {"not-a-uuid"};
  ExpectRefused(service_.CreateCard(card, Deadline()).status(), "link_ids[0]", 0);
  card.link_ids.clear();
  card.user_id = "";
  ExpectRefused(service_.CreateCard(card, Deadline()).status(), "user_id", 0);
}

TEST_F(CardServiceTest, CreateDefaultsVisibilityAndDerivesTheSlugFromTheTitle) {
  model::Card card = Create("Hello, World!");
  EXPECT_EQ(card.visibility, model::Visibility::kPublic);
  EXPECT_EQ(card.slug, "hello-world-fake");
}

}  // namespace
}  // namespace card::service
