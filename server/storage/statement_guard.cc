// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/storage/statement_guard.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "absl/time/clock.h"
#include "server/exec/cancellation.h"

namespace card::storage {
namespace {
constexpr int kCancelThreads = 2;
// Cancel requests waiting for a thread; past this the socket shutdown alone
// frees the caller.
constexpr size_t kMaxPendingCancels = 256;
}  // namespace

struct StatementGuard::Watch::State {
  std::shared_ptr<pqxx::connection> connection;
  // A duplicate of the connection's socket, owned here: libpq may close its
  // own descriptor (on EOF) while the watch lasts, and the number could then
  // be reused by an unrelated socket that a shutdown() must not hit.
  int socket = -1;
  absl::Time deadline;
  Cancellation* cancellation = nullptr;
  // Guarded by Shared::mu.
  bool done = false;
  bool cancel_requested = false;
  bool socket_shut = false;
  absl::Time shut_at = absl::InfiniteFuture();
  Outcome outcome = Outcome::kFinished;
};

struct StatementGuard::Shared {
  using State = Watch::State;

  explicit Shared(absl::Duration grace_period) : grace(grace_period) {}

  // Under `mu`.
  void RequestCancel(const std::shared_ptr<State>& state, Outcome why) {
    if (state->done || state->cancel_requested) return;
    state->cancel_requested = true;
    state->outcome = why;
    state->shut_at = absl::Now() + grace;
    if (pending_cancels.size() < kMaxPendingCancels) {
      pending_cancels.push_back(state);
      cancel_ready.notify_one();
    }
    WakeTimerBy(state->shut_at);
  }

  // Under `mu`. Wakes the timer only when it sleeps past `when`: a statement
  // starts with a deadline seconds away, almost always later than one the
  // timer already waits for, and waking it for each statement cost a thread
  // switch per database round trip (issue 20).
  void WakeTimerBy(absl::Time when) {
    if (when < wakes_at) timer_changed.notify_one();
  }

  void TimerLoop() {
    std::unique_lock<std::mutex> lock(mu);
    while (!stopping) {
      absl::Time now = absl::Now();
      absl::Time next = absl::InfiniteFuture();
      for (const std::shared_ptr<State>& state : active) {
        if (!state->cancel_requested && now >= state->deadline) {
          RequestCancel(state, Outcome::kDeadlineExceeded);
        }
        if (state->cancel_requested && !state->socket_shut && now >= state->shut_at) {
          // The blocked libpq call returns with a broken connection.
          if (state->socket >= 0) ::shutdown(state->socket, SHUT_RDWR);
          state->socket_shut = true;
        }
        if (!state->cancel_requested) next = std::min(next, state->deadline);
        if (state->cancel_requested && !state->socket_shut) {
          next = std::min(next, state->shut_at);
        }
      }
      wakes_at = next;
      if (next == absl::InfiniteFuture()) {
        timer_changed.wait(lock);
      } else {
        timer_changed.wait_for(lock, absl::ToChronoNanoseconds(next - absl::Now()));
      }
      wakes_at = absl::InfinitePast();  // awake: it looks at everything again
    }
  }

  void CancelLoop() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cancel_ready.wait(lock, [this] { return stopping || !pending_cancels.empty(); });
      if (stopping) return;
      std::shared_ptr<State> state = std::move(pending_cancels.front());
      pending_cancels.pop_front();
      if (state->done) continue;
      lock.unlock();
      try {
        state->connection->cancel_query();
      } catch (const std::exception&) {
        // The socket shutdown after the grace period covers a failed request.
      }
      lock.lock();
    }
  }

  const absl::Duration grace;
  std::mutex mu;
  std::condition_variable timer_changed;
  std::condition_variable cancel_ready;
  std::set<std::shared_ptr<State>> active;
  std::deque<std::shared_ptr<State>> pending_cancels;
  bool stopping = false;
  // When the sleeping timer wakes next (InfinitePast while it is awake).
  absl::Time wakes_at = absl::InfinitePast();
};

StatementGuard::StatementGuard(absl::Duration grace)
    : shared_(std::make_shared<Shared>(grace)) {
  std::shared_ptr<Shared> shared = shared_;
  timer_ = std::thread([shared] { shared->TimerLoop(); });
  // Detached: on a frozen server a cancel request blocks until it answers, and
  // shutdown must not wait for that. They keep `shared` alive themselves.
  for (int i = 0; i < kCancelThreads; ++i) {
    std::thread([shared] { shared->CancelLoop(); }).detach();
  }
}

StatementGuard::~StatementGuard() {
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stopping = true;
  }
  shared_->timer_changed.notify_all();
  shared_->cancel_ready.notify_all();
  timer_.join();
}

std::unique_ptr<StatementGuard::Watch> StatementGuard::Start(
    std::shared_ptr<pqxx::connection> connection, absl::Time deadline) {
  auto state = std::make_shared<Watch::State>();
  state->socket = ::fcntl(connection->sock(), F_DUPFD_CLOEXEC, 0);
  state->connection = std::move(connection);
  state->deadline = deadline;
  state->cancellation = CurrentCancellation();
  std::unique_ptr<Watch> watch(new Watch(shared_, state));
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->active.insert(state);
    shared_->WakeTimerBy(state->deadline);
  }
  if (state->cancellation != nullptr) {
    std::weak_ptr<Shared> weak_shared = shared_;
    std::weak_ptr<Watch::State> weak_state = state;
    state->cancellation->SetHook([weak_shared, weak_state] {
      std::shared_ptr<Shared> shared = weak_shared.lock();
      std::shared_ptr<Watch::State> watched = weak_state.lock();
      if (shared == nullptr || watched == nullptr) return;
      std::lock_guard<std::mutex> lock(shared->mu);
      shared->RequestCancel(watched, Outcome::kCancelled);
    });
  }
  return watch;
}

StatementGuard::Watch::~Watch() { Finish(); }

StatementGuard::Outcome StatementGuard::Watch::Finish() {
  // Before taking the guard's lock: the hook takes it under the
  // cancellation's lock.
  if (state_->cancellation != nullptr) state_->cancellation->ClearHook();
  std::lock_guard<std::mutex> lock(shared_->mu);
  if (!state_->done) {
    // One step under the lock: a cancel requested before this is reported,
    // none is requested after it.
    state_->done = true;
    shared_->active.erase(state_);
    if (state_->socket >= 0) ::close(state_->socket);
    state_->socket = -1;
  }
  return state_->outcome;
}

}  // namespace card::storage
