// What the load did, counted without keeping per-request samples.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "grpcpp/support/status.h"
#include "stress/config.h"
#include "stress/histogram.h"
#include "stress/workload.h"

namespace card::stress {

inline constexpr int kStatusCodes = 17;

struct OpStats {
  Histogram ok_latency;     // OK and expected answers (e.g. NOT_FOUND after a race)
  Histogram error_latency;  // failed and indeterminate
  std::array<std::atomic<uint64_t>, kStatusCodes> codes{};  // final status per operation
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> indeterminate{0};
};

class Stats {
 public:
  void RecordAttemptRetried(OpKind kind) { ops_[Index(kind)].retries++; }
  // The final outcome of one operation.
  void RecordFinal(OpKind kind, const grpc::Status& status, Workload::Outcome outcome,
                   absl::Duration latency);

  const OpStats& op(OpKind kind) const { return ops_[Index(kind)]; }
  const Histogram& all_ok() const { return all_ok_; }
  uint64_t finished() const { return finished_.load(); }
  uint64_t errors() const { return errors_.load(); }
  // Distinct error messages (first 20) and how often each was seen.
  std::map<std::string, uint64_t> ErrorMessages() const;

 private:
  static int Index(OpKind kind) { return static_cast<int>(kind); }

  std::array<OpStats, kOpKinds> ops_;
  Histogram all_ok_;
  std::atomic<uint64_t> finished_{0};
  std::atomic<uint64_t> errors_{0};
  mutable std::mutex messages_mu_;
  std::map<std::string, uint64_t> messages_;
};

}  // namespace card::stress
