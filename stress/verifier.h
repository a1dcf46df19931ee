// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// After the load: reads every touched user's cards back (through the API with
// the client library's CardClient, every page, and by SQL when given a
// database URL) and checks them against the history. Each user's cards are
// checked as soon as they are read and then dropped, so the read-back holds
// only a few users' cards at a time.
// Verdicts the way Jepsen gives them: true, false, or unknown (could not tell);
// combined, false beats unknown beats true.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "stress/config.h"
#include "stress/verification.h"
#include "stress/workload.h"

namespace card::stress {

Verification Verify(const Config& config,
                    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                    const History& history);

}  // namespace card::stress
