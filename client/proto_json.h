// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Messages as JSON the way both command-line tools print them for programs
// (cardctl --output=json, card-stress --format=json), so that one setting
// decides what scripts see: the proto3 JSON mapping with the field names as
// written in the .proto (user_id, not userId), every field even at its default
// value (a script need not know the defaults), enums by name, on one line.
// The result parses back with JsonStringToMessage.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"

namespace card::client {

// Fails only for a message the mapping cannot express (e.g. a Timestamp
// outside years 1-9999).
absl::StatusOr<std::string> ToProtoJson(const google::protobuf::Message& message);

}  // namespace card::client
