// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/common/rate_limited_log.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"

namespace card {

RateLimitedLog::RateLimitedLog(std::string what, int lines_per_window,
                               absl::Duration window)
    : what_(std::move(what)), lines_per_window_(lines_per_window), window_(window) {}

std::string RateLimitedLog::SuppressedNote() const {
  return absl::StrCat("(", suppressed_, " more ", what_, " not logged: rate limit)");
}

void RateLimitedLog::Roll(absl::Time now) {
  if (now - window_start_ < window_) return;
  window_start_ = now;
  written_ = 0;
}

bool RateLimitedLog::Warning(absl::string_view line, absl::Time now) {
  absl::MutexLock lock(&mu_);
  Roll(now);
  if (written_ >= lines_per_window_) {
    ++suppressed_;
    return false;
  }
  ++written_;
  if (suppressed_ > 0) {
    log::Warning(absl::StrCat(line, " ", SuppressedNote()));
    suppressed_ = 0;
  } else {
    log::Warning(line);
  }
  return true;
}

void RateLimitedLog::Flush() {
  absl::MutexLock lock(&mu_);
  if (suppressed_ == 0) return;
  log::Warning(SuppressedNote());
  suppressed_ = 0;
}

}  // namespace card
