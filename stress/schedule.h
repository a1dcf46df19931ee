// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Load shapes, the way ghz gives them (--load-schedule, --concurrency-schedule):
// a value (operations per second, or operations in flight) as a function of
// the time since the load started.
//   const: `start` throughout
//   step:  `start`, plus `step` every `step_duration`, up to `end`
//   line:  `start`, rising by `step` per `step_duration`, continuously, up to `end`
// `end` 0 means no bound; a negative step falls towards `end`. After
// `max_duration` (if set) the value holds where it is.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace card::stress {

struct Schedule {
  enum class Kind { kConst, kStep, kLine };
  Kind kind = Kind::kConst;
  double start = 0;
  double step = 0;
  double end = 0;
  absl::Duration step_duration = absl::Seconds(1);
  absl::Duration max_duration = absl::ZeroDuration();

  double At(absl::Duration elapsed) const;
  bool constant() const { return kind == Kind::kConst; }
};

absl::StatusOr<Schedule::Kind> ParseScheduleKind(const std::string& name);
const char* ScheduleKindName(Schedule::Kind kind);

}  // namespace card::stress
