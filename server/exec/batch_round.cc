// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/exec/batch_round.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/log.h"

namespace card {
namespace {

// One round: its calls, and the Cancellation their work runs under, hooked to
// each call's own so that it is cancelled when the last of them is.
class BatchRound {
 public:
  explicit BatchRound(std::vector<BatchMember*> members)
      : members_(std::move(members)), not_cancelled_(members_.size()) {
    hooks_.reserve(members_.size());
    for (BatchMember* member : members_) {
      hooks_.push_back(
          std::make_unique<ScopedCancellationHook>(&member->cancellation(), [this] {
            if (not_cancelled_.fetch_sub(1) == 1) cancellation_.Cancel();
          }));
    }
  }
  BatchRound(const BatchRound&) = delete;
  BatchRound& operator=(const BatchRound&) = delete;

  // Runs the round and answers its calls, except those that failed only
  // because an earlier deadline in the round passed: those it returns.
  std::vector<BatchMember*> Run(const BatchWork& work) {
    absl::Time deadline = absl::InfiniteFuture();
    for (BatchMember* member : members_)
      deadline = std::min(deadline, member->deadline());
    std::vector<absl::Status> statuses;
    try {
      ScopedCallCancellation scope(&cancellation_);
      statuses = work(members_, deadline);
    } catch (const std::exception& e) {
      // No exception escapes a handler; the callers get a generic message.
      log::Error(absl::StrCat("unhandled exception in RPC: ", e.what()));
    }
    std::vector<BatchMember*> again;
    for (size_t i = 0; i < members_.size(); ++i) {
      BatchMember* member = members_[i];
      absl::Status status =
          i < statuses.size() ? statuses[i] : absl::InternalError("internal error");
      if (absl::IsDeadlineExceeded(status) && member->deadline() > deadline &&
          absl::Now() < member->deadline()) {
        again.push_back(member);
      } else {
        hooks_[i]->Clear();  // before answering: once answered, it may be gone
        member->Answer(status);
      }
    }
    return again;
  }

 private:
  const std::vector<BatchMember*> members_;
  Cancellation cancellation_;
  std::atomic<size_t> not_cancelled_;
  // Declared last, so destroyed first: no hook runs once what it uses is gone.
  std::vector<std::unique_ptr<ScopedCancellationHook>> hooks_;
};

}  // namespace

void RunBatch(std::vector<BatchMember*> members, const BatchWork& work) {
  while (!members.empty()) {
    std::vector<BatchMember*> live;
    live.reserve(members.size());
    for (BatchMember* member : members) {
      if (member->cancellation().IsCancelled()) {
        member->Answer(absl::CancelledError("cancelled by the client"));
      } else {
        live.push_back(member);
      }
    }
    if (live.empty()) return;
    BatchRound round(std::move(live));
    members = round.Run(work);
  }
}

}  // namespace card
