// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Bounds how long a thread can stay blocked on a PostgreSQL connection.
//
// A statement that runs past its deadline, or whose call is cancelled, is first
// cancelled the polite way (libpq's cancel request: PostgreSQL aborts the
// statement and rolls the transaction back, so a create waiting for the user's
// lock never commits). If PostgreSQL does not answer within `grace` of that
// (it is frozen, or the network is gone), the connection's socket is shut
// down, which makes the blocked libpq call return at once with a broken
// connection. PostgreSQL's own statement_timeout cannot do this: a frozen
// server enforces nothing.
//
// Cancel requests open a connection of their own and block until PostgreSQL
// answers, so they are sent from a small set of threads of their own; if those
// are all stuck on a frozen server, the socket shutdown still frees the caller.
#pragma once

#include <memory>
#include <pqxx/connection>
#include <thread>

#include "absl/time/time.h"

namespace card::storage {

class StatementGuard {
 public:
  explicit StatementGuard(absl::Duration grace);
  ~StatementGuard();  // Does not wait for cancel requests stuck on a frozen server.

  StatementGuard(const StatementGuard&) = delete;
  StatementGuard& operator=(const StatementGuard&) = delete;

  struct Shared;
  enum class Outcome { kFinished, kCancelled, kDeadlineExceeded };

  // Watches one use of `connection` (a statement or a transaction) from
  // construction to destruction. Also hooks the calling thread's current call
  // cancellation (exec/cancellation.h), if any.
  class Watch {
   public:
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    // Ends the watch (no cancel is sent after this) and says whether the
    // statement was interrupted. When not kFinished, the connection must not
    // be reused: a cancel request already on its way could hit its next
    // statement. Idempotent; the destructor calls it.
    Outcome Finish();

   private:
    friend class StatementGuard;
    struct State;
    Watch(std::shared_ptr<Shared> shared, std::shared_ptr<State> state)
        : shared_(std::move(shared)), state_(std::move(state)) {}
    std::shared_ptr<Shared> shared_;
    std::shared_ptr<State> state_;
  };

  std::unique_ptr<Watch> Start(std::shared_ptr<pqxx::connection> connection,
                               absl::Time deadline);

 private:
  std::shared_ptr<Shared> shared_;
  std::thread timer_;
};

}  // namespace card::storage
