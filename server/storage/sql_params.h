// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Turning request values into statement parameters, shared by the stores.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>
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

// A text[] literal: every element double-quoted, with `"` and `\` escaped, so
// any text (commas, braces, quotes, NULL-like words) arrives as itself. It
// travels as a bound parameter, never as SQL text.
inline std::string TextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (const std::string& value : values) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : value) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

// An integer[], smallint[] or boolean[] literal (booleans as t/f).
template <typename Number>
std::string NumberArray(const std::vector<Number>& values) {
  std::string out = "{";
  for (const Number& value : values) {
    if (out.size() > 1) out += ',';
    if constexpr (std::is_same_v<Number, bool>) {
      out += value ? 't' : 'f';
    } else {
      absl::StrAppend(&out, value);
    }
  }
  out += '}';
  return out;
}

}  // namespace card::storage
