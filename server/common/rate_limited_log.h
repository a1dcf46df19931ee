// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// A warning log for events that an outsider can trigger at will (denied calls):
// every event gets its own line until `lines_per_window` lines were written
// in the current window; the rest are counted, and the count is logged by the
// next line written or by Flush(). So an attacker hammering the server cannot
// flood the log, and the log still says how much was left out.
#pragma once

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace card {

class RateLimitedLog {
 public:
  // `what` names the events in the count line: "(12 more <what> not logged ...)".
  RateLimitedLog(std::string what, int lines_per_window, absl::Duration window);

  // Logs `line` as a warning, or counts it if this window's lines are used up.
  // Returns whether it was written.
  bool Warning(absl::string_view line, absl::Time now = absl::Now())
      ABSL_LOCKS_EXCLUDED(mu_);

  // Logs how many lines were left out since the last line written, if any.
  void Flush() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Starts a new window if the current one is over.
  void Roll(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string SuppressedNote() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const std::string what_;
  const int lines_per_window_;
  const absl::Duration window_;
  mutable absl::Mutex mu_;
  absl::Time window_start_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int written_ ABSL_GUARDED_BY(mu_) = 0;
  long long suppressed_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace card
