// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Drives the load: --concurrency operations in flight (or the concurrency
// schedule's value), sent through a LoadEngine (load_engine.h). Closed loop by
// default (a finished operation starts the next); open loop with --rps or a
// rate schedule (operations start on schedule; latency counts from the
// schedule). A ticker closes the time series' intervals and prints progress.
#pragma once

#include <deque>
#include <map>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "stress/config.h"
#include "stress/load_engine.h"
#include "stress/stats.h"
#include "stress/workload.h"

namespace card::stress {

class LoadRunner {
 public:
  // `engine`, `workload` and `stats` must outlive the runner.
  LoadRunner(const Config& config, LoadEngine* engine, Workload* workload, Stats* stats);
  ~LoadRunner();

  // Runs until every operation has finished (retries included).
  void Run();
  absl::Duration elapsed() const { return elapsed_; }

 private:
  struct Call;
  void Fill() ABSL_LOCKS_EXCLUDED(mu_);
  void Start(Op op) ABSL_LOCKS_EXCLUDED(mu_);
  void Issue(Call* call);
  static void OnEngineDone(void* arg, const grpc::Status& status);
  void OnDone(Call* call, const grpc::Status& status) ABSL_LOCKS_EXCLUDED(mu_, timer_mu_);
  void Release() ABSL_LOCKS_EXCLUDED(mu_);
  void PaceLoop() ABSL_LOCKS_EXCLUDED(mu_);
  void TimerLoop() ABSL_LOCKS_EXCLUDED(timer_mu_);
  void TickLoop() ABSL_LOCKS_EXCLUDED(mu_);
  bool Finished() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int Window(absl::Time now) const;
  Call* NewCall() ABSL_LOCKS_EXCLUDED(mu_);
  void Recycle(Call* call) ABSL_LOCKS_EXCLUDED(mu_);

  const Config& config_;
  LoadEngine* const engine_;
  Workload* const workload_;
  Stats* const stats_;

  absl::Mutex mu_;
  int active_ ABSL_GUARDED_BY(mu_) = 0;          // operations holding a concurrency slot
  bool exhausted_ ABSL_GUARDED_BY(mu_) = false;  // the workload has no more operations
  // Completion threads still inside the runner after giving up a slot (in
  // Fill or Start). Run() waits for 0 too: the runner is destroyed as soon as
  // Run() returns.
  int releasing_ ABSL_GUARDED_BY(mu_) = 0;
  // Open loop: due operations waiting for a slot.
  std::deque<Op> backlog_ ABSL_GUARDED_BY(mu_);
  // Finished calls kept for reuse (at most the window).
  std::vector<Call*> free_calls_ ABSL_GUARDED_BY(mu_);

  absl::Mutex timer_mu_;
  absl::CondVar timer_wake_;
  std::multimap<absl::Time, Call*> retries_ ABSL_GUARDED_BY(timer_mu_);
  bool stopping_ ABSL_GUARDED_BY(timer_mu_) = false;
  std::thread timer_;

  // Set by Run before the other threads start; read-only while they run.
  absl::Time start_;
  absl::Duration elapsed_;
};

}  // namespace card::stress
