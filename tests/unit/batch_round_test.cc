// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The batch round's rules (server/exec/batch_round.h) on fake calls, without
// gRPC or a database: the earliest deadline bounds a round and the calls it
// cut short go again; the round's statement is cancelled only when every call
// of the round is; a call cancelled before its round is left out.
#include "server/exec/batch_round.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/exec/cancellation.h"

namespace card {
namespace {

class FakeCall final : public BatchMember {
 public:
  FakeCall(std::string name, absl::Time deadline)
      : name_(std::move(name)), deadline_(deadline) {}

  absl::Time deadline() const override { return deadline_; }
  Cancellation& cancellation() override { return cancellation_; }
  void Answer(const absl::Status& status) override {
    EXPECT_FALSE(answer_.has_value()) << name_ << " answered twice";
    answer_ = status;
  }

  const std::string& name() const { return name_; }
  const std::optional<absl::Status>& answer() const { return answer_; }

 private:
  std::string name_;
  absl::Time deadline_;
  Cancellation cancellation_;
  std::optional<absl::Status> answer_;
};

// What one call of the round's work saw.
struct RoundSeen {
  std::vector<std::string> names;
  absl::Time deadline;
};

std::vector<std::string> Names(const std::vector<BatchMember*>& members) {
  std::vector<std::string> names;
  for (BatchMember* member : members)
    names.push_back(static_cast<FakeCall*>(member)->name());
  return names;
}

TEST(BatchRound, TheEarliestDeadlineCutsTheRoundShortAndTheOthersGoAgain) {
  const absl::Time now = absl::Now();
  FakeCall a("a", now + absl::Hours(1));
  FakeCall tight("tight", now + absl::Minutes(30));
  FakeCall c("c", now + absl::Hours(2));
  std::vector<RoundSeen> rounds;
  RunBatch({&a, &tight, &c}, [&](const std::vector<BatchMember*>& members,
                                 absl::Time deadline) {
    rounds.push_back(RoundSeen{Names(members), deadline});
    // The first round runs out of time: nothing of it was written.
    absl::Status status =
        rounds.size() == 1 ? absl::DeadlineExceededError("cut short") : absl::OkStatus();
    return std::vector<absl::Status>(members.size(), status);
  });
  ASSERT_EQ(rounds.size(), 2u);
  EXPECT_EQ(rounds[0].names, std::vector<std::string>({"a", "tight", "c"}));
  EXPECT_EQ(rounds[0].deadline, tight.deadline());
  // The others go again, without the call whose deadline it was.
  EXPECT_EQ(rounds[1].names, std::vector<std::string>({"a", "c"}));
  EXPECT_EQ(rounds[1].deadline, a.deadline());
  ASSERT_TRUE(tight.answer().has_value());
  EXPECT_EQ(tight.answer()->code(), absl::StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(a.answer().has_value());
  EXPECT_TRUE(a.answer()->ok());
  ASSERT_TRUE(c.answer().has_value());
  EXPECT_TRUE(c.answer()->ok());
}

TEST(BatchRound, TheStatementIsCancelledOnlyWhenEveryCallOfTheRoundIs) {
  const absl::Time later = absl::Now() + absl::Hours(1);
  FakeCall a("a", later);
  FakeCall b("b", later);
  FakeCall c("c", later);
  std::vector<bool> statement_cancelled;  // after each client's cancel
  RunBatch({&a, &b, &c}, [&](const std::vector<BatchMember*>& members, absl::Time) {
    Cancellation* statement = CurrentCancellation();
    EXPECT_NE(statement, nullptr);
    if (statement == nullptr) return std::vector<absl::Status>();
    statement_cancelled.push_back(statement->IsCancelled());
    for (FakeCall* call : {&a, &b, &c}) {
      call->cancellation().Cancel();
      statement_cancelled.push_back(statement->IsCancelled());
    }
    return std::vector<absl::Status>(members.size(), absl::CancelledError("cancelled"));
  });
  EXPECT_EQ(statement_cancelled, std::vector<bool>({false, false, false, true}));
  for (FakeCall* call : {&a, &b, &c}) {
    ASSERT_TRUE(call->answer().has_value());
    EXPECT_EQ(call->answer()->code(), absl::StatusCode::kCancelled);
  }
}

TEST(BatchRound, ACallCancelledBeforeItsRoundIsAnsweredAndLeftOut) {
  const absl::Time later = absl::Now() + absl::Hours(1);
  FakeCall a("a", later);
  FakeCall gone("gone", later);
  gone.cancellation().Cancel();
  std::vector<std::vector<std::string>> rounds;
  RunBatch({&a, &gone}, [&](const std::vector<BatchMember*>& members, absl::Time) {
    rounds.push_back(Names(members));
    return std::vector<absl::Status>(members.size(), absl::OkStatus());
  });
  EXPECT_EQ(rounds, std::vector<std::vector<std::string>>({{"a"}}));
  ASSERT_TRUE(gone.answer().has_value());
  EXPECT_EQ(gone.answer()->code(), absl::StatusCode::kCancelled);
  ASSERT_TRUE(a.answer().has_value());
  EXPECT_TRUE(a.answer()->ok());
  // The round's hooks are gone with it: a cancel now reaches nothing.
  a.cancellation().Cancel();
}

TEST(BatchRound, MissingStatusesAndExceptionsAnswerInternal) {
  const absl::Time later = absl::Now() + absl::Hours(1);
  FakeCall a("a", later);
  FakeCall b("b", later);
  RunBatch({&a, &b}, [](const std::vector<BatchMember*>&, absl::Time) {
    return std::vector<absl::Status>({absl::OkStatus()});
  });
  EXPECT_TRUE(a.answer()->ok());
  EXPECT_EQ(b.answer()->code(), absl::StatusCode::kInternal);
  FakeCall c("c", later);
  RunBatch({&c},
           [](const std::vector<BatchMember*>&, absl::Time) -> std::vector<absl::Status> {
             throw std::runtime_error("boom");
           });
  ASSERT_TRUE(c.answer().has_value());
  EXPECT_EQ(c.answer()->code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace card
