// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "stress/history.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace card::stress {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<CompactId> CompactId::Parse(absl::string_view text) {
  if (text.size() != 36) return std::nullopt;
  CompactId id;
  int digits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      continue;
    }
    int digit = HexDigit(text[i]);
    if (digit < 0) return std::nullopt;
    uint64_t& half = digits < 16 ? id.high : id.low;
    half = (half << 4) | static_cast<uint64_t>(digit);
    ++digits;
  }
  return id;
}

std::string CompactId::ToString() const {
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", high >> 32, (high >> 16) & 0xffff,
                         high & 0xffff, low >> 48, low & 0xffffffffffffULL);
}

std::string History::UserId(uint32_t user) const {
  return hot_user ? absl::StrCat(user_prefix, "-hot")
                  : absl::StrCat(user_prefix, "-", user);
}

std::string History::RequestId(uint64_t request) const {
  return absl::StrCat(user_prefix, "-r", request);
}

std::optional<uint64_t> History::RequestNumber(absl::string_view request_id) const {
  absl::string_view rest = request_id;
  if (!absl::ConsumePrefix(&rest, user_prefix) || !absl::ConsumePrefix(&rest, "-r")) {
    return std::nullopt;
  }
  uint64_t number = 0;
  if (rest.empty() || !absl::SimpleAtoi(rest, &number) || number >= creates.size() ||
      RequestId(number) != request_id) {
    return std::nullopt;
  }
  return number;
}

}  // namespace card::stress
