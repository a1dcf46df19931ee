#include "stress/stats.h"

#include "absl/strings/str_cat.h"

namespace card::stress {

void Stats::RecordFinal(OpKind kind, const grpc::Status& status,
                        Workload::Outcome outcome, absl::Duration latency) {
  OpStats& stats = ops_[Index(kind)];
  int code = static_cast<int>(status.error_code());
  if (code >= 0 && code < kStatusCodes) stats.codes[code]++;
  finished_++;
  bool error = outcome == Workload::Outcome::kFailed ||
               outcome == Workload::Outcome::kIndeterminate;
  if (!error) {
    stats.ok_latency.Record(latency);
    all_ok_.Record(latency);
    return;
  }
  stats.error_latency.Record(latency);
  (outcome == Workload::Outcome::kFailed ? stats.failed : stats.indeterminate)++;
  errors_++;
  std::lock_guard<std::mutex> lock(messages_mu_);
  std::string key =
      absl::StrCat(OpName(kind), ": ", status.error_code(), " ", status.error_message());
  auto it = messages_.find(key);
  if (it != messages_.end()) {
    it->second++;
  } else if (messages_.size() < 20) {
    messages_.emplace(key, 1);
  }
}

std::map<std::string, uint64_t> Stats::ErrorMessages() const {
  std::lock_guard<std::mutex> lock(messages_mu_);
  return messages_;
}

}  // namespace card::stress
