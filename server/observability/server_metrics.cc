// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/observability/server_metrics.h"

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/descriptor.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "server/common/log.h"
#include "server/observability/process_metrics.h"

namespace card::observability {
namespace {

using prometheus::Histogram;

// go-grpc-prometheus's default buckets (Prometheus's DefBuckets), in seconds.
const Histogram::BucketBoundaries kHandlingBuckets{.005, .01, .025, .05, .1, .25,
                                                   .5,   1,   2.5,  5,   10};
// A lock is usually free (tens of microseconds) and at worst waited for until
// the request's deadline (--max_request_time, 10 s by default).
const Histogram::BucketBoundaries kLockWaitBuckets{
    .0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
// --max_queued_per_user is 1000 by default.
const Histogram::BucketBoundaries kQueueDepthBuckets{1,  2,   4,   8,   16,  32,
                                                     64, 128, 256, 512, 1024};
const Histogram::BucketBoundaries kBatchSizeBuckets{1, 2, 4, 8, 16, 32, 64, 128};

// The services the server registers. gRPC's built-in health service does not
// put its descriptor in the generated pool (issue 12): its two methods are
// listed here when the pool does not know it.
constexpr const char* kServices[] = {
    "devcard.card.v1.CardService", "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection", "grpc.reflection.v1.ServerReflection"};

std::string TypeOf(const google::protobuf::MethodDescriptor& method) {
  if (method.client_streaming() && method.server_streaming()) return "bidi_stream";
  if (method.client_streaming()) return "client_stream";
  if (method.server_streaming()) return "server_stream";
  return "unary";
}

// "ab123" -> "AB"; anything that is not a SQLSTATE -> "none". SQLSTATEs are five
// digits or upper-case letters, so there are at most 36^2 classes.
std::string SqlStateClass(absl::string_view sqlstate) {
  if (sqlstate.size() != 5) return "none";
  for (char c : sqlstate) {
    if (!absl::ascii_isdigit(c) && !absl::ascii_isupper(c)) return "none";
  }
  return std::string(sqlstate.substr(0, 2));
}

}  // namespace

std::vector<ServedMethod> ServedMethods() {
  std::vector<ServedMethod> methods;
  const google::protobuf::DescriptorPool* pool =
      google::protobuf::DescriptorPool::generated_pool();
  for (const char* name : kServices) {
    const google::protobuf::ServiceDescriptor* service = pool->FindServiceByName(name);
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      methods.push_back({name, service->method(i)->name(), TypeOf(*service->method(i))});
    }
  }
  bool has_health = false;
  for (const ServedMethod& method : methods) {
    has_health = has_health || method.service == "grpc.health.v1.Health";
  }
  if (!has_health) {
    methods.push_back({"grpc.health.v1.Health", "Check", "unary"});
    methods.push_back({"grpc.health.v1.Health", "Watch", "server_stream"});
  }
  return methods;
}

// The registry, plus the levels sampled into gauges just before each scrape.
class ServerMetrics::ScrapedRegistry final : public prometheus::Collectable {
 public:
  ScrapedRegistry() {
    auto& queued =
        prometheus::BuildGauge()
            .Name("card_server_queued_requests")
            .Help("Requests waiting in the per-user queues, all users together.")
            .Register(registry);
    queued_ = &queued.Add({});
    auto& max = prometheus::BuildGauge()
                    .Name("card_server_db_connections_max")
                    .Help("Database connections the pool keeps open (--db_pool_size).")
                    .Register(registry);
    max_ = &max.Add({});
    auto& connections = prometheus::BuildGauge()
                            .Name("card_server_db_connections")
                            .Help(
                                "Open database connections of the request pool, by "
                                "state: in_use (taken by a request) or idle.")
                            .Register(registry);
    in_use_ = &connections.Add({{"state", "in_use"}});
    idle_ = &connections.Add({{"state", "idle"}});
    auto& serving = prometheus::BuildGauge()
                        .Name("card_server_health_serving")
                        .Help(
                            "1 while grpc.health.v1 answers SERVING (the database "
                            "answers and the server is not shutting down), else 0.")
                        .Register(registry);
    serving_ = &serving.Add({});
    auto& workers = prometheus::BuildGauge()
                        .Name("card_server_db_citus_workers")
                        .Help(
                            "On a Citus cluster, its worker nodes by state: listed "
                            "(active in pg_dist_node) or answering (ran a statement for "
                            "the last health probe). 0 on plain PostgreSQL.")
                        .Register(registry);
    workers_listed_ = &workers.Add({{"state", "listed"}});
    workers_answering_ = &workers.Add({{"state", "answering"}});
    listener_check_failures_ =
        &prometheus::BuildCounter()
             .Name("card_server_listener_check_failures_total")
             .Help(
                 "Listener self-checks whose fresh connection to the server's own "
                 "port got no answer (--listener_check_interval).")
             .Register(registry)
             .Add({});
    log_lines_dropped_ =
        &prometheus::BuildCounter()
             .Name("card_server_log_lines_dropped_total")
             .Help(
                 "Log lines (access log included) dropped because stderr could not "
                 "take them: a pipe whose reader went away or stayed full.")
             .Register(registry)
             .Add({});
  }

  void SetLevels(std::function<Levels()> read) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    levels_ = std::move(read);
  }

  // On the exposer's threads. The lock also keeps two scrapes from
  // interleaving their gauge updates.
  std::vector<prometheus::MetricFamily> Collect() const override
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (levels_) {
      Levels now = levels_();
      queued_->Set(now.queued_requests);
      max_->Set(now.db_connections_max);
      in_use_->Set(now.db_connections_in_use);
      idle_->Set(now.db_connections_idle);
      serving_->Set(now.serving ? 1 : 0);
      workers_listed_->Set(now.citus_workers_listed);
      workers_answering_->Set(now.citus_workers_answering);
      // Counted by the check (server/exec is below prometheus-cpp).
      listener_check_failures_->Increment(
          static_cast<double>(now.listener_check_failures) -
          listener_check_failures_->Value());
    }
    // Counted by the logger (server/common is below prometheus-cpp).
    log_lines_dropped_->Increment(static_cast<double>(log::DroppedLines()) -
                                  log_lines_dropped_->Value());
    return registry.Collect();
  }

  prometheus::Registry registry;

 private:
  mutable absl::Mutex mu_;
  std::function<Levels()> levels_ ABSL_GUARDED_BY(mu_);
  prometheus::Gauge* queued_;
  prometheus::Gauge* max_;
  prometheus::Gauge* in_use_;
  prometheus::Gauge* idle_;
  prometheus::Gauge* serving_;
  prometheus::Gauge* workers_listed_;
  prometheus::Gauge* workers_answering_;
  prometheus::Counter* listener_check_failures_;
  prometheus::Counter* log_lines_dropped_;
};

ServerMetrics::ServerMetrics(const std::vector<ServedMethod>& methods,
                             const BuildInfo& build)
    : registry_(std::make_shared<ScrapedRegistry>()), process_(NewProcessCollector()) {
  prometheus::Registry& registry = registry_->registry;
  auto& started = prometheus::BuildCounter()
                      .Name("grpc_server_started_total")
                      .Help("Total number of RPCs started on the server.")
                      .Register(registry);
  auto& handled = prometheus::BuildCounter()
                      .Name("grpc_server_handled_total")
                      .Help(
                          "Total number of RPCs completed on the server, regardless "
                          "of success or failure.")
                      .Register(registry);
  auto& handling = prometheus::BuildHistogram()
                       .Name("grpc_server_handling_seconds")
                       .Help(
                           "Histogram of response latency (seconds) of gRPC that "
                           "had been application-level handled by the server.")
                       .Register(registry);
  auto& received =
      prometheus::BuildCounter()
          .Name("grpc_server_msg_received_total")
          .Help("Total number of RPC stream messages received on the server.")
          .Register(registry);
  auto& sent = prometheus::BuildCounter()
                   .Name("grpc_server_msg_sent_total")
                   .Help("Total number of gRPC stream messages sent by the server.")
                   .Register(registry);
  for (const ServedMethod& served : methods) {
    prometheus::Labels labels{{"grpc_service", served.service},
                              {"grpc_method", served.method},
                              {"grpc_type", served.type}};
    MethodMetrics& metrics =
        methods_[absl::StrCat("/", served.service, "/", served.method)];
    metrics.started = &started.Add(labels);
    for (int code = 0; code < kGrpcCodeCount; ++code) {
      prometheus::Labels with_code = labels;
      with_code["grpc_code"] = kGoCodeNames[static_cast<size_t>(code)];
      metrics.handled[static_cast<size_t>(code)] = &handled.Add(with_code);
    }
    metrics.handling_seconds = &handling.Add(labels, kHandlingBuckets);
    metrics.msg_received = &received.Add(labels);
    metrics.msg_sent = &sent.Add(labels);
  }

  lock_wait_ = &prometheus::BuildHistogram()
                    .Name("card_server_lock_wait_seconds")
                    .Help(
                        "Time a mutation waited for its user's advisory lock in "
                        "PostgreSQL (successful mutations).")
                    .Register(registry)
                    .Add({}, kLockWaitBuckets);
  batch_size_ = &prometheus::BuildHistogram()
                     .Name("card_server_batch_size")
                     .Help("Creates carried by one group-commit transaction.")
                     .Register(registry)
                     .Add({}, kBatchSizeBuckets);
  user_queue_depth_ = &prometheus::BuildHistogram()
                           .Name("card_server_user_queue_depth")
                           .Help(
                               "Requests waiting in a user's queue right after one "
                               "joined it (its count: requests queued in total).")
                           .Register(registry)
                           .Add({}, kQueueDepthBuckets);
  db_errors_ = &prometheus::BuildCounter()
                    .Name("card_server_db_errors_total")
                    .Help(
                        "Database errors by SQLSTATE class (none: connection lost "
                        "without one). The service's own CSxxx answers are not "
                        "counted.")
                    .Register(registry);
  backstop_violations_ = &prometheus::BuildCounter()
                              .Name("card_server_backstop_violations_total")
                              .Help(
                                  "Unique violations (23505) despite the per-user "
                                  "lock: a locking bug. Must stay 0.")
                              .Register(registry)
                              .Add({});
  request_ids_expired_ = &prometheus::BuildCounter()
                              .Name("card_server_request_ids_expired_total")
                              .Help(
                                  "CreateCard request ids deleted after "
                                  "--request_id_retention.")
                              .Register(registry)
                              .Add({});
  prometheus::BuildGauge()
      .Name("card_server_build_info")
      .Help("Always 1; the labels say which build is running.")
      .Register(registry)
      .Add({{"version", build.version}, {"commit", build.commit}})
      .Set(1);
}

ServerMetrics::~ServerMetrics() = default;

void ServerMetrics::SetLevels(std::function<Levels()> levels) {
  registry_->SetLevels(std::move(levels));
}

absl::Status ServerMetrics::Serve(const std::string& listen,
                                  bool exposer_defaults_for_test) {
  // civetweb (under prometheus::Exposer) gives each connection a worker thread
  // from accept until it closes, and waits request_timeout_ms for each read
  // and write. With its defaults (30 s) and Exposer's 2 threads, 2 clients
  // that connect and send half a request (or nothing) stall every scrape for
  // 30 s per pair. So: enough workers that a few dozen stalled clients still
  // leave most free, a read/write timeout that frees a stalled worker in 2 s,
  // and a bounded queue and backlog behind them. A scrape request arrives in
  // one segment; 2 s per read or write of a response of a few hundred KiB is
  // generous. Keep-alive stays off (civetweb's default): one request per
  // connection, as Prometheus scrapes.
  std::vector<std::string> options = {
      "listening_ports",    listen,
      "num_threads",        std::to_string(kMetricsHttpThreads),
      "connection_queue",   std::to_string(kMetricsHttpQueue),
      "listen_backlog",     std::to_string(kMetricsHttpQueue),
      "request_timeout_ms", std::to_string(kMetricsHttpTimeoutMs),
      "enable_keep_alive",  "no",
  };
  try {
    exposer_ = exposer_defaults_for_test
                   ? std::make_unique<prometheus::Exposer>(listen, 2)
                   : std::make_unique<prometheus::Exposer>(std::move(options));
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("--metrics_listen: cannot listen on ", listen, ": ", e.what()));
  }
  exposer_->RegisterCollectable(registry_);
  exposer_->RegisterCollectable(process_);
  std::vector<int> ports = exposer_->GetListeningPorts();
  port_ = ports.empty() ? 0 : ports.front();
  return absl::OkStatus();
}

void ServerMetrics::StopServing() { exposer_.reset(); }

const MethodMetrics* ServerMetrics::Find(const std::string& path) const {
  auto it = methods_.find(path);
  return it == methods_.end() ? nullptr : &it->second;
}

void ServerMetrics::ObserveLockWait(absl::Duration wait) {
  lock_wait_->Observe(absl::ToDoubleSeconds(wait));
}

void ServerMetrics::ObserveBatchSize(int requests) { batch_size_->Observe(requests); }

void ServerMetrics::ObserveUserQueueDepth(size_t depth) {
  user_queue_depth_->Observe(static_cast<double>(depth));
}

void ServerMetrics::CountDatabaseError(absl::string_view sqlstate) {
  db_errors_->Add({{"sqlstate_class", SqlStateClass(sqlstate)}}).Increment();
}

void ServerMetrics::CountBackstopViolation() { backstop_violations_->Increment(); }

void ServerMetrics::CountExpiredRequestIds(int rows) {
  if (rows > 0) request_ids_expired_->Increment(rows);
}

}  // namespace card::observability
