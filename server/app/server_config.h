// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Everything card-server is told, in one typed value: main() fills it once
// from the flags, CardServer::Start reads it and changes nothing. Each part
// is the option struct of the room that uses it, so a new option of the
// scheduler, say, is a field of SchedulerLimits and one CARD_SERVER_FLAG line
// in main.cc (which defines the flag and names the field it fills), with
// nothing in between to copy it.
//
// Validate() names fields ("scheduler.max_batch must be >= 1"); main() turns
// field names into flag names for the operator, so nothing below main knows
// a flag.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/exec/per_user_scheduler.h"
#include "server/observability/grpc_call_observer.h"
#include "server/observability/server_metrics.h"
#include "server/security/tls_credentials.h"
#include "server/service/card_service.h"
#include "server/storage/postgres_repository.h"

namespace card::app {

// How the gRPC port listens, and what gRPC may spend on its connections.
struct TransportConfig {
  std::string listen = "127.0.0.1:50051";  // Port 0 picks a free one.
  size_t memory_limit = 128 << 20;         // gRPC's ResourceQuota.
  int max_concurrent_streams = 2000;       // Calls in flight on one connection.
  // One call's request headers (gRPC's MAX_METADATA_SIZE). Above the front
  // proxy's ~15 KiB (deploy/proxy/haproxy.cfg) plus the certificate it adds,
  // so behind it the proxy is what refuses, and a direct caller is capped too.
  int max_metadata_bytes = 20 << 10;
  absl::Duration max_connection_idle = absl::Minutes(5);
  // Zero: connections live as long as clients keep them. Otherwise the server
  // asks clients to reconnect after this long, so new replicas get traffic.
  absl::Duration max_connection_age = absl::ZeroDuration();
  // The listener self-check (server/exec/listener_check.h): a fresh
  // connection to `listen` this often must be answered. Zero: no check.
  absl::Duration listener_check_interval = absl::Seconds(1);
  // Checks failing for this long: health NOT_SERVING, and the process exits
  // (main: code 70) for the supervisor to restart it.
  absl::Duration listener_check_give_up = absl::Seconds(10);
};

struct DatabaseConfig {
  std::string url;  // libpq URL or key=value string. Never logged.
  // The repository serving RPCs. Start derives connection_string from `url`
  // and sets metrics; the health probe gets a copy of its own.
  storage::PostgresOptions repository;
  absl::Duration health_check_interval = absl::Seconds(1);  // Probing the database.
};

struct MigrationConfig {
  bool apply = true;  // Apply pending migrations before serving.
  // How long start-up waits for the database to become reachable.
  absl::Duration startup_timeout = absl::Seconds(30);
};

struct ObservabilityConfig {
  std::string metrics_listen;  // host:port of the Prometheus endpoint; "" serves none.
  // Plain HTTP metrics on a non-loopback metrics_listen; refused otherwise.
  bool allow_insecure_metrics_listen = false;
  bool metrics_exposer_defaults_for_test = false;        // ServerMetrics::Serve.
  observability::BuildInfo build{"unknown", "unknown"};  // card_server_build_info.
  observability::AccessLogOptions access_log;
};

struct ServerConfig {
  TransportConfig transport;
  security::TransportSecurityOptions security;
  DatabaseConfig database;
  // The per-user queues. workers must not exceed database.repository.pool_size,
  // so that a worker never waits for a connection (main sets both from
  // --db_pool_size).
  SchedulerLimits scheduler;
  service::ServiceOptions service;
  ObservabilityConfig observability;
  MigrationConfig migration;

  // INVALID_ARGUMENT naming the first field out of range. The security files
  // and the database URL are checked when they are used, at start-up.
  absl::Status Validate() const;
};

}  // namespace card::app
