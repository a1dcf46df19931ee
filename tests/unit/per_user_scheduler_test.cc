// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The per-user scheduler's promises, without a server: one job per user at a
// time in arrival order, other users not held up, every bound enforced, and
// every job either run or dropped exactly once.
#include "server/exec/per_user_scheduler.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <typeindex>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace card {
namespace {

// Records how it ended; optionally blocks in Run until released.
class RecordingJob final : public PerUserScheduler::Job {
 public:
  struct Log {
    std::mutex mu;
    std::vector<std::string> ran;
    std::vector<absl::StatusCode> dropped;
  };
  RecordingJob(Log* log, std::string name, absl::Notification* release = nullptr)
      : log_(log), name_(std::move(name)), release_(release) {}

  void Run() override {
    if (release_ != nullptr) release_->WaitForNotification();
    std::lock_guard<std::mutex> lock(log_->mu);
    log_->ran.push_back(name_);
  }
  void Drop(const absl::Status& why) override {
    std::lock_guard<std::mutex> lock(log_->mu);
    log_->dropped.push_back(why.code());
  }

 private:
  Log* log_;
  std::string name_;
  absl::Notification* release_;
};

// A job of a batch kind: records the batches it is run in ("a1+a2+a3").
class BatchingJob final : public PerUserScheduler::Job {
 public:
  BatchingJob(RecordingJob::Log* log, std::string name, std::type_index kind)
      : log_(log), name_(std::move(name)), kind_(kind) {}

  BatchKind batch_kind() const override { return kind_; }
  void Run() override { Record(name_); }
  void RunBatch(std::vector<std::unique_ptr<PerUserScheduler::Job>>& batch) override {
    std::string names;
    for (auto& job : batch) {
      if (!names.empty()) names += "+";
      names += static_cast<BatchingJob*>(job.get())->name_;
    }
    Record(names);
  }
  void Drop(const absl::Status& why) override {
    std::lock_guard<std::mutex> lock(log_->mu);
    log_->dropped.push_back(why.code());
  }

 private:
  void Record(const std::string& what) {
    std::lock_guard<std::mutex> lock(log_->mu);
    log_->ran.push_back(what);
  }
  RecordingJob::Log* log_;
  std::string name_;
  std::type_index kind_;
};

struct CreateKind {};
struct OtherKind {};
const std::type_index kCreate = typeid(CreateKind);
const std::type_index kOther = typeid(OtherKind);

absl::Time Later() { return absl::Now() + absl::Seconds(30); }

void WaitFor(const std::function<bool()>& done) {
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (!done() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
}

TEST(PerUserScheduler, AUsersJobsRunOneAtATimeInArrivalOrder) {
  RecordingJob::Log log;
  absl::Notification release;
  SchedulerLimits limits;
  limits.workers = 4;
  PerUserScheduler scheduler(limits);
  ASSERT_TRUE(scheduler
                  .Submit("alice", Later(), 1,
                          std::make_unique<RecordingJob>(&log, "a0", &release))
                  .ok());
  for (int i = 1; i < 5; ++i) {
    ASSERT_TRUE(scheduler
                    .Submit("alice", Later(), 1,
                            std::make_unique<RecordingJob>(&log, "a" + std::to_string(i)))
                    .ok());
  }
  // Alice's first job blocks; her others wait although three workers are free,
  // and Bob's job runs at once.
  ASSERT_TRUE(
      scheduler.Submit("bob", Later(), 1, std::make_unique<RecordingJob>(&log, "b0"))
          .ok());
  WaitFor([&] {
    std::lock_guard<std::mutex> lock(log.mu);
    return !log.ran.empty();
  });
  {
    std::lock_guard<std::mutex> lock(log.mu);
    EXPECT_EQ(log.ran, std::vector<std::string>({"b0"}));
  }
  EXPECT_EQ(scheduler.queued(), 4u);
  release.Notify();
  WaitFor([&] {
    std::lock_guard<std::mutex> lock(log.mu);
    return log.ran.size() == 6;
  });
  std::lock_guard<std::mutex> lock(log.mu);
  EXPECT_EQ(log.ran, std::vector<std::string>({"b0", "a0", "a1", "a2", "a3", "a4"}));
}

TEST(PerUserScheduler, BoundsRefuseWithResourceExhausted) {
  RecordingJob::Log log;
  absl::Notification release;
  SchedulerLimits limits;
  limits.workers = 1;
  limits.max_queued = 3;
  limits.max_queued_per_user = 2;
  limits.max_queued_bytes = 100;
  PerUserScheduler scheduler(limits);
  // Occupies the only worker.
  ASSERT_TRUE(scheduler
                  .Submit("alice", Later(), 1,
                          std::make_unique<RecordingJob>(&log, "run", &release))
                  .ok());
  WaitFor([&] { return scheduler.queued() == 0; });
  EXPECT_TRUE(
      scheduler.Submit("alice", Later(), 1, std::make_unique<RecordingJob>(&log, "q1"))
          .ok());
  EXPECT_TRUE(
      scheduler.Submit("alice", Later(), 1, std::make_unique<RecordingJob>(&log, "q2"))
          .ok());
  absl::StatusOr<PerUserScheduler::JobId> per_user =
      scheduler.Submit("alice", Later(), 1, std::make_unique<RecordingJob>(&log, "x"));
  EXPECT_EQ(per_user.status().code(), absl::StatusCode::kResourceExhausted);
  absl::StatusOr<PerUserScheduler::JobId> bytes =
      scheduler.Submit("bob", Later(), 99, std::make_unique<RecordingJob>(&log, "x"));
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(
      scheduler.Submit("bob", Later(), 1, std::make_unique<RecordingJob>(&log, "q3"))
          .ok());
  absl::StatusOr<PerUserScheduler::JobId> total =
      scheduler.Submit("carol", Later(), 1, std::make_unique<RecordingJob>(&log, "x"));
  EXPECT_EQ(total.status().code(), absl::StatusCode::kResourceExhausted);
  release.Notify();
  WaitFor([&] {
    std::lock_guard<std::mutex> lock(log.mu);
    return log.ran.size() == 4;
  });
  std::lock_guard<std::mutex> lock(log.mu);
  EXPECT_EQ(log.ran.size(), 4u);
  EXPECT_EQ(log.dropped.size(), 3u);  // each refused job was dropped once
}

TEST(PerUserScheduler, QueuedJobsLeaveAtTheirDeadlineOrOnCancel) {
  RecordingJob::Log log;
  absl::Notification release;
  SchedulerLimits limits;
  limits.workers = 2;
  PerUserScheduler scheduler(limits);
  ASSERT_TRUE(scheduler
                  .Submit("alice", Later(), 1,
                          std::make_unique<RecordingJob>(&log, "run", &release))
                  .ok());
  ASSERT_TRUE(scheduler
                  .Submit("alice", absl::Now() + absl::Milliseconds(100), 1,
                          std::make_unique<RecordingJob>(&log, "expires"))
                  .ok());
  absl::StatusOr<PerUserScheduler::JobId> cancelled = scheduler.Submit(
      "alice", Later(), 1, std::make_unique<RecordingJob>(&log, "cancelled"));
  ASSERT_TRUE(cancelled.ok());
  scheduler.Cancel(*cancelled);
  WaitFor([&] {
    std::lock_guard<std::mutex> lock(log.mu);
    return log.dropped.size() == 2;
  });
  {
    std::lock_guard<std::mutex> lock(log.mu);
    ASSERT_EQ(log.dropped.size(), 2u);
    EXPECT_EQ(log.dropped[0], absl::StatusCode::kCancelled);
    EXPECT_EQ(log.dropped[1], absl::StatusCode::kDeadlineExceeded);
  }
  EXPECT_EQ(scheduler.queued(), 0u);
  release.Notify();
  scheduler.Stop();
  std::lock_guard<std::mutex> lock(log.mu);
  EXPECT_EQ(log.ran, std::vector<std::string>({"run"}));
}

TEST(PerUserScheduler, StopDropsWhatIsQueuedAndRefusesMore) {
  RecordingJob::Log log;
  absl::Notification release;
  SchedulerLimits limits;
  limits.workers = 1;
  PerUserScheduler scheduler(limits);
  ASSERT_TRUE(scheduler
                  .Submit("alice", Later(), 1,
                          std::make_unique<RecordingJob>(&log, "run", &release))
                  .ok());
  ASSERT_TRUE(
      scheduler.Submit("bob", Later(), 1, std::make_unique<RecordingJob>(&log, "q"))
          .ok());
  WaitFor([&] { return scheduler.queued() == 1; });
  std::thread stopper([&] { scheduler.Stop(); });
  absl::SleepFor(absl::Milliseconds(50));
  release.Notify();
  stopper.join();
  EXPECT_EQ(
      scheduler.Submit("carol", Later(), 1, std::make_unique<RecordingJob>(&log, "x"))
          .status()
          .code(),
      absl::StatusCode::kUnavailable);
  std::lock_guard<std::mutex> lock(log.mu);
  EXPECT_EQ(log.ran, std::vector<std::string>({"run"}));
  EXPECT_EQ(log.dropped, std::vector<absl::StatusCode>({absl::StatusCode::kUnavailable,
                                                        absl::StatusCode::kUnavailable}));
}

TEST(PerUserScheduler, ATurnTakesTheQueuedJobsOfTheFirstOnesKindInArrivalOrder) {
  RecordingJob::Log log;
  absl::Notification release;
  SchedulerLimits limits;
  limits.workers = 2;
  limits.max_batch = 3;
  PerUserScheduler scheduler(limits);
  auto submit = [&](const std::string& user, std::unique_ptr<PerUserScheduler::Job> job,
                    absl::Time deadline = Later()) {
    ASSERT_TRUE(scheduler.Submit(user, deadline, 1, std::move(job)).ok());
  };
  submit("alice", std::make_unique<RecordingJob>(&log, "block", &release));
  WaitFor([&] { return scheduler.queued() == 0; });
  // Queued behind the blocked job: c1..c4 batch (cap 3), an expired one is
  // dropped on the way, a job of another kind and one of no kind end a batch.
  submit("alice", std::make_unique<BatchingJob>(&log, "c1", kCreate));
  submit("alice", std::make_unique<BatchingJob>(&log, "c2", kCreate));
  submit("alice", std::make_unique<BatchingJob>(&log, "late", kCreate),
         absl::Now() + absl::Milliseconds(300));
  submit("alice", std::make_unique<BatchingJob>(&log, "c3", kCreate));
  submit("alice", std::make_unique<BatchingJob>(&log, "c4", kCreate));
  submit("alice", std::make_unique<BatchingJob>(&log, "o1", kOther));
  submit("alice", std::make_unique<BatchingJob>(&log, "c5", kCreate));
  submit("alice", std::make_unique<RecordingJob>(&log, "plain"));
  submit("alice", std::make_unique<BatchingJob>(&log, "c6", kCreate));
  submit("bob", std::make_unique<BatchingJob>(&log, "b1", kCreate));
  // The expiry thread drops "late" while it waits; the deadline check of the
  // turn catches it too if the turn comes first.
  absl::SleepFor(absl::Milliseconds(400));
  release.Notify();
  WaitFor([&] {
    std::lock_guard<std::mutex> lock(log.mu);
    return log.ran.size() == 8;
  });
  std::lock_guard<std::mutex> lock(log.mu);
  EXPECT_EQ(log.ran, std::vector<std::string>(
                         {"b1", "block", "c1+c2+c3", "c4", "o1", "c5", "plain", "c6"}));
  EXPECT_EQ(log.dropped,
            std::vector<absl::StatusCode>({absl::StatusCode::kDeadlineExceeded}));
}

// Jobs submitted while the only worker is busy, then the batches they ran in.
std::vector<std::string> BatchesAcrossUsers(bool across_users) {
  RecordingJob::Log log;
  absl::Notification release;
  SchedulerLimits limits;
  limits.workers = 1;
  limits.batch_across_users = across_users;
  PerUserScheduler scheduler(limits);
  auto submit = [&](const std::string& user, std::unique_ptr<PerUserScheduler::Job> job) {
    EXPECT_TRUE(scheduler.Submit(user, Later(), 1, std::move(job)).ok());
  };
  submit("x", std::make_unique<RecordingJob>(&log, "block", &release));
  WaitFor([&] { return scheduler.queued() == 0; });
  submit("alice", std::make_unique<BatchingJob>(&log, "a1", kCreate));
  submit("bob", std::make_unique<BatchingJob>(&log, "b1", kCreate));
  submit("alice", std::make_unique<BatchingJob>(&log, "a2", kCreate));
  submit("carol", std::make_unique<RecordingJob>(&log, "plain"));
  submit("dave", std::make_unique<BatchingJob>(&log, "d1", kCreate));
  submit("bob", std::make_unique<BatchingJob>(&log, "b2", kOther));
  release.Notify();
  WaitFor([&] { return scheduler.queued() == 0; });
  scheduler.Stop();
  std::lock_guard<std::mutex> lock(log.mu);
  return log.ran;
}

TEST(PerUserScheduler, ATurnWithRoomTakesOtherWaitingUsersFrontJobsOfItsKind) {
  // Alice's turn takes both of hers, then Bob's and Dave's front creates;
  // Carol's front job is of no kind and keeps her turn; Bob's next job is of
  // another kind and waits for his next turn.
  EXPECT_EQ(BatchesAcrossUsers(true),
            std::vector<std::string>({"block", "a1+a2+b1+d1", "plain", "b2"}));
  EXPECT_EQ(BatchesAcrossUsers(false),
            std::vector<std::string>({"block", "a1+a2", "b1", "plain", "d1", "b2"}));
}

TEST(PerUserScheduler, MaxBatchOneRunsEveryJobAlone) {
  RecordingJob::Log log;
  absl::Notification release;
  SchedulerLimits limits;
  limits.workers = 1;
  limits.max_batch = 1;
  PerUserScheduler scheduler(limits);
  ASSERT_TRUE(scheduler
                  .Submit("alice", Later(), 1,
                          std::make_unique<RecordingJob>(&log, "block", &release))
                  .ok());
  for (const char* name : {"c1", "c2", "c3"}) {
    ASSERT_TRUE(scheduler
                    .Submit("alice", Later(), 1,
                            std::make_unique<BatchingJob>(&log, name, kCreate))
                    .ok());
  }
  release.Notify();
  WaitFor([&] {
    std::lock_guard<std::mutex> lock(log.mu);
    return log.ran.size() == 4;
  });
  std::lock_guard<std::mutex> lock(log.mu);
  EXPECT_EQ(log.ran, std::vector<std::string>({"block", "c1", "c2", "c3"}));
}

// Counts the jobs running at once, each blocked until released.
class CountingJob final : public PerUserScheduler::Job {
 public:
  struct Gauge {
    std::atomic<int> running{0};
    std::atomic<int> ran{0};
  };
  CountingJob(Gauge* gauge, absl::Notification* release)
      : gauge_(gauge), release_(release) {}
  void Run() override {
    gauge_->running++;
    release_->WaitForNotification();
    gauge_->running--;
    gauge_->ran++;
  }
  void Drop(const absl::Status&) override {}

 private:
  Gauge* gauge_;
  absl::Notification* release_;
};

TEST(PerUserScheduler, AtMostMaxActiveTurnsRunAtOnceWhileTheyAreYoung) {
  CountingJob::Gauge gauge;
  absl::Notification release;
  SchedulerLimits limits;
  limits.workers = 8;
  limits.max_active_turns = 2;
  limits.active_turn_hold = absl::Seconds(30);
  PerUserScheduler scheduler(limits);
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(scheduler
                    .Submit("user-" + std::to_string(i), Later(), 1,
                            std::make_unique<CountingJob>(&gauge, &release))
                    .ok());
  }
  WaitFor([&] { return gauge.running.load() == 2; });
  absl::SleepFor(absl::Milliseconds(100));  // time for a wrongly woken worker to start
  EXPECT_EQ(gauge.running.load(), 2);
  EXPECT_EQ(scheduler.queued(), 6u);
  release.Notify();
  WaitFor([&] { return gauge.ran.load() == 8; });
  EXPECT_EQ(gauge.ran.load(), 8);
}

// Isolation: turns blocked past the hold (a user's lock, say) give their slots
// up, so other users' jobs run on the remaining workers.
TEST(PerUserScheduler, TurnsRunningPastTheHoldLetOthersStart) {
  CountingJob::Gauge blocked;
  absl::Notification release;
  RecordingJob::Log log;
  SchedulerLimits limits;
  limits.workers = 8;
  limits.max_active_turns = 2;
  limits.active_turn_hold = absl::Milliseconds(20);
  PerUserScheduler scheduler(limits);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(scheduler
                    .Submit("blocked-" + std::to_string(i), Later(), 1,
                            std::make_unique<CountingJob>(&blocked, &release))
                    .ok());
  }
  WaitFor([&] { return blocked.running.load() == 4; });
  EXPECT_EQ(blocked.running.load(), 4);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(scheduler
                    .Submit("free-" + std::to_string(i), Later(), 1,
                            std::make_unique<RecordingJob>(&log, "f" + std::to_string(i)))
                    .ok());
  }
  WaitFor([&] {
    std::lock_guard<std::mutex> lock(log.mu);
    return log.ran.size() == 3;
  });
  {
    std::lock_guard<std::mutex> lock(log.mu);
    EXPECT_EQ(log.ran.size(), 3u) << "free users waited behind blocked ones";
  }
  release.Notify();
  WaitFor([&] { return blocked.ran.load() == 4; });
}

}  // namespace
}  // namespace card
