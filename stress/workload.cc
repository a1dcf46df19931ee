// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "stress/workload.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "stress/operations.h"

namespace card::stress {
namespace {

constexpr int kLinksPerMixedUser = 3;
// Reserve the create records up front up to this many (24 bytes each), so
// the vector does not double into a transient 1.5x peak on long runs.
constexpr int64_t kMaxReservedCreates = 20'000'000;

bool IsIndeterminate(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE ||
         code == grpc::StatusCode::DEADLINE_EXCEEDED ||
         code == grpc::StatusCode::CANCELLED || code == grpc::StatusCode::UNKNOWN;
}

CompactId IdOf(const std::string& text) {
  // A malformed id stays all zeros: it then matches no listed card, and the
  // verifier reports the create as missing.
  return CompactId::Parse(text).value_or(CompactId{});
}

}  // namespace

Workload::Workload(const Config& config)
    : config_(config),
      deadline_(config.duration > absl::ZeroDuration() ? absl::Now() + config.duration
                                                       : absl::InfiniteFuture()),
      rng_(config.seed) {
  history_.user_prefix = config.user_prefix;
  history_.hot_user = config.scenario == Scenario::kHotUser;
  if (config.scenario != Scenario::kHealth) {
    history_.users.resize(history_.hot_user ? 1 : config.users);
  }
  std::optional<int64_t> budget = planned();
  if (budget && config.scenario != Scenario::kHealth &&
      config.scenario != Scenario::kMixed) {
    history_.creates.reserve(static_cast<size_t>(std::min(*budget, kMaxReservedCreates)));
  }
}

std::optional<int64_t> Workload::planned() const {
  if (config_.scenario == Scenario::kFirstCard) {
    return static_cast<int64_t>(config_.users) * config_.burst;
  }
  if (config_.requests > 0) return config_.requests;
  return std::nullopt;
}

Op Workload::NewCreate(uint32_t user) {
  Op op;
  op.kind = OpKind::kCreate;
  op.user = user;
  op.user_id = history_.UserId(user);
  op.request = history_.creates.size();
  op.request_id = history_.RequestId(op.request);
  history_.creates.push_back(CreateRecord{CompactId{}, user, CreateState::kInFlight});
  history_.users[user].touched = true;
  return op;
}

std::optional<Op> Workload::Next(absl::Time now) {
  std::optional<int64_t> budget = planned();
  if (config_.scenario == Scenario::kHealth) {
    if (now >= deadline_) return std::nullopt;
    if (budget && health_issued_.fetch_add(1, std::memory_order_relaxed) >= *budget) {
      return std::nullopt;
    }
    Op op;
    op.kind = OpKind::kHealth;
    return op;
  }
  absl::MutexLock lock(&mu_);
  if ((budget && issued_ >= *budget) || now >= deadline_) return std::nullopt;
  std::optional<Op> op;
  switch (config_.scenario) {
    case Scenario::kFirstCard:
      // Each user's burst back to back: they reach the server's connections
      // together, which is where the race would be.
      op = NewCreate(static_cast<uint32_t>(issued_ / config_.burst));
      break;
    case Scenario::kHotUser:
      op = NewCreate(0);
      break;
    case Scenario::kSpread:
      op = NewCreate(static_cast<uint32_t>(rng_() % config_.users));
      break;
    case Scenario::kMixed:
      op = NextMixed();
      break;
    case Scenario::kHealth:  // handled above, without the lock
      break;
  }
  ++issued_;
  return op;
}

std::optional<Op> Workload::NextMixed() {
  // Set-up first: each user gets links, then a card, then the mix begins.
  int64_t setup_links = static_cast<int64_t>(config_.users) * kLinksPerMixedUser;
  if (issued_ < setup_links) {
    Op op;
    op.kind = OpKind::kCreateLink;
    op.user = static_cast<uint32_t>(issued_ % config_.users);
    op.user_id = history_.UserId(op.user);
    history_.users[op.user].touched = true;
    return op;
  }
  if (issued_ < setup_links + config_.users) {
    return NewCreate(static_cast<uint32_t>(issued_ - setup_links));
  }
  const Mix& mix = config_.mix;
  uint32_t user_index = static_cast<uint32_t>(rng_() % config_.users);
  UserSummary& user = history_.users[user_index];
  int total =
      mix.create + mix.set_default + mix.del + mix.update_links + mix.get + mix.list;
  int roll = static_cast<int>(rng_() % total);
  if ((roll -= mix.create) < 0 || user.live_cards.empty()) return NewCreate(user_index);
  Op op;
  op.user = user_index;
  op.user_id = history_.UserId(user_index);
  op.card_id = user.live_cards[rng_() % user.live_cards.size()].ToString();
  if ((roll -= mix.set_default) < 0) {
    op.kind = OpKind::kSetDefault;
  } else if ((roll -= mix.del) < 0) {
    op.kind = OpKind::kDelete;
  } else if ((roll -= mix.update_links) < 0) {
    op.kind = OpKind::kUpdateLinks;
    std::vector<std::string> links = user.links;
    std::shuffle(links.begin(), links.end(), rng_);
    links.resize(links.empty() ? 0 : rng_() % (links.size() + 1));
    op.link_ids = links;
  } else if ((roll -= mix.get) < 0) {
    op.kind = OpKind::kGet;
  } else {
    op.kind = OpKind::kList;
  }
  return op;
}

bool Workload::Retryable(const Op& op, const grpc::Status& status) {
  if (!IsIndeterminate(status.error_code()) ||
      status.error_code() == grpc::StatusCode::UNKNOWN) {
    return false;
  }
  return OperationOf(op.kind).idempotent;
}

Workload::Outcome Workload::Finish(const Op& op, const grpc::Status& status,
                                   const std::string& result_id) {
  const Operation& operation = OperationOf(op.kind);
  if (!operation.recorded) return status.ok() ? Outcome::kOk : Outcome::kFailed;
  absl::MutexLock lock(&mu_);
  UserSummary& user = history_.users[op.user];
  grpc::StatusCode code = status.error_code();
  if (status.ok()) {
    operation.record_ok(op, result_id, config_.scenario == Scenario::kMixed, history_,
                        user);
    return Outcome::kOk;
  }
  if (operation.expected(code)) {
    if (code == grpc::StatusCode::NOT_FOUND) {  // someone else deleted it
      std::vector<CompactId>& live = user.live_cards;
      const CompactId card = IdOf(op.card_id);
      live.erase(std::remove(live.begin(), live.end(), card), live.end());
    }
    return Outcome::kExpected;
  }
  const bool indeterminate = IsIndeterminate(code);
  operation.record_unsettled(op, indeterminate, history_, user);
  return indeterminate ? Outcome::kIndeterminate : Outcome::kFailed;
}

History Workload::TakeHistory() {
  absl::MutexLock lock(&mu_);
  return std::move(history_);
}

}  // namespace card::stress
