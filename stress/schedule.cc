// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "stress/schedule.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace card::stress {

double Schedule::At(absl::Duration elapsed) const {
  if (kind == Kind::kConst) return start;
  if (max_duration > absl::ZeroDuration()) elapsed = std::min(elapsed, max_duration);
  elapsed = std::max(elapsed, absl::ZeroDuration());
  double steps = absl::FDivDuration(elapsed, step_duration);
  if (kind == Kind::kStep) steps = std::floor(steps);
  double value = start + step * steps;
  if (end > 0) value = step >= 0 ? std::min(value, end) : std::max(value, end);
  return std::max(value, 0.0);
}

absl::StatusOr<Schedule::Kind> ParseScheduleKind(const std::string& name) {
  if (name == "const") return Schedule::Kind::kConst;
  if (name == "step") return Schedule::Kind::kStep;
  if (name == "line") return Schedule::Kind::kLine;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown schedule \"", name, "\" (const, step or line)"));
}

const char* ScheduleKindName(Schedule::Kind kind) {
  switch (kind) {
    case Schedule::Kind::kConst:
      return "const";
    case Schedule::Kind::kStep:
      return "step";
    case Schedule::Kind::kLine:
      return "line";
  }
  return "?";
}

}  // namespace card::stress
