// The workload: which operation comes next (per scenario), and the history of
// what each operation did — invoked, then ok, failed, or indeterminate (it may
// or may not have taken effect) — which the verifier checks the data against.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/support/status.h"
#include "stress/config.h"

namespace card::stress {

struct Op {
  OpKind kind = OpKind::kCreate;
  std::string user_id;
  std::string request_id;             // create: also the card's description
  std::string card_id;                // set-default, delete, update-links, get
  std::vector<std::string> link_ids;  // update-links
  int attempt = 0;                    // retries so far
  absl::Time intended;                // latency is measured from here
};

// What one user's cards should look like, from the operations' outcomes.
struct UserHistory {
  std::set<std::string> attempted_requests;
  std::map<std::string, std::set<std::string>> acked_cards_by_request;
  std::set<std::string> indeterminate_requests;  // create outcome unknown
  std::set<std::string> acked_deleted;           // card ids
  std::set<std::string> indeterminate_deleted;   // delete outcome unknown
  std::vector<std::string> live_cards;           // what mixed operations aim at
  std::vector<std::string> links;
};

class Workload {
 public:
  Workload(const Config& config);

  // The next operation to start, or nothing when the run's budget is spent.
  std::optional<Op> Next(absl::Time now);

  // Records the final outcome of `op` (after any retries). `result_id` is the
  // card or link id an OK create/set-default/create-link returned.
  enum class Outcome { kOk, kExpected, kFailed, kIndeterminate };
  Outcome Finish(const Op& op, const grpc::Status& status, const std::string& result_id);

  // Whether a failed attempt may be retried as is (idempotent operations only).
  static bool Retryable(const Op& op, const grpc::Status& status);

  // Total operations this run will start, if known in advance (first-card).
  std::optional<int64_t> planned() const;

  std::map<std::string, UserHistory> TakeHistory();

 private:
  std::string UserName(int n) const;
  Op NewCreate(const std::string& user_id);
  std::optional<Op> NextMixed();

  const Config& config_;
  const absl::Time deadline_;
  std::mutex mu_;
  std::mt19937_64 rng_;
  int64_t issued_ = 0;
  int64_t next_request_ = 0;
  std::map<std::string, UserHistory> users_;
};

}  // namespace card::stress
