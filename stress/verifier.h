// After the load: reads every touched user's cards back (through the API with
// the client library's CardClient, every page, and by SQL when given a
// database URL) and checks them against the history.
// Verdicts the way Jepsen gives them: true, false, or unknown (could not tell);
// combined, false beats unknown beats true.
#pragma once

#include <map>
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
  std::vector<Check> checks;
  Verdict verdict = Verdict::kTrue;
};

Verification Verify(const Config& config,
                    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                    const std::map<std::string, UserHistory>& history);

}  // namespace card::stress
