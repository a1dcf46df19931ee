// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// How the load's calls reach the server: one interface, two engines —
// GrpcEngine (gRPC's C++ callback API, TLS as flagged; grpc_engine.h) and
// H2cEngine (card-stress's own plaintext HTTP/2 client; h2c_engine.h). The
// runner hands an engine an operation's table entry and its messages; the
// engine picks the connection, sends, and reports the status.
#pragma once

#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/status.h"
#include "stress/operations.h"

namespace card::stress {

class LoadEngine {
 public:
  // Called once per call, on one of the engine's threads, when it ends.
  using DoneFn = void (*)(void* arg, const grpc::Status& status);

  virtual ~LoadEngine() = default;

  // Sends one call of `operation` with deadline now + `timeout` on a live
  // connection (round robin, passing over connections known to be down).
  // `request` is serialized before Send returns; `response` must live until
  // `done`. Callable from any thread, including from inside `done`.
  virtual void Send(const Operation& operation, const google::protobuf::Message& request,
                    google::protobuf::Message* response, absl::Duration timeout,
                    DoneFn done, void* arg) = 0;
};

}  // namespace card::stress
