// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Micro-benchmarks of the work done per request outside the database: request
// validation, page tokens, status mapping, and card-stress's latency histogram
// (recorded once per RPC from many threads), and the per-user scheduler's cost
// per request with and without group commit, and with every worker active or
// at most two turns at once (four before issue 20) (--db_active_turns). Run:
//   build/tests/bench/card_bench --benchmark_filter=. [--benchmark_format=json]
#include <atomic>
#include <memory>
#include <string>
#include <typeindex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "server/common/status.h"
#include "server/exec/per_user_scheduler.h"
#include "server/rpc/status_mapping.h"
#include "server/service/page_token.h"
#include "server/service/validation.h"
#include "stress/histogram.h"

namespace {

void BM_ValidateTitle(benchmark::State& state) {
  std::string title = "Jane Doe \xe2\x80\x94 Staff Engineer, Payments";
  for (auto _ : state) {
    benchmark::DoNotOptimize(card::service::ValidateText(title, "card.title", 1, 100));
  }
}
BENCHMARK(BM_ValidateTitle);

void BM_ValidateFiftyLinkIds(benchmark::State& state) {
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    char id[37];
    snprintf(id, sizeof id, "123e4567-e89b-12d3-a456-%012d", i);
    ids.push_back(id);
  }
  for (auto _ : state) benchmark::DoNotOptimize(card::service::ValidateLinkIds(ids));
}
BENCHMARK(BM_ValidateFiftyLinkIds);

void BM_SlugBase(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        card::service::SlugBase("  Jane Doe, Staff Engineer @ Payments  "));
  }
}
BENCHMARK(BM_SlugBase);

void BM_PageTokenRoundTrip(benchmark::State& state) {
  card::model::CardCursor cursor{absl::FromUnixMicros(1700000000123456),
                                 "123e4567-e89b-12d3-a456-426614174000"};
  for (auto _ : state) {
    std::string token = card::service::EncodePageToken("cards", "alice", cursor);
    benchmark::DoNotOptimize(card::service::DecodePageToken("cards", "alice", token));
  }
}
BENCHMARK(BM_PageTokenRoundTrip);

void BM_InvalidArgumentToGrpcStatus(benchmark::State& state) {
  absl::Status status = card::InvalidField("card.title", "at most 100 characters");
  for (auto _ : state) benchmark::DoNotOptimize(card::rpc::ToGrpcStatus(status));
}
BENCHMARK(BM_InvalidArgumentToGrpcStatus);

card::stress::Histogram g_histogram;

void BM_HistogramRecord(benchmark::State& state) {
  int64_t micros = 100 + state.thread_index() * 37;
  for (auto _ : state) {
    g_histogram.Record(absl::Microseconds(micros));
    micros = micros * 13 % 1000003 + 50;
  }
}
BENCHMARK(BM_HistogramRecord)->Threads(1)->Threads(4);

// What the scheduler costs a request beyond the work itself: Submit, the
// turn, RunBatch and the bookkeeping, with jobs that do nothing. Arguments:
// max_batch (1 = group commit off) and users the requests spread over (1 = one
// hot user). Reported per request (items_per_second).
class CountingJob final : public card::PerUserScheduler::Job {
 public:
  CountingJob(absl::Mutex* mu, int* done, std::atomic<size_t>* turns)
      : mu_(mu), done_(done), turns_(turns) {}
  BatchKind batch_kind() const override { return std::type_index(typeid(CountingJob)); }
  void Run() override {
    turns_->fetch_add(1);
    Count(1);
  }
  void RunBatch(
      std::vector<std::unique_ptr<card::PerUserScheduler::Job>>& batch) override {
    turns_->fetch_add(1);
    Count(static_cast<int>(batch.size()));
  }
  void Drop(const absl::Status&) override { Count(1); }

 private:
  void Count(int n) {
    absl::MutexLock lock(mu_);
    *done_ += n;
  }
  absl::Mutex* mu_;
  int* done_;
  std::atomic<size_t>* turns_;
};

void BM_SchedulerPerRequest(benchmark::State& state) {
  card::SchedulerLimits limits;
  limits.workers = 16;
  limits.max_batch = static_cast<size_t>(state.range(0));
  const int users = static_cast<int>(state.range(1));
  limits.max_active_turns = static_cast<int>(state.range(2));  // 0: one per worker
  constexpr int kRequests = 2000;
  limits.max_queued_per_user = kRequests;  // none refused: every request takes a turn
  card::PerUserScheduler scheduler(limits);
  std::vector<std::string> user_ids;
  for (int u = 0; u < users; ++u) user_ids.push_back(absl::StrCat("user-", u));
  std::atomic<size_t> turns{0};  // counted by the jobs: one per Run or RunBatch
  absl::Mutex mu;
  int done = 0;
  for (auto _ : state) {
    {
      absl::MutexLock lock(&mu);
      done = 0;
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    for (int i = 0; i < kRequests; ++i) {
      (void)scheduler.Submit(user_ids[i % users], deadline, 100,
                             std::make_unique<CountingJob>(&mu, &done, &turns));
    }
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* n) { return *n == kRequests; }, &done));
  }
  state.SetItemsProcessed(state.iterations() * kRequests);
  state.counters["requests_per_turn"] =
      turns.load() ? static_cast<double>(state.iterations() * kRequests) / turns.load()
                   : 0;
}
BENCHMARK(BM_SchedulerPerRequest)
    ->ArgNames({"max_batch", "users", "active_turns"})
    ->Args({1, 1, 2})
    ->Args({64, 1, 2})
    ->Args({1, 1000, 2})
    ->Args({64, 1000, 0})
    ->Args({64, 1000, 4})
    ->Args({64, 1000, 2})
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
