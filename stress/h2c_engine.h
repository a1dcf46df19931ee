// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The opt-in load engine (--engine=h2c): the operations' calls over
// H2cTransport's plaintext HTTP/2 connections (h2c_transport.h).
#pragma once

#include <atomic>
#include <memory>

#include "stress/h2c_transport.h"
#include "stress/load_engine.h"

namespace card::stress {

class H2cEngine : public LoadEngine {
 public:
  explicit H2cEngine(std::unique_ptr<H2cTransport> transport);

  void Send(const Operation& operation, const google::protobuf::Message& request,
            google::protobuf::Message* response, absl::Duration timeout, DoneFn done,
            void* arg) override;

 private:
  std::unique_ptr<H2cTransport> transport_;
  std::atomic<uint64_t> next_connection_{0};
};

}  // namespace card::stress
