// CardServer wires the layers together (storage -> service -> rpc) behind one
// gRPC server with health checking and reflection. main() and the integration
// tests both start the service through this class.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace card::app {

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";  // Port 0 picks a free one.
  std::string database_url;                // Never logged.
  int db_pool_size = 16;                   // Also the number of worker threads.
  // storage::StatementMode by name: "prepared", or "unnamed" for PgBouncer.
  std::string db_statement_mode = "prepared";
  // Bounds on requests waiting in the per-user queues (RESOURCE_EXHAUSTED past them).
  size_t max_queued_requests = 50000;
  size_t max_queued_per_user = 1000;
  size_t max_queued_bytes = 64 << 20;
  // Group commit: most queued CreateCard calls of one user run as one
  // transaction (1: each alone).
  int max_batch_size = 64;
  bool batch_across_users = true;  // Batches may take other users' creates too.
  // Tests only: false gives every request a queue of its own (the old single
  // FIFO), to show that the isolation test catches the difference.
  bool per_user_queues = true;
  // Transport bounds: memory gRPC may use for connections and messages in
  // flight, streams per connection, and how long an idle connection is kept.
  size_t transport_memory_limit = 128 << 20;
  int max_concurrent_streams = 2000;
  absl::Duration max_connection_idle = absl::Minutes(5);
  absl::Duration statement_timeout = absl::Seconds(10);
  absl::Duration max_request_time = absl::Seconds(10);
  absl::Duration health_check_interval = absl::Seconds(1);
  absl::Duration startup_timeout = absl::Seconds(30);  // Waiting for the database.
  absl::Duration request_id_retention = absl::Hours(48);
  absl::Duration request_id_sweep_interval = absl::Minutes(10);
  // Zero: connections live as long as clients keep them. Otherwise the server
  // asks clients to reconnect after this long, so new replicas get traffic.
  absl::Duration max_connection_age = absl::ZeroDuration();
  bool migrate = true;
  std::string tls_cert_file;  // Both set: TLS; neither: plaintext.
  std::string tls_key_file;
  // Transport security beyond that: app/tls_credentials.h.
  std::string tls_client_ca_file;      // Set: clients must present a certificate (mTLS).
  std::string authz_policy_file;       // gRFC A43 policy enforced on every call.
  bool allow_insecure_listen = false;  // Plaintext beyond loopback.
  absl::Duration reload_interval = absl::Seconds(2);  // Re-reading the files above.
  // Observability (app/server_metrics.h, app/grpc_call_observer.h).
  std::string metrics_listen;  // host:port of the Prometheus endpoint; "" serves none.
  std::string version = "unknown";  // card_server_build_info's labels.
  std::string commit = "unknown";
  bool access_log = false;                 // One log line per call...
  double access_log_ok_sample_rate = 1.0;  // ...for this fraction of OK calls.
};

class CardServer {
 public:
  // Applies migrations (unless disabled), then listens. Fails if the database
  // stays unreachable for `startup_timeout` or the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<CardServer>> Start(const ServerOptions& options);

  ~CardServer();  // Shuts down with no grace if Shutdown was not called.

  int port() const;
  int metrics_port() const;  // 0 when no metrics are served.

  // Health NOT_SERVING, stop accepting, let in-flight RPCs finish for up to
  // `grace` (then cancel them), release the database. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  struct Parts;
  explicit CardServer(std::unique_ptr<Parts> parts);
  static absl::Status ServeMetrics(const std::string& listen, Parts* parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace card::app
