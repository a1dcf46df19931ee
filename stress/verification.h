// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// What verification found: checks and their verdicts, the way Jepsen gives
// them — true, false, or unknown (could not tell); combined, false beats
// unknown beats true. The verifier (verifier.h) fills it; the report reads it.
#pragma once

#include <string>
#include <vector>

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

}  // namespace card::stress
