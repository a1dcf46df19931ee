// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// card-stress's opt-in load engine (--engine=h2c): unary gRPC calls spoken
// directly over plaintext HTTP/2 with libnghttp2 — the same wire format gRPC
// uses (POST, content-type application/grpc, te: trailers, a 5-byte message
// prefix, grpc-status in the trailers, grpc-timeout for the deadline) — from
// one event-loop thread with every call of every connection outstanding at
// once, the way h2load drives a server. It exists because the gRPC C++ client
// costs more CPU per call than h2load on a 2-core machine shared with the
// server (stress/README.md, "Client cost"). Plaintext only: no TLS, so no
// --tls* flags (config.cc refuses them). The read-back after the load still
// goes through gRPC's client (verifier.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/status.h"

namespace card::stress {

class H2cTransport {
 public:
  // Called on the transport's thread when a call ends (the response parsed).
  using DoneFn = void (*)(void* arg, const grpc::Status& status);

  // `per_target` connections to each target ("host:port"). The names are
  // resolved here, once; the TCP connects start here and complete on the event
  // loop without blocking it, so a target that never answers holds up only its
  // own connections, whose calls end by their deadlines. Fails if a name does
  // not resolve or the loop cannot be set up.
  static absl::StatusOr<std::unique_ptr<H2cTransport>> Connect(
      const std::vector<std::string>& targets, int per_target);
  // Waits until every connection is up: OK, the first connect's error, or
  // DEADLINE_EXCEEDED at `deadline` (card-stress's set-up check).
  absl::Status WaitConnected(absl::Time deadline);
  ~H2cTransport();

  size_t connections() const;
  // False while connection `index` is connecting or down (it reconnects at most
  // once a second).
  bool Healthy(size_t index) const;

  // Starts a unary call of `path` ("/package.Service/Method") on connection
  // `index`. The request is serialized now; `response` must live until `done`.
  // Callable from any thread, including from inside `done`.
  void Call(size_t index, const char* path, const google::protobuf::Message& request,
            google::protobuf::Message* response, absl::Duration timeout, DoneFn done,
            void* arg);

  struct Stream;
  struct Connection;
  class Loop;

 private:
  H2cTransport() = default;
  std::unique_ptr<Loop> loop_;
};

}  // namespace card::stress
