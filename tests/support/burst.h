// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Fires many unary RPCs at once over several channels and waits for them all:
// the callback API keeps them in flight together without a thread each.
#pragma once

#include <memory>
#include <vector>

#include "devcard/card/v1/card_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace card::testing {

struct CreateOutcome {
  grpc::Status status;
  devcard::card::v1::Card card;
};

// Sends every request before waiting for any answer; request i goes over
// channel i % channels.size(). Channels are connected first, so the calls leave
// as one burst.
std::vector<CreateOutcome> CreateAllAtOnce(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    const std::vector<devcard::card::v1::CreateCardRequest>& requests);

}  // namespace card::testing
