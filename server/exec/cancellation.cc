// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/exec/cancellation.h"

#include <utility>

namespace card {
namespace {
thread_local Cancellation* current_cancellation = nullptr;
}  // namespace

void Cancellation::Cancel() {
  absl::MutexLock lock(&mu_);
  if (cancelled_) return;
  cancelled_ = true;
  if (hook_) hook_();
}

bool Cancellation::IsCancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

void Cancellation::SetHook(std::function<void()> hook) {
  absl::MutexLock lock(&mu_);
  hook_ = std::move(hook);
  if (cancelled_ && hook_) hook_();
}

void Cancellation::ClearHook() {
  absl::MutexLock lock(&mu_);
  hook_ = nullptr;
}

ScopedCancellationHook::ScopedCancellationHook(Cancellation* cancellation,
                                               std::function<void()> hook)
    : cancellation_(cancellation) {
  cancellation_->SetHook(std::move(hook));
}

void ScopedCancellationHook::Clear() {
  if (cancellation_ == nullptr) return;
  cancellation_->ClearHook();
  cancellation_ = nullptr;
}

Cancellation* CurrentCancellation() { return current_cancellation; }

ScopedCallCancellation::ScopedCallCancellation(Cancellation* cancellation)
    : previous_(current_cancellation) {
  current_cancellation = cancellation;
}

ScopedCallCancellation::~ScopedCallCancellation() { current_cancellation = previous_; }

}  // namespace card
