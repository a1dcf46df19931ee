// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Pure checks of request fields. Each returns OK or an INVALID_ARGUMENT status
// naming the field (see common/status.h); none touches the database.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/model/card.h"

namespace card::service {

inline constexpr size_t kMaxUserIdBytes = 128;
inline constexpr size_t kMaxTitleChars = 100;
inline constexpr size_t kMaxDescriptionChars = 100;
inline constexpr size_t kMaxRequestIdBytes = 128;
inline constexpr size_t kMaxLinksPerCard = 50;
inline constexpr size_t kMaxPlatformChars = 50;
inline constexpr size_t kMaxUsernameChars = 100;
inline constexpr size_t kMaxUrlBytes = 2048;

// 1-128 bytes of printable ASCII (0x21-0x7e: no spaces, no control characters).
absl::Status ValidateUserId(absl::string_view user_id,
                            absl::string_view field = "user_id");

// A canonical textual UUID (8-4-4-4-12 hex digits).
bool IsUuid(absl::string_view text);
absl::Status ValidateUuid(absl::string_view value, absl::string_view field);

// Length in Unicode code points; -1 if `text` is not valid UTF-8.
int Utf8Length(absl::string_view text);

// Valid UTF-8 of `min`..`max` code points on one line: no C0 or C1 control
// characters, no line or paragraph separators, and no bidirectional
// overrides or isolates (which let a title display as something it is not).
absl::Status ValidateText(absl::string_view text, absl::string_view field, size_t min,
                          size_t max);

// One of the Visibility values; kUnspecified only if `allow_unspecified` (a
// create may leave it to the default, an update that names it may not).
absl::Status ValidateVisibility(model::Visibility visibility, absl::string_view field,
                                bool allow_unspecified);

// Card link ids: UUIDs, no repeats, at most kMaxLinksPerCard.
absl::Status ValidateLinkIds(const std::vector<std::string>& link_ids,
                             absl::string_view field = "link_ids");

// A platform link's fields: platform 1-50 characters, username 1-100, url an
// absolute http(s) URL of at most 2048 bytes without user credentials
// (user:pass@host), display_order >= 0. Field names
// are prefixed with `prefix` (e.g. "link.").
absl::Status ValidatePlatformLink(absl::string_view platform, absl::string_view username,
                                  absl::string_view url, int display_order,
                                  absl::string_view prefix);

// Optional idempotency key: at most 128 bytes of printable ASCII.
absl::Status ValidateRequestId(absl::string_view request_id);

// A shared card's slug as card_create makes them: 1-64 bytes of lowercase
// ASCII letters, digits and hyphens.
inline constexpr size_t kMaxSlugBytes = 64;
absl::Status ValidateSlug(absl::string_view slug);

// The readable part of a card's slug: the title lowercased, ASCII letters and
// digits kept, everything else collapsed into single hyphens, at most 40
// characters; "card" if nothing is left. Storage appends a random suffix.
std::string SlugBase(absl::string_view title);

}  // namespace card::service
