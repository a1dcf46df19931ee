// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "tests/support/burst.h"

#include "tests/support/in_flight.h"

namespace card::testing {

std::vector<CreateOutcome> CreateAllAtOnce(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    const std::vector<devcard::card::v1::CreateCardRequest>& requests) {
  std::vector<std::unique_ptr<devcard::card::v1::CardService::Stub>> stubs;
  for (const auto& channel : channels) {
    channel->WaitForConnected(std::chrono::system_clock::now() +
                              std::chrono::seconds(10));
    stubs.push_back(devcard::card::v1::CardService::NewStub(channel));
  }
  std::vector<CreateOutcome> outcomes(requests.size());
  InFlight calls;
  for (size_t i = 0; i < requests.size(); ++i) {
    auto* stub = stubs[i % stubs.size()].get();
    calls.Start<devcard::card::v1::CreateCardRequest, devcard::card::v1::Card>(
        [stub](auto... args) { stub->async()->CreateCard(args...); }, requests[i],
        [&outcomes, i](const grpc::Status& status, const devcard::card::v1::Card& card) {
          outcomes[i] = {status, card};
        });
  }
  calls.Wait();
  return outcomes;
}

}  // namespace card::testing
