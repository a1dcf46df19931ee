// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Helpers for absl::Status, the currency between the server's layers.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

// Abseil 20220623 has no status macros of its own.
#define CARD_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::absl::Status card_status_ = (expr);        \
    if (!card_status_.ok()) return card_status_; \
  } while (0)

namespace card {

// An INVALID_ARGUMENT (or other) status that names the offending request field,
// so the gRPC layer can attach a google.rpc.BadRequest field violation.
absl::Status FieldError(absl::StatusCode code, absl::string_view field,
                        absl::string_view description);
inline absl::Status InvalidField(absl::string_view field, absl::string_view description) {
  return FieldError(absl::StatusCode::kInvalidArgument, field, description);
}

// "CODE: message", for log lines people read: without the payloads
// Status::ToString appends (internal type URLs such as
// type.devcard.dev/card.connection_lost, which mean nothing to an operator).
// Log a status with this, never with ToString().
std::string ForPeople(const absl::Status& status);

// The field named by FieldError, if any.
std::optional<std::string> ErrorField(const absl::Status& status);

}  // namespace card
