// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// What the load did to the data, kept compact so that memory grows with users
// and cards, not with operations: a card id is 16 bytes (the server's ids are
// UUIDs), each create is one 24-byte record, and each user a small summary.
// The verifier checks the read-back data against this (verifier.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace card::stress {

// A card or link id: a UUID as two 64-bit halves.
struct CompactId {
  uint64_t high = 0, low = 0;

  // Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (either case).
  static std::optional<CompactId> Parse(absl::string_view text);
  std::string ToString() const;  // lower-case, dashed
  bool operator==(const CompactId& other) const {
    return high == other.high && low == other.low;
  }
  bool operator<(const CompactId& other) const {
    return high != other.high ? high < other.high : low < other.low;
  }
};

// The final outcome of one create, by its request number.
enum class CreateState : uint8_t { kInFlight, kAcknowledged, kIndeterminate, kFailed };

struct CreateRecord {
  CompactId card;  // the card an acknowledged create returned
  uint32_t user = 0;
  CreateState state = CreateState::kInFlight;
};
static_assert(sizeof(CreateRecord) <= 24, "one create must stay 24 bytes");

// One user's summary. The id lists are filled only by the mixed scenario,
// whose operations aim at existing cards and links (one entry per card).
struct UserSummary {
  bool touched = false;  // an operation was aimed at this user
  uint32_t acknowledged_creates = 0;
  uint32_t indeterminate_creates = 0;
  std::vector<CompactId> live_cards;             // mixed: what operations aim at
  std::vector<CompactId> acknowledged_deleted;   // mixed
  std::vector<CompactId> indeterminate_deleted;  // mixed: delete outcome unknown
  std::vector<std::string> links;                // mixed: a few platform-link ids
};

// The whole run's history. A create's request_id is "<user_prefix>-r<N>" and N
// indexes `creates`; the card's description carries the same text, so each
// listed card leads back to its create.
struct History {
  std::string user_prefix;
  bool hot_user = false;  // one user, named "<user_prefix>-hot"
  std::vector<CreateRecord> creates;
  std::vector<UserSummary> users;

  std::string UserId(uint32_t user) const;
  std::string RequestId(uint64_t request) const;
  // The request number in a request_id (a card's description) of this run.
  std::optional<uint64_t> RequestNumber(absl::string_view request_id) const;
};

}  // namespace card::stress
