// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The gRPC status codes as go-grpc-prometheus labels them: how many there are
// and each one's Go name (codes.Code's String(): "OK", "InvalidArgument", ...).
// One table, so an array sized by code and a loop over codes cannot disagree.
#pragma once

#include <array>

#include "grpcpp/support/status.h"

namespace card::observability {

// OK (0) through UNAUTHENTICATED (16).
inline constexpr int kGrpcCodeCount = 17;

inline constexpr std::array<const char*, kGrpcCodeCount> kGoCodeNames = {
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated"};

static_assert(grpc::StatusCode::UNAUTHENTICATED == kGrpcCodeCount - 1,
              "grpc::StatusCode gained a code: add its Go name");

// Whether `code` is one of the kGrpcCodeCount codes (a caller can send any int).
inline bool IsKnownGrpcCode(grpc::StatusCode code) {
  int index = static_cast<int>(code);
  return index >= 0 && index < kGrpcCodeCount;
}

// go-grpc-prometheus's grpc_code value; "Unknown" for a code out of range.
inline const char* GoCodeName(grpc::StatusCode code) {
  return IsKnownGrpcCode(code) ? kGoCodeNames[static_cast<size_t>(code)] : "Unknown";
}

}  // namespace card::observability
