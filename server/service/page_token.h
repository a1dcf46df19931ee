// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Opaque page tokens for keyset pagination over (create_time, id).
//
// A token is base64url("<kind>:<user_id hash>:<create_time µs>:<id>"); it is
// only valid for the list it came from (same kind of resource, same user).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/model/card.h"

namespace card::service {

std::string EncodePageToken(absl::string_view kind, absl::string_view user_id,
                            const model::CardCursor& cursor);

// INVALID_ARGUMENT naming page_token when the token is malformed or belongs to
// another list.
absl::StatusOr<model::CardCursor> DecodePageToken(absl::string_view kind,
                                                  absl::string_view user_id,
                                                  absl::string_view token);

}  // namespace card::service
