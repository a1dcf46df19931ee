// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// A log-bucketed latency histogram: constant memory whatever the number of
// samples (about 3% relative precision), lock-free to record from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace card::stress {

class Histogram {
 public:
  static constexpr int kSubBuckets = 32;             // per power of two
  static constexpr int kBuckets = kSubBuckets * 40;  // up to ~2^44 µs

  void Record(absl::Duration latency);
  // Empties it (for the per-interval histograms, between their intervals).
  void Reset();

  // A consistent-enough copy for reporting (taken after the load stops).
  struct Summary {
    uint64_t count = 0;
    absl::Duration min, mean, max;
    // Value at or below which `quantile` of the samples fall.
    absl::Duration Percentile(double quantile) const;
    // Non-empty buckets: (upper bound, count), ascending.
    std::vector<std::pair<absl::Duration, uint64_t>> buckets;
  };
  Summary Summarize() const;

 private:
  static int BucketOf(uint64_t micros);
  static uint64_t UpperBoundOf(int bucket);

  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> total_micros_{0};
  std::atomic<uint64_t> min_micros_{UINT64_MAX};
  std::atomic<uint64_t> max_micros_{0};
};

}  // namespace card::stress
