// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "stress/histogram.h"

#include <algorithm>

namespace card::stress {

int Histogram::BucketOf(uint64_t micros) {
  if (micros < kSubBuckets) return static_cast<int>(micros);
  int msb = 63 - __builtin_clzll(micros);
  int shift = msb - 5;  // keep 5 bits below the leading one
  int bucket =
      (msb - 4) * kSubBuckets + static_cast<int>((micros >> shift) & (kSubBuckets - 1));
  return std::min(bucket, kBuckets - 1);
}

uint64_t Histogram::UpperBoundOf(int bucket) {
  if (bucket < kSubBuckets) return bucket;
  int msb = bucket / kSubBuckets + 4;
  uint64_t mantissa = kSubBuckets + bucket % kSubBuckets;
  return ((mantissa + 1) << (msb - 5)) - 1;
}

void Histogram::Record(absl::Duration latency) {
  uint64_t micros =
      static_cast<uint64_t>(std::max<int64_t>(0, absl::ToInt64Microseconds(latency)));
  counts_[BucketOf(micros)].fetch_add(1, std::memory_order_relaxed);
  total_micros_.fetch_add(micros, std::memory_order_relaxed);
  uint64_t seen = min_micros_.load(std::memory_order_relaxed);
  while (micros < seen && !min_micros_.compare_exchange_weak(seen, micros)) {
  }
  seen = max_micros_.load(std::memory_order_relaxed);
  while (micros > seen && !max_micros_.compare_exchange_weak(seen, micros)) {
  }
}

void Histogram::Reset() {
  for (std::atomic<uint64_t>& count : counts_) count.store(0, std::memory_order_relaxed);
  total_micros_.store(0);
  min_micros_.store(UINT64_MAX);
  max_micros_.store(0);
}

Histogram::Summary Histogram::Summarize() const {
  Summary summary;
  for (int i = 0; i < kBuckets; ++i) {
    uint64_t n = counts_[i].load(std::memory_order_relaxed);
    if (n == 0) continue;
    summary.count += n;
    summary.buckets.emplace_back(absl::Microseconds(UpperBoundOf(i)), n);
  }
  if (summary.count == 0) return summary;
  summary.min = absl::Microseconds(min_micros_.load());
  summary.max = absl::Microseconds(max_micros_.load());
  summary.mean = absl::Microseconds(total_micros_.load() / summary.count);
  return summary;
}

absl::Duration Histogram::Summary::Percentile(double quantile) const {
  if (count == 0) return absl::ZeroDuration();
  uint64_t rank = static_cast<uint64_t>(quantile * static_cast<double>(count) + 0.5);
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (const auto& [upper, n] : buckets) {
    seen += n;
    if (seen >= rank) return std::min(upper, max);
  }
  return max;
}

}  // namespace card::stress
