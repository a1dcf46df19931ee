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
#include <mutex>

namespace card {

class Cancellation {
 public:
  // Marks the call cancelled and runs the hook, if one is set, once. Thread-safe.
  void Cancel();
  bool IsCancelled() const;

  // Sets the hook Cancel() runs; runs it at once if already cancelled. The hook
  // runs under this object's lock: it must be quick and must not block.
  void SetHook(std::function<void()> hook);
  // After this returns the hook is neither running nor going to run.
  void ClearHook();

 private:
  mutable std::mutex mu_;
  bool cancelled_ = false;
  std::function<void()> hook_;
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
