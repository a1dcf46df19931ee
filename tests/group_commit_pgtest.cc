// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Group commit (issue 11): the CreateCard calls that queue for one user while
// that user's previous transaction runs are committed together, in one
// transaction, with a result each. The test holds the user's advisory lock
// from its own connection so that calls pile up in the user's queue behind a
// blocked one, then lets go and checks what each call got and what the
// database holds.
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/server_fixture.h"

namespace card::testing {
namespace {

// One call on its own thread, with a context the test can cancel.
struct PendingCall {
  PendingCall() {
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }
  std::unique_ptr<grpc::ClientContext> context = std::make_unique<grpc::ClientContext>();
  grpc::Status status;
  v1::Card card;
  std::thread thread;
};

class GroupCommitTest : public CardServerTest {
 protected:
  static constexpr char kUser[] = "group-commit-user";

  // Holds kUser's lock (the key card_lock_user takes) on the test's connection.
  void HoldUsersLock() {
    Query(absl::StrCat("SELECT pg_advisory_lock(hashtextextended('", kUser, "', 0))"));
  }
  void ReleaseUsersLock() {
    Query(absl::StrCat("SELECT pg_advisory_unlock(hashtextextended('", kUser, "', 0))"));
  }
  // Waits until a server connection waits for an advisory lock.
  void AwaitLockWaiter() {
    absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (absl::Now() < give_up) {
      pqxx::result waiting =
          Query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
      if (!waiting.empty()) return;
      absl::SleepFor(absl::Milliseconds(10));
    }
    FAIL() << "no call ever waited for the user's lock";
  }

  // Holds kUser's lock and starts a call that takes the user's turn and then
  // waits in PostgreSQL for the lock (SetDefaultCard of a card that does not
  // exist: NOT_FOUND once it runs), so calls made next queue behind it.
  void StartBlocker(PendingCall* blocker) {
    HoldUsersLock();
    blocker->thread = std::thread([this, blocker] {
      v1::SetDefaultCardRequest request;
      request.set_user_id(kUser);
      request.set_card_id("123e4567-e89b-12d3-a456-426614174000");
      blocker->status =
          stub_->SetDefaultCard(blocker->context.get(), request, &blocker->card);
    });
    AwaitLockWaiter();
  }

  // Starts CreateCard on its own thread; the pause keeps arrival order.
  std::unique_ptr<PendingCall> StartCreate(
      const std::function<void(v1::CreateCardRequest&)>& fill) {
    auto call = std::make_unique<PendingCall>();
    v1::CreateCardRequest request;
    request.set_user_id(kUser);
    fill(request);
    PendingCall* raw = call.get();
    raw->thread = std::thread([this, raw, request] {
      raw->status = stub_->CreateCard(raw->context.get(), request, &raw->card);
    });
    absl::SleepFor(absl::Milliseconds(50));
    return call;
  }
};

TEST_F(GroupCommitTest, QueuedCreatesCommitTogetherEachWithItsOwnStatus) {
  // Another user's link: a create naming it is refused, alone.
  v1::CreatePlatformLinkRequest link_request;
  link_request.set_user_id("someone-else");
  link_request.mutable_link()->set_platform("github");
  link_request.mutable_link()->set_username("else");
  link_request.mutable_link()->set_url("https://github.com/else");
  v1::PlatformLink others_link;
  ASSERT_TRUE(
      stub_->CreatePlatformLink(Context().get(), link_request, &others_link).ok());

  // Everything below queues behind the blocker in the server.
  PendingCall blocker;
  StartBlocker(&blocker);

  auto first = StartCreate([](auto& r) {
    r.mutable_card()->set_title("First");
    r.set_request_id("req-1");
  });
  auto invalid = StartCreate([](auto& r) { r.mutable_card()->set_title(""); });
  auto retry_of_first = StartCreate([](auto& r) {
    r.mutable_card()->set_title("First");
    r.set_request_id("req-1");
  });
  auto reused_id = StartCreate([](auto& r) {
    r.mutable_card()->set_title("Something else");
    r.set_request_id("req-1");
  });
  auto cancelled = StartCreate([](auto& r) { r.mutable_card()->set_title("Cancelled"); });
  auto stale_link = StartCreate([&](auto& r) {
    r.mutable_card()->set_title("Stale link");
    r.add_link_ids(others_link.id());
  });
  auto second = StartCreate([](auto& r) { r.mutable_card()->set_title("Second"); });

  cancelled->context->TryCancel();
  cancelled->thread.join();
  EXPECT_EQ(cancelled->status.error_code(), grpc::StatusCode::CANCELLED);

  ReleaseUsersLock();
  blocker.thread.join();
  for (auto* call : {first.get(), invalid.get(), retry_of_first.get(), reused_id.get(),
                     stale_link.get(), second.get()}) {
    call->thread.join();
  }

  EXPECT_EQ(blocker.status.error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(first->status.ok()) << first->status.error_message();
  EXPECT_TRUE(first->card.is_default());
  EXPECT_EQ(invalid->status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(invalid->status.error_message().find("card.title"), std::string::npos)
      << invalid->status.error_message();
  ASSERT_TRUE(retry_of_first->status.ok()) << retry_of_first->status.error_message();
  EXPECT_EQ(retry_of_first->card.id(), first->card.id());
  EXPECT_EQ(reused_id->status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(reused_id->status.error_message().find("request_id"), std::string::npos);
  EXPECT_EQ(stale_link->status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(stale_link->status.error_message().find("link_ids[0]"), std::string::npos);
  ASSERT_TRUE(second->status.ok()) << second->status.error_message();
  EXPECT_FALSE(second->card.is_default());

  // Two cards, one default, and both written by one transaction: rows
  // inserted by the same transaction carry the same xmin.
  pqxx::result rows = Query(
      absl::StrCat("SELECT title, is_default, xmin::text FROM cards WHERE user_id = '",
                   kUser, "' ORDER BY create_time"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(std::string(rows[0][0].c_str()), "First");
  EXPECT_EQ(std::string(rows[1][0].c_str()), "Second");
  EXPECT_EQ(rows[0][1].as<bool>() + rows[1][1].as<bool>(), 1);
  EXPECT_EQ(std::string(rows[0][2].c_str()), std::string(rows[1][2].c_str()))
      << "the queued creates were committed by separate transactions";
}

// With group commit off every create is its own transaction: the check above
// that the cards share a transaction is what tells the two apart.
class GroupCommitOffTest : public GroupCommitTest {
 protected:
  void Configure(app::ServerConfig& options) override { options.scheduler.max_batch = 1; }
};

TEST_F(GroupCommitOffTest, QueuedCreatesCommitOneByOne) {
  PendingCall blocker;
  StartBlocker(&blocker);
  auto first = StartCreate([](auto& r) { r.mutable_card()->set_title("First"); });
  auto second = StartCreate([](auto& r) { r.mutable_card()->set_title("Second"); });
  ReleaseUsersLock();
  blocker.thread.join();
  first->thread.join();
  second->thread.join();
  ASSERT_TRUE(first->status.ok());
  ASSERT_TRUE(second->status.ok());
  pqxx::result rows = Query(absl::StrCat(
      "SELECT count(DISTINCT xmin::text) FROM cards WHERE user_id = '", kUser, "'"));
  EXPECT_EQ(rows[0][0].as<int>(), 2);
}

}  // namespace
}  // namespace card::testing
