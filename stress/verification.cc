// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "stress/verification.h"

namespace card::stress {

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kTrue:
      return "pass";
    case Verdict::kUnknown:
      return "unknown";
    case Verdict::kFalse:
      return "FAIL";
  }
  return "?";
}

}  // namespace card::stress
