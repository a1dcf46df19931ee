// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Etags: opaque to callers, derived from the card's version counter, which
// every change of the card bumps.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace card::service {

std::string EtagForVersion(int64_t version);

// The version an etag stands for; 0 for an empty etag (no check wanted).
// INVALID_ARGUMENT naming `field` if it is not one of ours.
absl::StatusOr<int64_t> VersionFromEtag(absl::string_view etag, absl::string_view field);

}  // namespace card::service
