// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// What the load did, counted without keeping per-request samples: latency
// histograms and status codes per operation kind, and a per-interval time
// series (throughput, errors, p50/p99 per --interval). Operations that finish
// during --warmup are counted apart and left out of every figure but the series.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/status.h"
#include "stress/config.h"
#include "stress/histogram.h"
#include "stress/workload.h"

namespace card::stress {

inline constexpr int kStatusCodes = 17;
// The series keeps at most this many intervals (a day of 1-second intervals);
// later intervals are counted in the totals only.
inline constexpr size_t kMaxIntervals = 86400;
// The HTML report's charts want at least this many points: a run shorter than
// this many --intervals gets a finer series (SeriesInterval).
inline constexpr int kMinSeriesPoints = 20;
// Never finer than this: below it an interval holds too few operations for a
// rate or a p99, and the ticker would wake more than it sleeps.
inline constexpr absl::Duration kMinSeriesInterval = absl::Milliseconds(50);

// The series' interval for a run: config.interval (1s; flags.cc calls this
// only when --interval is not given, and keeps a given one), unless the run's
// length is known (--duration, or --requests at a constant --rps) and shorter
// than kMinSeriesPoints of them; then the largest of 50, 100, 200, 250 or
// 500 ms that still gives kMinSeriesPoints (50 ms for runs under a second).
// Only short runs get finer, so the series stays as bounded as before
// (kMaxIntervals).
absl::Duration SeriesInterval(const Config& config);

struct OpStats {
  Histogram ok_latency;     // OK and expected answers (e.g. NOT_FOUND after a race)
  Histogram error_latency;  // failed and indeterminate
  std::array<std::atomic<uint64_t>, kStatusCodes> codes{};  // final status per operation
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> indeterminate{0};
};

// One interval of the series (by completion time).
struct Interval {
  double end_s = 0;         // since the load started
  double seconds = 0;       // its length (the last one may be short)
  uint64_t operations = 0;  // finished in it
  uint64_t errors = 0;      // failed + indeterminate
  uint64_t started = 0;     // first attempts sent in it (what a rate schedule drives)
  double started_per_second = 0;
  double ops_per_second = 0;
  double p50_ms = 0, p99_ms = 0;  // successful operations
  double target_rps = 0;          // the rate schedule's value (0: closed loop)
  int target_concurrency = 0;     // the concurrency schedule's value
  int in_flight = 0;
  bool warmup = false;  // ended before the warm-up did
};

class Stats {
 public:
  // Call once, as the load starts.
  void Start(absl::Time start, absl::Duration warmup, int64_t warmup_requests,
             absl::Duration interval);

  void RecordAttemptRetried(OpKind kind) { ops_[Index(kind)].retries++; }
  // An operation's first attempt handed to the transport at `now`.
  void RecordStarted(absl::Time now);
  // The final outcome of one operation, finished at `now`.
  void RecordFinal(OpKind kind, const grpc::Status& status, Workload::Outcome outcome,
                   absl::Duration latency, absl::Time now = absl::Now());

  // Closes interval `index` (ending at start + (index + 1) * interval, or at
  // `end` if earlier), appends it to the series and returns it.
  Interval CloseInterval(int64_t index, absl::Time end, double target_rps,
                         int target_concurrency, int in_flight);

  const OpStats& op(OpKind kind) const { return ops_[Index(kind)]; }
  const Histogram& all_ok() const { return all_ok_; }
  uint64_t finished() const { return finished_.load(); }
  uint64_t errors() const { return errors_.load(); }
  uint64_t warmup_operations() const { return warmup_operations_.load(); }
  // When the measured part of the run began: the start, or the warm-up's end.
  absl::Time measured_start() const;
  std::vector<Interval> Series() const;
  // Distinct error messages (first 20) and how often each was seen.
  std::map<std::string, uint64_t> ErrorMessages() const;

 private:
  static int Index(OpKind kind) { return static_cast<int>(kind); }
  bool InWarmup(absl::Time now);

  std::array<OpStats, kOpKinds> ops_;
  Histogram all_ok_;
  std::atomic<uint64_t> finished_{0};
  std::atomic<uint64_t> errors_{0};

  absl::Time start_ = absl::InfinitePast();
  absl::Duration interval_ = absl::Seconds(1);
  absl::Duration warmup_ = absl::ZeroDuration();
  int64_t warmup_requests_ = 0;
  std::atomic<int64_t> warmup_seen_{0};
  std::atomic<uint64_t> warmup_operations_{0};
  std::atomic<int64_t> warmup_end_ns_{0};  // since start_, once a counted warm-up ends

  // Two interval slots, alternating: interval k records into slot k % 2,
  // which CloseInterval(k) summarizes and clears before interval k + 2 starts.
  struct Slot {
    Histogram ok_latency;
    std::atomic<uint64_t> operations{0};
    std::atomic<uint64_t> errors{0};
    std::atomic<uint64_t> started{0};
  };
  std::array<Slot, 2> slots_;
  mutable absl::Mutex series_mu_;
  std::vector<Interval> series_ ABSL_GUARDED_BY(series_mu_);

  mutable absl::Mutex messages_mu_;
  std::map<std::string, uint64_t> messages_ ABSL_GUARDED_BY(messages_mu_);
};

}  // namespace card::stress
