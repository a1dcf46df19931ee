// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Group commit's batch: calls of one kind, taken in one scheduler turn
// (PerUserScheduler::Job::RunBatch), run together by one piece of work (one
// transaction, one lock, one commit), each answered with its own status.
//
// The rules, the same for every kind of call (rpc/unary_call.h is one user):
// - A call cancelled by the time a round starts is answered CANCELLED and
//   left out of it.
// - A round is bounded by the earliest deadline among its calls. If that cuts
//   it short (nothing of it was written), the calls whose own deadline is
//   still ahead go again in a new round without the expired ones: a caller
//   with a tight deadline costs the others a retry, never their result.
// - The round's work runs under a Cancellation of its own (what storage hooks
//   its statement to: exec/cancellation.h), cancelled only when every call of
//   the round has been, so one caller giving up never undoes the others' work.
#pragma once

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/exec/cancellation.h"

namespace card {

// One call of a batch, as the batch sees it.
class BatchMember {
 public:
  virtual ~BatchMember() = default;
  // When the call's caller stops waiting.
  virtual absl::Time deadline() const = 0;
  // The call's own cancellation (its client cancelled).
  virtual Cancellation& cancellation() = 0;
  // Answers the call. Called once; the member may be gone when it returns.
  virtual void Answer(const absl::Status& status) = 0;
};

// The work of one round: runs `members` together, bounded by `deadline`, and
// returns one status per member, in order. Called on the worker's thread with
// the round's Cancellation installed (CurrentCancellation()). Missing
// statuses, and an exception, answer INTERNAL.
using BatchWork = std::function<std::vector<absl::Status>(
    const std::vector<BatchMember*>& members, absl::Time deadline)>;

// Runs `members` (of one kind, in arrival order) in rounds under the rules
// above until every one of them is answered.
void RunBatch(std::vector<BatchMember*> members, const BatchWork& work);

}  // namespace card
