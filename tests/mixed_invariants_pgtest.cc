// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Thousands of mixed calls in flight for a handful of users — creates (some
// retried concurrently with the same request_id), set-default, deletes, link
// replacements, platform-link creates and deletes — then the promise checked
// by SQL straight against the database:
//   * every user with cards has exactly one default;
//   * no card shows another user's link;
//   * no request_id made two cards;
//   * every acknowledged create is there unless acknowledged deleted, and no
//     acknowledged delete is.
// With the per-user lock removed (CARD_TEST_SABOTAGE=no-lock, a ctest negative
// control) this test fails.
#include <map>
#include <random>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/support/in_flight.h"
#include "tests/support/server_fixture.h"

namespace card::testing {
namespace {

constexpr int kUsers = 5;
constexpr int kChannels = 8;
constexpr int kWaves = 3;
constexpr int kCallsPerWave = 1500;

std::string User(int n) { return absl::StrCat("mixed-user-", n); }

class MixedInvariantsTest : public CardServerTest {
 protected:
  void Configure(app::ServerConfig& options) override {
    options.database.repository.pool_size = options.scheduler.workers = 16;
    options.service.max_request_time = absl::Seconds(30);
  }
  int Replicas() const override { return 3; }

  void SetUp() override {
    CardServerTest::SetUp();
    for (int i = 0; i < kChannels; ++i) {
      auto channel = NewChannel(200 + i);
      channel->WaitForConnected(std::chrono::system_clock::now() +
                                std::chrono::seconds(10));
      stubs_.push_back(v1::CardService::NewStub(channel));
    }
  }

  v1::CardService::Stub* AnyStub() { return stubs_[rng_() % stubs_.size()].get(); }

  // One wave: every call is started before any answer is awaited.
  void RunWave(int wave);

  // Records an unexpected status (anything but the codes a call may legitimately get).
  void Expect(const grpc::Status& status, std::initializer_list<StatusCode> allowed,
              const std::string& what) {
    if (status.ok()) return;
    for (StatusCode code : allowed) {
      if (status.error_code() == code) return;
    }
    unexpected_.push_back(
        absl::StrCat(what, ": ", status.error_code(), " ", status.error_message()));
  }

  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[rng_() % items.size()];
  }

  std::mt19937 rng_{20261129};
  std::vector<std::unique_ptr<v1::CardService::Stub>> stubs_;
  // What the calls reported (guarded by InFlight's serialisation of callbacks).
  std::map<std::string, std::vector<std::string>>
      cards_by_user_;  // acknowledged, may be stale
  std::map<std::string, std::vector<std::string>> links_by_user_;
  std::set<std::string> acked_created_, acked_deleted_;
  std::map<std::string, std::set<std::string>> card_ids_by_request_;
  std::vector<std::string> unexpected_;
  int next_request_ = 0;
};

void MixedInvariantsTest::RunWave(int wave) {
  InFlight calls(std::chrono::seconds(120));
  for (int n = 0; n < kCallsPerWave; ++n) {
    std::string user = User(rng_() % kUsers);
    const std::vector<std::string>& cards = cards_by_user_[user];
    const std::vector<std::string>& links = links_by_user_[user];
    int roll = static_cast<int>(rng_() % 100);
    if (wave == 0 && roll < 60) roll = 0;  // the first wave mostly creates

    if (roll < 30 || cards.empty()) {
      // Create, and a quarter of the time the same request 3 times at once.
      std::string request_id = absl::StrCat("req-", next_request_++);
      v1::CreateCardRequest request;
      request.set_user_id(user);
      request.mutable_card()->set_title(absl::StrCat("Card ", request_id));
      request.mutable_card()->set_description(request_id);
      request.set_request_id(request_id);
      int sends = rng_() % 4 == 0 ? 3 : 1;
      for (int i = 0; i < sends; ++i) {
        auto* stub = AnyStub();
        calls.Start<v1::CreateCardRequest, v1::Card>(
            [stub](auto... a) { stub->async()->CreateCard(a...); }, request,
            [this, request_id](const grpc::Status& status, const v1::Card& card) {
              Expect(status, {}, "CreateCard");
              if (!status.ok()) return;
              acked_created_.insert(card.id());
              card_ids_by_request_[request_id].insert(card.id());
            });
      }
    } else if (roll < 45) {
      v1::SetDefaultCardRequest request;
      request.set_user_id(user);
      request.set_card_id(Pick(cards));
      auto* stub = AnyStub();
      calls.Start<v1::SetDefaultCardRequest, v1::Card>(
          [stub](auto... a) { stub->async()->SetDefaultCard(a...); }, request,
          [this](const grpc::Status& status, const v1::Card& card) {
            Expect(status, {StatusCode::NOT_FOUND}, "SetDefaultCard");
            if (status.ok() && !card.is_default())
              unexpected_.push_back("SetDefault not default");
          });
    } else if (roll < 60) {
      v1::DeleteCardRequest request;
      request.set_user_id(user);
      request.set_card_id(Pick(cards));
      auto* stub = AnyStub();
      calls.Start<v1::DeleteCardRequest, google::protobuf::Empty>(
          [stub](auto... a) { stub->async()->DeleteCard(a...); }, request,
          [this, card_id = request.card_id()](const grpc::Status& status,
                                              const google::protobuf::Empty&) {
            Expect(status, {StatusCode::NOT_FOUND, StatusCode::FAILED_PRECONDITION},
                   "DeleteCard");
            if (status.ok()) acked_deleted_.insert(card_id);
          });
    } else if (roll < 75) {
      // Replace a card's links with a few of the user's links (some may be
      // deleted meanwhile), now and then with another user's link.
      v1::UpdateCardRequest request;
      request.set_user_id(user);
      request.mutable_card()->set_id(Pick(cards));
      request.mutable_update_mask()->add_paths("links");
      std::set<std::string> chosen;
      for (int i = 0, count = links.empty() ? 0 : static_cast<int>(rng_() % 4); i < count;
           ++i) {
        chosen.insert(Pick(links));
      }
      bool foreign = rng_() % 10 == 0;
      const std::vector<std::string>& others = links_by_user_[User((rng_() % kUsers))];
      if (foreign && !others.empty()) chosen.insert(Pick(others));
      for (const std::string& id : chosen) request.add_link_ids(id);
      auto* stub = AnyStub();
      calls.Start<v1::UpdateCardRequest, v1::Card>(
          [stub](auto... a) { stub->async()->UpdateCard(a...); }, request,
          [this](const grpc::Status& status, const v1::Card&) {
            // NOT_FOUND: card deleted meanwhile; INVALID_ARGUMENT: a link was;
            // PERMISSION_DENIED: the foreign link.
            Expect(status,
                   {StatusCode::NOT_FOUND, StatusCode::INVALID_ARGUMENT,
                    StatusCode::PERMISSION_DENIED},
                   "UpdateCard");
          });
    } else if (roll < 88 || links.empty()) {
      v1::CreatePlatformLinkRequest request;
      request.set_user_id(user);
      request.mutable_link()->set_platform("github");
      request.mutable_link()->set_username(absl::StrCat("u", n));
      request.mutable_link()->set_url(absl::StrCat("https://github.com/u", n));
      auto* stub = AnyStub();
      calls.Start<v1::CreatePlatformLinkRequest, v1::PlatformLink>(
          [stub](auto... a) { stub->async()->CreatePlatformLink(a...); }, request,
          [this](const grpc::Status& status, const v1::PlatformLink&) {
            Expect(status, {}, "CreatePlatformLink");
          });
    } else {
      v1::DeletePlatformLinkRequest request;
      request.set_user_id(user);
      request.set_link_id(Pick(links));
      auto* stub = AnyStub();
      calls.Start<v1::DeletePlatformLinkRequest, google::protobuf::Empty>(
          [stub](auto... a) { stub->async()->DeletePlatformLink(a...); }, request,
          [this](const grpc::Status& status, const google::protobuf::Empty&) {
            Expect(status, {StatusCode::NOT_FOUND}, "DeletePlatformLink");
          });
    }
  }
  calls.Wait();

  // What the next wave aims at: the cards and links as they are now.
  cards_by_user_.clear();
  links_by_user_.clear();
  for (const pqxx::row& row : Query("SELECT user_id, id FROM cards")) {
    cards_by_user_[row[0].c_str()].push_back(row[1].c_str());
  }
  for (const pqxx::row& row : Query("SELECT user_id, id FROM platform_links")) {
    links_by_user_[row[0].c_str()].push_back(row[1].c_str());
  }
}

TEST_F(MixedInvariantsTest, EveryInvariantHoldsAfterThousandsOfMixedCalls) {
  for (int wave = 0; wave < kWaves; ++wave) RunWave(wave);

  EXPECT_TRUE(unexpected_.empty())
      << unexpected_.size() << " unexpected statuses, first: " << unexpected_.front();
  // Exactly one default per user with cards.
  for (const pqxx::row& row :
       Query("SELECT user_id, count(*) FILTER (WHERE is_default) FROM cards "
             "GROUP BY user_id HAVING count(*) FILTER (WHERE is_default) <> 1")) {
    ADD_FAILURE() << row[0].c_str() << " has " << row[1].c_str() << " defaults";
  }
  // No card shows another user's link.
  EXPECT_EQ(
      Query(
          "SELECT count(*) FROM card_links cl JOIN cards c ON c.id = cl.card_id "
          "JOIN platform_links l ON l.id = cl.link_id WHERE c.user_id <> l.user_id")[0][0]
          .as<int>(),
      0);
  // No request_id made two cards: in the database...
  for (const pqxx::row& row : Query("SELECT description, count(*) FROM cards "
                                    "GROUP BY description HAVING count(*) > 1")) {
    ADD_FAILURE() << "request " << row[0].c_str() << " made " << row[1].c_str()
                  << " cards";
  }
  // ...nor in what the retries were told.
  for (const auto& [request_id, ids] : card_ids_by_request_) {
    EXPECT_EQ(ids.size(), 1u) << request_id << " acknowledged with " << ids.size()
                              << " ids";
  }
  // Every acknowledged create is there unless acknowledged deleted; no
  // acknowledged delete is; nothing is there that was never acknowledged.
  std::set<std::string> present;
  for (const pqxx::row& row : Query("SELECT id FROM cards"))
    present.insert(row[0].c_str());
  for (const std::string& id : acked_created_) {
    EXPECT_EQ(present.count(id), acked_deleted_.count(id) ? 0u : 1u) << id;
  }
  for (const std::string& id : present) EXPECT_EQ(acked_created_.count(id), 1u) << id;
  EXPECT_EQ(present.size(), acked_created_.size() - acked_deleted_.size());
  EXPECT_GT(acked_deleted_.size(), 50u);  // the mix really did delete
}

}  // namespace
}  // namespace card::testing
