// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "tests/support/health.h"

#include "absl/time/clock.h"

namespace card::testing {

ServingStatus HealthOf(const std::shared_ptr<grpc::Channel>& channel,
                       const std::string& service, absl::Duration timeout) {
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::Status status = health->Check(&context, request, &response);
  return status.ok() ? response.status() : kUnknown;
}

ServingStatus HealthOf(const std::string& target) {
  return HealthOf(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
}

absl::Duration TimeUntilHealth(const std::string& target, ServingStatus wanted,
                               absl::Duration timeout) {
  absl::Time start = absl::Now();
  while (absl::Now() - start < timeout) {
    if (HealthOf(target) == wanted) return absl::Now() - start;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::InfiniteDuration();
}

}  // namespace card::testing
