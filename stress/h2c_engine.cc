// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "stress/h2c_engine.h"

namespace card::stress {

H2cEngine::H2cEngine(std::unique_ptr<H2cTransport> transport)
    : transport_(std::move(transport)) {}

void H2cEngine::Send(const Operation& operation, const google::protobuf::Message& request,
                     google::protobuf::Message* response, absl::Duration timeout,
                     DoneFn done, void* arg) {
  // Round robin, passing over connections that are down (a killed replica).
  const size_t count = transport_->connections();
  const size_t start = next_connection_.fetch_add(1, std::memory_order_relaxed);
  size_t index = start % count;
  for (size_t i = 0; i < count; ++i) {
    if (transport_->Healthy((start + i) % count)) {
      index = (start + i) % count;
      break;
    }
  }
  transport_->Call(index, operation.method, request, response, timeout, done, arg);
}

}  // namespace card::stress
