// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// CardServer wires the layers together (storage -> service -> rpc) behind one
// gRPC server with health checking, reflection, transport security and
// metrics. main() and the integration tests both start the service through
// this class, from a ServerConfig (server/app/server_config.h).
#pragma once

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/app/server_config.h"

namespace card::app {

class CardServer {
 public:
  // Validates `config`, applies migrations (unless disabled), then listens.
  // Fails if the database stays unreachable for migration.startup_timeout or
  // the address cannot be bound. Error messages name ServerConfig's fields.
  //
  // `on_listener_stuck` runs once, on a thread of the server's, if the
  // listener self-check gives up (transport.listener_check_give_up): health
  // is NOT_SERVING for good by then. main() ends the process with it, for the
  // supervisor to restart; without it the server just stays NOT_SERVING.
  static absl::StatusOr<std::unique_ptr<CardServer>> Start(
      const ServerConfig& config, std::function<void()> on_listener_stuck = nullptr);

  ~CardServer();  // Shuts down with no grace if Shutdown was not called.

  int port() const;
  int metrics_port() const;  // 0 when no metrics are served.

  // Health NOT_SERVING, stop accepting, let in-flight RPCs finish for up to
  // `grace` (then cancel them), release the database. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  struct Parts;
  explicit CardServer(std::unique_ptr<Parts> parts);

  // Start's steps, in order; each fills a few of `parts`' members from the
  // config and the members built before it.
  static void BuildObservability(const ServerConfig& config, Parts* parts);
  static absl::Status BuildSecurity(const ServerConfig& config, Parts* parts);
  static absl::Status BuildStorage(const ServerConfig& config, Parts* parts);
  static void BuildRpc(const ServerConfig& config, Parts* parts);
  static absl::Status BuildGrpcServer(const ServerConfig& config, Parts* parts);
  static absl::Status StartBackground(const ServerConfig& config, Parts* parts);
  static absl::Status StartListenerCheck(const ServerConfig& config,
                                         std::function<void()> on_stuck, Parts* parts);

  std::unique_ptr<Parts> parts_;
};

}  // namespace card::app
