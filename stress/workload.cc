#include "stress/workload.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace card::stress {
namespace {

constexpr int kLinksPerMixedUser = 3;

bool IsIndeterminate(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE ||
         code == grpc::StatusCode::DEADLINE_EXCEEDED ||
         code == grpc::StatusCode::CANCELLED || code == grpc::StatusCode::UNKNOWN;
}

// Codes an operation may legitimately end with in a mixed run, where our own
// deletes race our own set-defaults and updates.
bool Expected(OpKind kind, grpc::StatusCode code) {
  switch (kind) {
    case OpKind::kSetDefault:
    case OpKind::kGet:
    case OpKind::kUpdateLinks:
      return code == grpc::StatusCode::NOT_FOUND;
    case OpKind::kDelete:
      return code == grpc::StatusCode::NOT_FOUND ||
             code == grpc::StatusCode::FAILED_PRECONDITION;  // the user's last card
    default:
      return false;
  }
}

}  // namespace

Workload::Workload(const Config& config)
    : config_(config),
      deadline_(config.duration > absl::ZeroDuration() ? absl::Now() + config.duration
                                                       : absl::InfiniteFuture()),
      rng_(config.seed) {}

std::string Workload::UserName(int n) const {
  return absl::StrCat(config_.user_prefix, "-", n);
}

std::optional<int64_t> Workload::planned() const {
  if (config_.scenario == Scenario::kFirstCard) {
    return static_cast<int64_t>(config_.users) * config_.burst;
  }
  if (config_.requests > 0) return config_.requests;
  return std::nullopt;
}

Op Workload::NewCreate(const std::string& user_id) {
  Op op;
  op.kind = OpKind::kCreate;
  op.user_id = user_id;
  op.request_id = absl::StrCat(config_.user_prefix, "-r", next_request_++);
  users_[user_id].attempted_requests.insert(op.request_id);
  return op;
}

std::optional<Op> Workload::Next(absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<int64_t> budget = planned();
  if ((budget && issued_ >= *budget) || now >= deadline_) return std::nullopt;
  std::optional<Op> op;
  switch (config_.scenario) {
    case Scenario::kFirstCard:
      // Each user's burst back to back: they reach the server's connections
      // together, which is where the race would be.
      op = NewCreate(UserName(static_cast<int>(issued_ / config_.burst)));
      break;
    case Scenario::kHotUser:
      op = NewCreate(absl::StrCat(config_.user_prefix, "-hot"));
      break;
    case Scenario::kSpread:
      op = NewCreate(UserName(static_cast<int>(rng_() % config_.users)));
      break;
    case Scenario::kMixed:
      op = NextMixed();
      break;
    case Scenario::kHealth:
      op.emplace();
      op->kind = OpKind::kHealth;
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
    op.user_id = UserName(static_cast<int>(issued_ % config_.users));
    return op;
  }
  if (issued_ < setup_links + config_.users) {
    return NewCreate(UserName(static_cast<int>(issued_ - setup_links)));
  }
  const Mix& mix = config_.mix;
  std::string user_id = UserName(static_cast<int>(rng_() % config_.users));
  UserHistory& user = users_[user_id];
  int total =
      mix.create + mix.set_default + mix.del + mix.update_links + mix.get + mix.list;
  int roll = static_cast<int>(rng_() % total);
  if ((roll -= mix.create) < 0 || user.live_cards.empty()) return NewCreate(user_id);
  Op op;
  op.user_id = user_id;
  op.card_id = user.live_cards[rng_() % user.live_cards.size()];
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
  switch (op.kind) {
    case OpKind::kCreate:  // the request_id makes the retry safe
    case OpKind::kSetDefault:
    case OpKind::kUpdateLinks:  // replacing links with the same list again
    case OpKind::kGet:
    case OpKind::kList:
    case OpKind::kHealth:
      return true;
    case OpKind::kDelete:      // a retry could not tell "done" from "never existed"
    case OpKind::kCreateLink:  // no idempotency key
      return false;
  }
  return false;
}

Workload::Outcome Workload::Finish(const Op& op, const grpc::Status& status,
                                   const std::string& result_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (op.kind == OpKind::kHealth) {
    return status.ok() ? Outcome::kOk : Outcome::kFailed;
  }
  UserHistory& user = users_[op.user_id];
  grpc::StatusCode code = status.error_code();
  if (status.ok()) {
    switch (op.kind) {
      case OpKind::kCreate:
        user.acked_cards_by_request[op.request_id].insert(result_id);
        // Only the mixed scenario aims operations at existing cards.
        if (config_.scenario == Scenario::kMixed) user.live_cards.push_back(result_id);
        break;
      case OpKind::kDelete:
        user.acked_deleted.insert(op.card_id);
        user.live_cards.erase(
            std::remove(user.live_cards.begin(), user.live_cards.end(), op.card_id),
            user.live_cards.end());
        break;
      case OpKind::kCreateLink:
        user.links.push_back(result_id);
        break;
      default:
        break;
    }
    return Outcome::kOk;
  }
  if (Expected(op.kind, code)) {
    if (code == grpc::StatusCode::NOT_FOUND) {  // someone else deleted it
      user.live_cards.erase(
          std::remove(user.live_cards.begin(), user.live_cards.end(), op.card_id),
          user.live_cards.end());
    }
    return Outcome::kExpected;
  }
  if (IsIndeterminate(code)) {
    if (op.kind == OpKind::kCreate) user.indeterminate_requests.insert(op.request_id);
    if (op.kind == OpKind::kDelete) user.indeterminate_deleted.insert(op.card_id);
    return Outcome::kIndeterminate;
  }
  return Outcome::kFailed;
}

std::map<std::string, UserHistory> Workload::TakeHistory() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(users_);
}

}  // namespace card::stress
