// After the load: reads every touched user's cards back (through the API with
// the client library's CardClient, every page, and by SQL when given a
// database URL) and checks them against the history. Each user's cards are
// checked as soon as they are read and then dropped, so the read-back holds
// only a few users' cards at a time.
// Verdicts the way Jepsen gives them: true, false, or unknown (could not tell);
// combined, false beats unknown beats true.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "stress/config.h"
#include "stress/workload.h"

namespace card::stress {

enum class Verdict { kTrue, kUnknown, kFalse };
const char* VerdictName(Verdict verdict);

struct Check {
  std::string name;
  std::string description;
  Verdict verdict = Verdict::kTrue;
  int users = 0;                        // users checked
  std::vector<std::string> violations;  // first few, "user: what was found"
  int violation_count = 0;
};

struct Verification {
  bool ran = false;
  // Why not, when it did not run: "not applicable" (health: no data written)
  // or "off" (--verify=false).
  std::string not_run_reason;
  std::vector<Check> checks;
  Verdict verdict = Verdict::kTrue;
};

Verification Verify(const Config& config,
                    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                    const History& history);

}  // namespace card::stress
