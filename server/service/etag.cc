// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/service/etag.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/common/status.h"

namespace card::service {

std::string EtagForVersion(int64_t version) { return absl::StrCat("\"", version, "\""); }

absl::StatusOr<int64_t> VersionFromEtag(absl::string_view etag, absl::string_view field) {
  if (etag.empty()) return 0;
  int64_t version = 0;
  if (!absl::ConsumePrefix(&etag, "\"") || !absl::ConsumeSuffix(&etag, "\"") ||
      !absl::SimpleAtoi(etag, &version) || version < 1) {
    return InvalidField(field, "not an etag this service issued");
  }
  return version;
}

}  // namespace card::service
