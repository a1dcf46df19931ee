// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "stress/config.h"

#include <algorithm>
#include <iterator>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace card::stress {

absl::StatusOr<Scenario> ParseScenario(const std::string& name) {
  if (name == "first-card") return Scenario::kFirstCard;
  if (name == "hot-user") return Scenario::kHotUser;
  if (name == "spread") return Scenario::kSpread;
  if (name == "mixed") return Scenario::kMixed;
  if (name == "health") return Scenario::kHealth;
  return absl::InvalidArgumentError(absl::StrCat("--scenario: unknown \"", name, "\""));
}

absl::StatusOr<Mix> ParseMix(const std::string& text) {
  Mix mix{0, 0, 0, 0, 0, 0};
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(item, ':');
    int weight = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &weight) || weight < 0) {
      return absl::InvalidArgumentError(absl::StrCat("--mix: bad item \"", item, "\""));
    }
    const std::string& name = parts[0];
    if (name == "create")
      mix.create = weight;
    else if (name == "set-default")
      mix.set_default = weight;
    else if (name == "delete")
      mix.del = weight;
    else if (name == "update-links")
      mix.update_links = weight;
    else if (name == "get")
      mix.get = weight;
    else if (name == "list")
      mix.list = weight;
    else
      return absl::InvalidArgumentError(
          absl::StrCat("--mix: unknown operation \"", name, "\""));
  }
  if (mix.create + mix.set_default + mix.del + mix.update_links + mix.get + mix.list ==
      0) {
    return absl::InvalidArgumentError("--mix: all weights are zero");
  }
  return mix;
}

absl::StatusOr<Schedule> MakeSchedule(const char* flag, const std::string& kind_name,
                                      double start, double step, double end,
                                      absl::Duration step_duration,
                                      absl::Duration max_duration) {
  absl::StatusOr<Schedule::Kind> kind = ParseScheduleKind(kind_name);
  if (!kind.ok())
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": ", kind.status().message()));
  Schedule schedule;
  schedule.kind = *kind;
  schedule.start = start;
  schedule.step = step;
  schedule.end = end;
  schedule.step_duration = step_duration;
  schedule.max_duration = max_duration;
  if (schedule.kind != Schedule::Kind::kConst) {
    if (start < 0 || end < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, ": start and end must be >= 0"));
    }
    if (step == 0)
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": needs a step"));
    if (step_duration <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, ": step duration must be > 0"));
    }
  }
  return schedule;
}

absl::StatusOr<Progress> ParseProgress(const std::string& text) {
  if (text == "true") return Progress::kLines;
  if (text == "false") return Progress::kOff;
  if (text == "auto") return Progress::kAuto;
  return absl::InvalidArgumentError("--progress: true, false or auto");
}

const char* ScenarioName(Scenario scenario) {
  switch (scenario) {
    case Scenario::kFirstCard:
      return "first-card";
    case Scenario::kHotUser:
      return "hot-user";
    case Scenario::kSpread:
      return "spread";
    case Scenario::kMixed:
      return "mixed";
    case Scenario::kHealth:
      return "health";
  }
  return "?";
}

}  // namespace card::stress
