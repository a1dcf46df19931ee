// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The one place where absl::Status becomes grpc::Status. Codes map one to one;
// an INVALID_ARGUMENT naming a request field (common/status.h) also carries a
// google.rpc.BadRequest detail, so clients can point at the field.
#pragma once

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace card::rpc {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace card::rpc
