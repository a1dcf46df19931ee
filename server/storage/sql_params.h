// Turning request values into statement parameters, shared by the stores.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace card::storage {

// How long the SQL may wait for the user's lock: what is left before the
// deadline, in whole milliseconds (0 would mean "forever" to PostgreSQL).
inline absl::StatusOr<int> LockTimeoutMs(absl::Time deadline) {
  int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
  if (ms < 1)
    return absl::DeadlineExceededError("deadline passed before the database was reached");
  return static_cast<int>(std::min<int64_t>(ms, INT32_MAX));
}

// A uuid[] literal. The ids were validated as UUIDs, and it travels as a bound
// parameter, never as SQL text.
inline std::string UuidArray(const std::vector<std::string>& ids) {
  return absl::StrCat("{", absl::StrJoin(ids, ","), "}");
}

}  // namespace card::storage
