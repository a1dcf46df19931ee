// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// A call's cancellation, shared between the layer that learns of it (the rpc
// layer: the client cancelled, or the server is shutting down) and the layer
// that can act on it (storage: cancel the statement running in PostgreSQL).
//
// The rpc layer makes one per call and installs it on the worker thread that
// serves the call (ScopedCallCancellation); storage finds it with
// CurrentCancellation() and hooks its statement to it. Neither layer knows the
// other, and no signature between them carries it.
#pragma once

#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace card {

class Cancellation {
 public:
  // Marks the call cancelled and runs the hook, if one is set, once. Thread-safe.
  void Cancel() ABSL_LOCKS_EXCLUDED(mu_);
  bool IsCancelled() const ABSL_LOCKS_EXCLUDED(mu_);

  // Sets the hook Cancel() runs; runs it at once if already cancelled. The hook
  // runs under this object's lock: it must be quick and must not block. Prefer
  // ScopedCancellationHook, which clears it when it goes out of scope.
  void SetHook(std::function<void()> hook) ABSL_LOCKS_EXCLUDED(mu_);
  // After this returns the hook is neither running nor going to run.
  void ClearHook() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> hook_ ABSL_GUARDED_BY(mu_);
};

// Sets `hook` on `cancellation` for the scope: once destroyed (or Clear()ed)
// the hook is neither running nor going to run, so it may capture what lives
// no longer than this object.
class ScopedCancellationHook {
 public:
  ScopedCancellationHook(Cancellation* cancellation, std::function<void()> hook);
  ~ScopedCancellationHook() { Clear(); }
  ScopedCancellationHook(const ScopedCancellationHook&) = delete;
  ScopedCancellationHook& operator=(const ScopedCancellationHook&) = delete;

  // Clears the hook early (e.g. before the cancellation's owner goes away).
  void Clear();

 private:
  Cancellation* cancellation_;  // null once cleared
};

// The cancellation of the call this thread is serving; null outside a call.
Cancellation* CurrentCancellation();

// Installs `cancellation` as this thread's current one for the scope.
class ScopedCallCancellation {
 public:
  explicit ScopedCallCancellation(Cancellation* cancellation);
  ~ScopedCallCancellation();
  ScopedCallCancellation(const ScopedCallCancellation&) = delete;
  ScopedCallCancellation& operator=(const ScopedCallCancellation&) = delete;

 private:
  Cancellation* previous_;
};

}  // namespace card
