// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The workload: which operation comes next (per scenario), and the history of
// what each operation did — invoked, then ok, failed, or indeterminate (it may
// or may not have taken effect) — which the verifier checks the data against.
// The history is compact (history.h): 24 bytes per create and a summary per
// user, so a run of millions of operations fits in a few tens of megabytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/support/status.h"
#include "stress/config.h"
#include "stress/history.h"

namespace card::stress {

// One operation in flight (only these hold strings: at most --concurrency).
struct Op {
  OpKind kind = OpKind::kCreate;
  uint32_t user = 0;                  // index into History::users
  uint64_t request = 0;               // create: index into History::creates
  std::string user_id;                //
  std::string request_id;             // create: also the card's description
  std::string card_id;                // set-default, delete, update-links, get
  std::vector<std::string> link_ids;  // update-links
  int attempt = 0;                    // retries so far
  absl::Time intended;                // latency is measured from here
};

class Workload {
 public:
  explicit Workload(const Config& config);

  // The next operation to start, or nothing when the run's budget is spent.
  std::optional<Op> Next(absl::Time now);

  // Records the final outcome of `op` (after any retries). `result_id` is the
  // card or link id an OK create/set-default/create-link returned.
  enum class Outcome { kOk, kExpected, kFailed, kIndeterminate };
  Outcome Finish(const Op& op, const grpc::Status& status, const std::string& result_id);

  // Whether a failed attempt may be retried as is (idempotent operations only).
  static bool Retryable(const Op& op, const grpc::Status& status);

  // Total operations this run will start, if known in advance (first-card).
  std::optional<int64_t> planned() const;

  History TakeHistory();

 private:
  Op NewCreate(uint32_t user) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<Op> NextMixed() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Config& config_;
  const absl::Time deadline_;
  absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  int64_t issued_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<int64_t> health_issued_{0};  // health needs no history: no lock
  History history_ ABSL_GUARDED_BY(mu_);
};

}  // namespace card::stress
