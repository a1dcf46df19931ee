// Micro-benchmarks of the work done per request outside the database: request
// validation, page tokens, status mapping, and card-stress's latency histogram
// (recorded once per RPC from many threads). Run:
//   build/tests/bench/card_bench --benchmark_filter=. [--benchmark_format=json]
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "common/status.h"
#include "rpc/status_mapping.h"
#include "service/page_token.h"
#include "service/validation.h"
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

}  // namespace

BENCHMARK_MAIN();
