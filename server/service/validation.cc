// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/service/validation.h"

#include <cstdint>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/common/status.h"

namespace card::service {
namespace {

bool IsPrintableAscii(absl::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

absl::Status ValidateUserId(absl::string_view user_id, absl::string_view field) {
  if (user_id.empty()) return InvalidField(field, "required");
  if (user_id.size() > kMaxUserIdBytes) {
    return InvalidField(field, absl::StrCat("at most ", kMaxUserIdBytes, " bytes"));
  }
  if (!IsPrintableAscii(user_id)) {
    return InvalidField(field, "printable ASCII only (no spaces or control characters)");
  }
  return absl::OkStatus();
}

bool IsUuid(absl::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-'
             : !absl::ascii_isxdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return true;
}

absl::Status ValidateUuid(absl::string_view value, absl::string_view field) {
  if (value.empty()) return InvalidField(field, "required");
  if (!IsUuid(value)) return InvalidField(field, "must be a UUID");
  return absl::OkStatus();
}

namespace {

// Decodes the code point at `text[*i]` and advances `*i`; -1 if invalid UTF-8.
int32_t NextCodePoint(absl::string_view text, size_t* i) {
  unsigned char lead = static_cast<unsigned char>(text[*i]);
  size_t extra;
  uint32_t min_code_point;
  if (lead < 0x80) {
    extra = 0, min_code_point = 0;
  } else if ((lead & 0xe0) == 0xc0) {
    extra = 1, min_code_point = 0x80;
  } else if ((lead & 0xf0) == 0xe0) {
    extra = 2, min_code_point = 0x800;
  } else if ((lead & 0xf8) == 0xf0) {
    extra = 3, min_code_point = 0x10000;
  } else {
    return -1;
  }
  if (*i + extra >= text.size() && extra > 0) return -1;  // truncated sequence
  uint32_t code_point = extra == 0 ? lead : lead & (0x3f >> extra);
  for (size_t k = 1; k <= extra; ++k) {
    unsigned char next = static_cast<unsigned char>(text[*i + k]);
    if ((next & 0xc0) != 0x80) return -1;
    code_point = (code_point << 6) | (next & 0x3f);
  }
  if (code_point < min_code_point || code_point > 0x10ffff ||
      (code_point >= 0xd800 && code_point <= 0xdfff)) {
    return -1;
  }
  *i += extra + 1;
  return static_cast<int32_t>(code_point);
}

// What a single line of display text must not contain, or nullptr.
const char* ForbiddenOnOneLine(int32_t c) {
  if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f)) return "control characters";
  if (c == 0x2028 || c == 0x2029) return "line or paragraph separators";
  if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
    return "bidirectional overrides or isolates";
  }
  return nullptr;
}

}  // namespace

int Utf8Length(absl::string_view text) {
  int count = 0;
  for (size_t i = 0; i < text.size(); ++count) {
    if (NextCodePoint(text, &i) < 0) return -1;
  }
  return count;
}

absl::Status ValidateText(absl::string_view text, absl::string_view field, size_t min,
                          size_t max) {
  size_t length = 0;
  for (size_t i = 0; i < text.size(); ++length) {
    int32_t c = NextCodePoint(text, &i);
    if (c < 0) return InvalidField(field, "must be valid UTF-8");
    if (const char* what = ForbiddenOnOneLine(c)) {
      return InvalidField(field, absl::StrCat("must not contain ", what));
    }
  }
  if (length < min) {
    return InvalidField(field, min == 1 ? std::string("required")
                                        : absl::StrCat("at least ", min, " characters"));
  }
  if (length > max) {
    return InvalidField(field, absl::StrCat("at most ", max, " characters"));
  }
  return absl::OkStatus();
}

absl::Status ValidateVisibility(model::Visibility visibility, absl::string_view field,
                                bool allow_unspecified) {
  const bool known = visibility >= model::Visibility::kUnspecified &&
                     visibility <= model::Visibility::kPrivate;
  if (allow_unspecified) {
    return known ? absl::OkStatus() : InvalidField(field, "unknown value");
  }
  if (!known || visibility == model::Visibility::kUnspecified) {
    return InvalidField(
        field, "must be VISIBILITY_PUBLIC, VISIBILITY_UNLISTED or VISIBILITY_PRIVATE");
  }
  return absl::OkStatus();
}

absl::Status ValidateLinkIds(const std::vector<std::string>& link_ids,
                             absl::string_view field) {
  if (link_ids.size() > kMaxLinksPerCard) {
    return InvalidField(field,
                        absl::StrCat("at most ", kMaxLinksPerCard, " links per card"));
  }
  absl::flat_hash_set<std::string> seen;
  for (size_t i = 0; i < link_ids.size(); ++i) {
    std::string element = absl::StrCat(field, "[", i, "]");
    if (!IsUuid(link_ids[i])) return InvalidField(element, "must be a UUID");
    if (!seen.insert(absl::AsciiStrToLower(link_ids[i])).second) {
      return InvalidField(element, "repeats an earlier link id");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePlatformLink(absl::string_view platform, absl::string_view username,
                                  absl::string_view url, int display_order,
                                  absl::string_view prefix) {
  CARD_RETURN_IF_ERROR(
      ValidateText(platform, absl::StrCat(prefix, "platform"), 1, kMaxPlatformChars));
  CARD_RETURN_IF_ERROR(
      ValidateText(username, absl::StrCat(prefix, "username"), 1, kMaxUsernameChars));
  std::string url_field = absl::StrCat(prefix, "url");
  if (url.empty()) return InvalidField(url_field, "required");
  if (url.size() > kMaxUrlBytes) {
    return InvalidField(url_field, absl::StrCat("at most ", kMaxUrlBytes, " bytes"));
  }
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "https://") && !absl::ConsumePrefix(&rest, "http://")) {
    return InvalidField(url_field, "must start with http:// or https://");
  }
  if (rest.empty() || rest.front() == '/' || !IsPrintableAscii(rest)) {
    return InvalidField(url_field,
                        "must name a host and contain no spaces or control characters");
  }
  absl::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (absl::StrContains(authority, '@')) {
    return InvalidField(url_field, "must not contain user credentials (user:pass@)");
  }
  if (display_order < 0) {
    return InvalidField(absl::StrCat(prefix, "display_order"), "must not be negative");
  }
  return absl::OkStatus();
}

absl::Status ValidateRequestId(absl::string_view request_id) {
  if (request_id.size() > kMaxRequestIdBytes) {
    return InvalidField("request_id",
                        absl::StrCat("at most ", kMaxRequestIdBytes, " bytes"));
  }
  if (!IsPrintableAscii(request_id))
    return InvalidField("request_id", "printable ASCII only");
  return absl::OkStatus();
}

absl::Status ValidateSlug(absl::string_view slug) {
  if (slug.empty()) return InvalidField("slug", "required");
  if (slug.size() > kMaxSlugBytes) {
    return InvalidField("slug", absl::StrCat("at most ", kMaxSlugBytes, " bytes"));
  }
  for (char c : slug) {
    if (!absl::ascii_islower(static_cast<unsigned char>(c)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '-') {
      return InvalidField("slug", "lowercase letters, digits and hyphens only");
    }
  }
  return absl::OkStatus();
}

std::string SlugBase(absl::string_view title) {
  constexpr size_t kMaxSlugBase = 40;
  std::string slug;
  bool pending_hyphen = false;
  for (char c : title) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      if (pending_hyphen && !slug.empty()) slug.push_back('-');
      pending_hyphen = false;
      if (slug.size() >= kMaxSlugBase) break;
      slug.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
    } else {
      pending_hyphen = true;
    }
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug.empty() ? "card" : slug;
}

}  // namespace card::service
