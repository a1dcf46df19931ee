// The run's report: a ghz-like human summary, or versioned JSON for CI
// (schema "card-stress/v1", documented in stress/README.md).
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "stress/config.h"
#include "stress/stats.h"
#include "stress/verifier.h"

namespace card::stress {

// Exit codes, from worst to best.
inline constexpr int kExitPass = 0;
inline constexpr int kExitViolation = 1;
inline constexpr int kExitErrors = 2;     // error rate above --max_error_rate, or verdict unknown
inline constexpr int kExitThreshold = 3;  // --max_p99 or --min_rps breached
inline constexpr int kExitSetup = 4;      // bad flags, cannot connect

struct ClientCost {
  double user_cpu_seconds = 0;
  double system_cpu_seconds = 0;
  double peak_rss_mb = 0;
};
ClientCost MeasureClientCost();

struct RunResult {
  const Config* config = nullptr;
  absl::Time started;
  absl::Duration elapsed;
  const Stats* stats = nullptr;
  Verification verification;
  ClientCost cost;
  std::vector<std::string> breached;  // thresholds
  double error_rate = 0;
  int exit_code = kExitPass;
};

// Decides the exit code from the stats, the verdict and the thresholds.
void Judge(RunResult& result);

std::string TextReport(const RunResult& result);
std::string JsonReport(const RunResult& result);

}  // namespace card::stress
