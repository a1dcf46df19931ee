// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The server's Prometheus metrics (prometheus-cpp), served over HTTP on
// --metrics_listen. Three kinds:
//
//  * gRPC calls, under go-grpc-prometheus's names and labels so that existing
//    dashboards work: grpc_server_started_total, grpc_server_handled_total
//    {grpc_service,grpc_method,grpc_type,grpc_code}, the histogram
//    grpc_server_handling_seconds and grpc_server_msg_received_total /
//    grpc_server_msg_sent_total, every series pre-initialised to zero for
//    every method of every served service (observability/grpc_call_observer.h counts).
//  * Events from the layers below (MetricsSink, server/common/metrics.h): lock waits,
//    queue depths, database errors, backstop violations, expired request ids,
//    group-commit batch sizes.
//  * Levels read at scrape time through a Levels callback: requests queued,
//    database connections in use and idle, health.
//  * The standard process_* metrics (CPU, memory, file descriptors, start
//    time), read from /proc at scrape time: observability/process_metrics.h.
//
// Every label value comes from a fixed set (methods known at start-up, status
// codes, SQLSTATE classes): a caller cannot grow the number of series.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "grpcpp/support/status.h"
#include "server/common/metrics.h"
#include "server/observability/grpc_codes.h"

// prometheus-cpp stays private to card_observability: its types are only
// named here, through pointers.
namespace prometheus {
class Collectable;
class Counter;
class Exposer;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace card::observability {

// One method the server serves. `type` is go-grpc-prometheus's grpc_type:
// "unary", "client_stream", "server_stream" or "bidi_stream".
// The metrics HTTP server's bounds (see ServerMetrics::Serve).
inline constexpr int kMetricsHttpThreads = 64;
inline constexpr int kMetricsHttpQueue = 64;
inline constexpr int kMetricsHttpTimeoutMs = 2000;

struct ServedMethod {
  std::string service;  // e.g. "devcard.card.v1.CardService"
  std::string method;   // e.g. "CreateCard"
  std::string type;
};

// Every method of CardService, gRPC health and reflection: read from the
// generated descriptors, so a method added to the proto is counted too.
std::vector<ServedMethod> ServedMethods();

// The metrics of one method; pointers into the registry, valid while the
// ServerMetrics lives.
struct MethodMetrics {
  prometheus::Counter* started = nullptr;
  std::array<prometheus::Counter*, kGrpcCodeCount> handled{};  // by grpc::StatusCode
  prometheus::Histogram* handling_seconds = nullptr;
  // Messages read from the caller, and sent to it (only those whose send
  // succeeded: an answer to a call cancelled first was not sent).
  prometheus::Counter* msg_received = nullptr;
  prometheus::Counter* msg_sent = nullptr;
};

// What the server reads when scraped.
struct Levels {
  int queued_requests = 0;
  int db_connections_max = 0;
  int db_connections_in_use = 0;
  int db_connections_idle = 0;
  bool serving = false;
  int64_t listener_check_failures = 0;  // So far (a counter).
  // On Citus: the workers pg_dist_node lists, and how many of them answered
  // the last health probe (both 0 on plain PostgreSQL).
  int citus_workers_listed = 0;
  int citus_workers_answering = 0;
};

struct BuildInfo {
  std::string version;
  std::string commit;
};

class ServerMetrics final : public MetricsSink {
 public:
  ServerMetrics(const std::vector<ServedMethod>& methods, const BuildInfo& build);
  ~ServerMetrics() override;

  // Called on every scrape; set before Serve.
  void SetLevels(std::function<Levels()> levels);

  // Serves GET /metrics on `listen` (host:port; port 0 picks one) with
  // kMetricsHttpThreads workers, at most kMetricsHttpQueue accepted
  // connections waiting for one, and kMetricsHttpTimeoutMs per read or write:
  // a client that sends half a request, or nothing, holds a worker for at
  // most that long, and scrapes answer while fewer than kMetricsHttpThreads
  // such clients are connected.
  // exposer_defaults_for_test: the old Exposer(listen, 2) (2 workers, civetweb's
  // 30 s timeouts), for the negative control in tests/metrics_pgtest.cc.
  absl::Status Serve(const std::string& listen, bool exposer_defaults_for_test = false);
  int port() const { return port_; }
  // Stops serving (before what the Levels callback reads goes away).
  void StopServing();

  // The metrics of the method with gRPC path "/service/method", or nullptr if
  // the server does not serve it (a made-up name is not counted).
  const MethodMetrics* Find(const std::string& path) const;

  // MetricsSink.
  void ObserveLockWait(absl::Duration wait) override;
  void ObserveBatchSize(int requests) override;
  void ObserveUserQueueDepth(size_t depth) override;
  void CountDatabaseError(absl::string_view sqlstate) override;
  void CountBackstopViolation() override;
  void CountExpiredRequestIds(int rows) override;

 private:
  class ScrapedRegistry;

  std::shared_ptr<ScrapedRegistry> registry_;
  std::shared_ptr<prometheus::Collectable> process_;  // process_*: process_metrics.h
  absl::flat_hash_map<std::string, MethodMetrics> methods_;  // by path; fixed
  prometheus::Histogram* lock_wait_ = nullptr;
  prometheus::Histogram* batch_size_ = nullptr;
  prometheus::Histogram* user_queue_depth_ = nullptr;
  prometheus::Family<prometheus::Counter>* db_errors_ = nullptr;
  prometheus::Counter* backstop_violations_ = nullptr;
  prometheus::Counter* request_ids_expired_ = nullptr;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace card::observability
