// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/exec/periodic_task.h"

#include <utility>

namespace card {

PeriodicTask::PeriodicTask(absl::Duration interval, std::function<void()> run)
    : interval_(interval), run_(std::move(run)) {
  thread_ = std::thread([this] { Loop(); });
}

PeriodicTask::~PeriodicTask() { Stop(); }

void PeriodicTask::Loop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      // True when stopping_ became true; false when the interval passed.
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_)) return;
    }
    run_();
  }
}

void PeriodicTask::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace card
