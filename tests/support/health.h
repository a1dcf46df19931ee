// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The health probe the tests poll: grpc.health.v1.Health/Check on a channel,
// answered or not within a short deadline.
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace card::testing {

using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;
inline constexpr ServingStatus kServing = grpc::health::v1::HealthCheckResponse::SERVING;
inline constexpr ServingStatus kNotServing =
    grpc::health::v1::HealthCheckResponse::NOT_SERVING;
inline constexpr ServingStatus kUnknown = grpc::health::v1::HealthCheckResponse::UNKNOWN;

// `service`'s status ("" is the server as a whole); kUnknown when the call
// fails or takes longer than `timeout`.
ServingStatus HealthOf(const std::shared_ptr<grpc::Channel>& channel,
                       const std::string& service = "",
                       absl::Duration timeout = absl::Seconds(2));
// The same on a plaintext channel of its own to `target` (host:port).
ServingStatus HealthOf(const std::string& target);

// How long until `target`'s health is `wanted`, polling every 100 ms;
// InfiniteDuration if not within `timeout`.
absl::Duration TimeUntilHealth(const std::string& target, ServingStatus wanted,
                               absl::Duration timeout);

}  // namespace card::testing
