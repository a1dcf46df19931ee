// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "stress/stats.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/card_client.h"

namespace card::stress {

absl::Duration SeriesInterval(const Config& config) {
  absl::Duration length = config.duration;
  if (length <= absl::ZeroDuration() && config.requests > 0 && config.rate.constant() &&
      config.rate.start > 0) {
    length = absl::Seconds(static_cast<double>(config.requests) / config.rate.start);
  }
  if (length <= absl::ZeroDuration() || length >= config.interval * kMinSeriesPoints) {
    return config.interval;
  }
  absl::Duration wanted = length / kMinSeriesPoints;
  absl::Duration chosen = kMinSeriesInterval;
  // Round lengths, so that the x axis' ticks fall on interval ends.
  for (int ms : {100, 200, 250, 500}) {
    if (absl::Milliseconds(ms) <= wanted) chosen = absl::Milliseconds(ms);
  }
  return std::min(chosen, config.interval);
}

void Stats::Start(absl::Time start, absl::Duration warmup, int64_t warmup_requests,
                  absl::Duration interval) {
  start_ = start;
  warmup_ = warmup;
  warmup_requests_ = warmup_requests;
  interval_ = interval;
}

bool Stats::InWarmup(absl::Time now) {
  if (warmup_ > absl::ZeroDuration()) return now < start_ + warmup_;
  if (warmup_requests_ <= 0 ||
      warmup_seen_.load(std::memory_order_relaxed) >= warmup_requests_)
    return false;
  int64_t seen = warmup_seen_.fetch_add(1, std::memory_order_relaxed);
  if (seen + 1 == warmup_requests_) {
    warmup_end_ns_.store(absl::ToInt64Nanoseconds(now - start_));
  }
  return seen < warmup_requests_;
}

absl::Time Stats::measured_start() const {
  if (warmup_ > absl::ZeroDuration()) return start_ + warmup_;
  if (warmup_requests_ > 0) return start_ + absl::Nanoseconds(warmup_end_ns_.load());
  return start_;
}

void Stats::RecordFinal(OpKind kind, const grpc::Status& status,
                        Workload::Outcome outcome, absl::Duration latency,
                        absl::Time now) {
  bool error = outcome == Workload::Outcome::kFailed ||
               outcome == Workload::Outcome::kIndeterminate;
  int64_t interval = std::max<int64_t>(0, (now - start_) / interval_);
  Slot& slot = slots_[interval & 1];
  slot.operations.fetch_add(1, std::memory_order_relaxed);
  if (error) {
    slot.errors.fetch_add(1, std::memory_order_relaxed);
  } else {
    slot.ok_latency.Record(latency);
  }
  if (InWarmup(now)) {
    warmup_operations_++;
    return;
  }

  OpStats& stats = ops_[Index(kind)];
  int code = static_cast<int>(status.error_code());
  if (code >= 0 && code < kStatusCodes) stats.codes[code]++;
  finished_++;
  if (!error) {
    stats.ok_latency.Record(latency);
    all_ok_.Record(latency);
    return;
  }
  stats.error_latency.Record(latency);
  (outcome == Workload::Outcome::kFailed ? stats.failed : stats.indeterminate)++;
  errors_++;
  absl::MutexLock lock(&messages_mu_);
  std::string key =
      absl::StrCat(OpName(kind), ": ", client::StatusCodeName(status.error_code()), " ",
                   status.error_message());
  auto it = messages_.find(key);
  if (it != messages_.end()) {
    it->second++;
  } else if (messages_.size() < 20) {
    messages_.emplace(key, 1);
  }
}

void Stats::RecordStarted(absl::Time now) {
  int64_t interval = std::max<int64_t>(0, (now - start_) / interval_);
  slots_[interval & 1].started.fetch_add(1, std::memory_order_relaxed);
}

Interval Stats::CloseInterval(int64_t index, absl::Time end, double target_rps,
                              int target_concurrency, int in_flight) {
  Slot& slot = slots_[index & 1];
  const absl::Time begin = start_ + interval_ * index;
  end = std::min(end, begin + interval_);
  Interval out;
  out.end_s = absl::ToDoubleSeconds(end - start_);
  out.seconds = std::max(absl::ToDoubleSeconds(end - begin), 1e-9);
  out.operations = slot.operations.exchange(0);
  out.errors = slot.errors.exchange(0);
  out.ops_per_second = out.operations / out.seconds;
  out.started = slot.started.exchange(0);
  out.started_per_second = out.started / out.seconds;
  Histogram::Summary latency = slot.ok_latency.Summarize();
  slot.ok_latency.Reset();
  out.p50_ms = absl::ToDoubleMilliseconds(latency.Percentile(0.50));
  out.p99_ms = absl::ToDoubleMilliseconds(latency.Percentile(0.99));
  out.target_rps = target_rps;
  out.target_concurrency = target_concurrency;
  out.in_flight = in_flight;
  out.warmup =
      end <= measured_start() || (warmup_requests_ > 0 && warmup_end_ns_.load() == 0 &&
                                  warmup_seen_.load() < warmup_requests_);
  absl::MutexLock lock(&series_mu_);
  if (series_.size() < kMaxIntervals) series_.push_back(out);
  return out;
}

std::vector<Interval> Stats::Series() const {
  absl::MutexLock lock(&series_mu_);
  return series_;
}

std::map<std::string, uint64_t> Stats::ErrorMessages() const {
  absl::MutexLock lock(&messages_mu_);
  return messages_;
}

}  // namespace card::stress
