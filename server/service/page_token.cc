// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/service/page_token.h"

#include <cstdint>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/common/status.h"
#include "server/service/validation.h"

namespace card::service {
namespace {

// FNV-1a: stable across processes and replicas (absl::Hash is not). It only
// keeps a token from being replayed against another user's list by mistake.
uint32_t UserTag(absl::string_view user_id) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : user_id) hash = (hash ^ c) * 16777619u;
  return hash;
}

// Tokens we issue hold a card's create time; anything past year 3000 is forged
// and would only make PostgreSQL's timestamp arithmetic overflow.
constexpr int64_t kLatestMicros = int64_t{32503680000} * 1000000;

absl::Status Malformed() {
  return InvalidField("page_token", "not a token from this list");
}

}  // namespace

std::string EncodePageToken(absl::string_view kind, absl::string_view user_id,
                            const model::CardCursor& cursor) {
  return absl::WebSafeBase64Escape(absl::StrCat(kind, ":", UserTag(user_id), ":",
                                                absl::ToUnixMicros(cursor.create_time),
                                                ":", cursor.id));
}

absl::StatusOr<model::CardCursor> DecodePageToken(absl::string_view kind,
                                                  absl::string_view user_id,
                                                  absl::string_view token) {
  std::string plain;
  if (!absl::WebSafeBase64Unescape(token, &plain)) return Malformed();
  std::vector<absl::string_view> parts = absl::StrSplit(plain, ':');
  uint32_t tag;
  int64_t micros;
  if (parts.size() != 4 || parts[0] != kind || !absl::SimpleAtoi(parts[1], &tag) ||
      tag != UserTag(user_id) || !absl::SimpleAtoi(parts[2], &micros) || micros < 0 ||
      micros >= kLatestMicros || !IsUuid(parts[3])) {
    return Malformed();
  }
  return model::CardCursor{absl::FromUnixMicros(micros), std::string(parts[3])};
}

}  // namespace card::service
