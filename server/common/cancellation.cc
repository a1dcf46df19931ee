#include "server/common/cancellation.h"

#include <utility>

namespace card {
namespace {
thread_local Cancellation* current_cancellation = nullptr;
}  // namespace

void Cancellation::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  if (cancelled_) return;
  cancelled_ = true;
  if (hook_) hook_();
}

bool Cancellation::IsCancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

void Cancellation::SetHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  hook_ = std::move(hook);
  if (cancelled_ && hook_) hook_();
}

void Cancellation::ClearHook() {
  std::lock_guard<std::mutex> lock(mu_);
  hook_ = nullptr;
}

Cancellation* CurrentCancellation() { return current_cancellation; }

ScopedCallCancellation::ScopedCallCancellation(Cancellation* cancellation)
    : previous_(current_cancellation) {
  current_cancellation = cancellation;
}

ScopedCallCancellation::~ScopedCallCancellation() { current_cancellation = previous_; }

}  // namespace card
