// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/app/card_server.h"

#include <atomic>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/support/log.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "server/app/health_monitor.h"
#include "server/common/log.h"
#include "server/common/rate_limited_log.h"
#include "server/common/status.h"
#include "server/exec/cancellation.h"
#include "server/exec/listener_check.h"
#include "server/exec/per_user_scheduler.h"
#include "server/exec/periodic_task.h"
#include "server/observability/grpc_call_observer.h"
#include "server/observability/server_metrics.h"
#include "server/rpc/card_service_impl.h"
#include "server/rpc/reflection.h"
#include "server/rpc/request_parsing.h"
#include "server/security/tls_credentials.h"
#include "server/service/card_service.h"
#include "server/storage/citus_setup.h"
#include "server/storage/database_url.h"
#include "server/storage/migrations.h"
#include "server/storage/postgres_repository.h"

namespace card::app {

// What a running server is made of. Built step by step by Start (each step
// fills a few members); torn down by ~Parts in the order written there, which
// does not depend on the order of the declarations below.
struct CardServer::Parts {
  // Observability. Null metrics: no --metrics_listen.
  std::unique_ptr<observability::ServerMetrics> metrics;
  std::shared_ptr<const security::ProxyTrust> proxies;
  std::unique_ptr<observability::GrpcCallObserver> calls;
  // Credentials and the authorization policy; outlive the server using them.
  std::unique_ptr<security::ServerSecurity> security;
  // Storage: the repository serving RPCs, and the health probe's own
  // connection (never queued behind RPC traffic).
  std::unique_ptr<storage::PostgresRepository> repository;
  std::unique_ptr<storage::PostgresRepository> probe;
  storage::Distribution distribution;  // Citus or plain PostgreSQL.
  // The layers above storage.
  std::unique_ptr<service::CardService> service;
  std::unique_ptr<PerUserScheduler> scheduler;
  std::unique_ptr<rpc::CardServiceImpl> rpc;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  // Background work.
  std::unique_ptr<HealthMonitor> health;
  std::unique_ptr<PeriodicTask> request_id_sweeper;
  std::unique_ptr<ListenerCheck> listener_check;  // Null when turned off.
  std::atomic<bool> listener_stuck{false};
  // Cancelled at shutdown, so that a probe or a sweep stuck on a frozen
  // database does not hold shutdown up until its deadline. Members, so they
  // outlive the tasks using them (destroyed after ~Parts' body).
  Cancellation health_cancellation;
  Cancellation sweeper_cancellation;
  std::atomic<bool> shut_down{false};

  // Each part is destroyed before what it uses: the background tasks (they
  // call the service and the probe), the gRPC server (its handlers call rpc;
  // it uses the credentials and the observer's interceptors), then the layers
  // top down, the repositories, and last what everything reports to. Also
  // correct for a Start that failed half way (unbuilt parts are null).
  ~Parts() {
    listener_check.reset();
    request_id_sweeper.reset();
    health.reset();
    server.reset();
    security.reset();
    probe.reset();
    rpc.reset();
    scheduler.reset();
    service.reset();
    repository.reset();
    calls.reset();
    metrics.reset();
  }
};

namespace {
absl::Status MigrateWhenReachable(const MigrationConfig& migration,
                                  const std::string& connection_string) {
  absl::Time give_up = absl::Now() + migration.startup_timeout;
  bool waiting_logged = false;
  for (;;) {
    storage::MigrationResult applied;
    absl::Status status = storage::ApplyMigrations(connection_string, &applied);
    if (status.ok()) {
      log::Info(absl::StrCat("schema up to date (", applied.migrations_applied,
                             " migration(s) applied now, definitions ",
                             applied.definitions_applied ? "re-applied" : "unchanged",
                             ")"));
      return status;
    }
    if (!absl::IsUnavailable(status) || absl::Now() >= give_up) return status;
    if (!waiting_logged) {
      log::Warning(absl::StrCat("database not ready (", status.message(),
                                "); retrying until --startup_timeout"));
    }
    waiting_logged = true;
    absl::SleepFor(absl::Seconds(1));
  }
}

// On Citus, a line whenever the workers answering change. Health stays
// SERVING while some answer: users whose rows are on a worker that does not
// answer get UNAVAILABLE, the others are served (docs/scale.md).
void LogCitusWorkersWhenChanged(const storage::CitusWorkers& workers,
                                std::string* logged) {
  if (!workers.known) return;
  std::string line =
      workers.answering == workers.listed
          ? absl::StrCat("Citus: all ", workers.listed, " worker(s) answer")
          : absl::StrCat("Citus: ", workers.answering, " of ", workers.listed,
                         " worker(s) answer; not answering: ", workers.not_answering,
                         " (users whose rows are there get UNAVAILABLE)");
  if (line == *logged) return;
  if (workers.answering == workers.listed) {
    log::Info(line);
  } else {
    log::Warning(line);
  }
  *logged = std::move(line);
}

// The largest valid request: an UpdateCardRequest echoing a whole Card with
// 50 links of maximum size (~142 KB). Anything bigger is refused by the
// transport before it is read into memory.
constexpr int kMaxRequestBytes = 256 << 10;
// Clients may ping an idle connection this often; more often, and after two
// strikes the connection is closed (gRPC's keepalive enforcement).
constexpr int kMinClientPingIntervalMs = 10'000;
// A probe query not answered in this long means the database is not serving:
// with a 1 s probe interval, health turns NOT_SERVING within about 3 s of the
// database freezing (the probe's statement is interrupted 0.5 s after this).
// Not shorter: one slow probe on a busy machine must not look like an outage.
constexpr absl::Duration kProbeTimeout = absl::Milliseconds(1500);

// gRPC core's own log lines (a client can provoke them at will) go through
// the server's logger, rate limited.
void LogFromGrpc(gpr_log_func_args* args) {
  static RateLimitedLog limited("gRPC log lines", /*lines_per_window=*/10,
                                absl::Seconds(60));
  if (args->severity == GPR_LOG_SEVERITY_DEBUG) return;
  limited.Warning(absl::StrCat("grpc: ", args->message));
}

// `max_request_time`: how long calls in flight on an aged connection get.
void SetTransportLimits(const TransportConfig& transport, absl::Duration max_request_time,
                        grpc::ServerBuilder* builder) {
  grpc::ResourceQuota quota("card-server");
  quota.Resize(transport.memory_limit);
  builder->SetResourceQuota(quota);
  builder->SetMaxReceiveMessageSize(kMaxRequestBytes);
  builder->AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);  // a taken port is an error
  builder->AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                              transport.max_concurrent_streams);
  // gRPC 1.51 enforces it only after the client ACKs SETTINGS and per frame,
  // not per header block (docs/research/http2-abuse-grpc-1.51.md): the
  // front proxy is the bound that holds; this one caps honest direct callers.
  builder->AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, transport.max_metadata_bytes);
  builder->AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_IDLE_MS,
      static_cast<int>(absl::ToInt64Milliseconds(transport.max_connection_idle)));
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                              kMinClientPingIntervalMs);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  if (transport.max_connection_age > absl::ZeroDuration()) {
    builder->AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_MS,
        static_cast<int>(absl::ToInt64Milliseconds(transport.max_connection_age)));
    // Calls in flight on an aged connection get this long to finish.
    builder->AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
        static_cast<int>(absl::ToInt64Milliseconds(max_request_time)));
  }
}

void ExpireRequestIds(service::CardService* service, MetricsSink* metrics) {
  absl::StatusOr<int> expired = service->ExpireRequestIds();
  if (expired.ok()) metrics->CountExpiredRequestIds(*expired);
  if (!expired.ok()) {
    log::Warning(absl::StrCat("expiring request ids: ", ForPeople(expired.status())));
  } else if (*expired > 0) {
    log::Info(absl::StrCat("expired ", *expired, " request id(s)"));
  }
}

// Where the layers below report: the Prometheus metrics, or nowhere.
MetricsSink* SinkOf(observability::ServerMetrics* metrics) {
  return metrics != nullptr ? metrics : MetricsSink::None();
}

}  // namespace

absl::StatusOr<std::unique_ptr<CardServer>> CardServer::Start(
    const ServerConfig& config, std::function<void()> on_listener_stuck) {
  absl::Status valid = config.Validate();
  if (!valid.ok()) return valid;
  auto parts = std::make_unique<Parts>();
  BuildObservability(config, parts.get());
  absl::Status built = BuildSecurity(config, parts.get());
  if (built.ok()) built = BuildStorage(config, parts.get());
  if (built.ok()) BuildRpc(config, parts.get());
  if (built.ok()) built = BuildGrpcServer(config, parts.get());
  // The check before the metrics start serving (their scrape reads it).
  if (built.ok()) {
    built = StartListenerCheck(config, std::move(on_listener_stuck), parts.get());
  }
  if (built.ok()) built = StartBackground(config, parts.get());
  if (!built.ok()) return built;
  return std::unique_ptr<CardServer>(new CardServer(std::move(parts)));
}

void CardServer::BuildObservability(const ServerConfig& config, Parts* parts) {
  if (!config.observability.metrics_listen.empty()) {
    parts->metrics = std::make_unique<observability::ServerMetrics>(
        observability::ServedMethods(), config.observability.build);
  }
  parts->proxies = std::make_shared<const security::ProxyTrust>(
      config.security.trusted_proxy_identities);
  parts->calls = std::make_unique<observability::GrpcCallObserver>(
      parts->metrics.get(), config.observability.access_log, parts->proxies);
}

// Before storage: a bad certificate or policy stops start-up at once, not
// after waiting for the database.
absl::Status CardServer::BuildSecurity(const ServerConfig& config, Parts* parts) {
  observability::GrpcCallObserver* calls = parts->calls.get();
  absl::StatusOr<std::unique_ptr<security::ServerSecurity>> security =
      security::ServerSecurity::Create(
          config.security, config.transport.listen,
          [calls](absl::string_view path, absl::string_view caller) {
            calls->CountDenied(path, caller);
          },
          parts->proxies);
  if (!security.ok()) return security.status();
  parts->security = *std::move(security);
  return absl::OkStatus();
}

absl::Status CardServer::BuildStorage(const ServerConfig& config, Parts* parts) {
  absl::StatusOr<std::string> connection_string =
      storage::ConnectionString(config.database.url);
  if (!connection_string.ok()) return connection_string.status();
  if (config.migration.apply) {
    absl::Status migrated = MigrateWhenReachable(config.migration, *connection_string);
    if (!migrated.ok()) return migrated;
  }
  // On Citus, serving with a user function left undistributed would take
  // users' locks on two nodes: refused here, naming it (citus_setup.h).
  absl::StatusOr<storage::Distribution> distribution =
      storage::CheckDistribution(*connection_string);
  if (!distribution.ok()) return distribution.status();
  parts->distribution = *distribution;
  if (distribution->citus) {
    log::Info(absl::StrCat("Citus coordinator with ", distribution->workers,
                           " active worker(s): every user function is distributed by its "
                           "user; creates are batched per user"));
  }
  storage::PostgresOptions serving = config.database.repository;
  serving.connection_string = *connection_string;
  serving.citus = distribution->citus;
  serving.metrics = SinkOf(parts->metrics.get());
  parts->repository = std::make_unique<storage::PostgresRepository>(serving);

  storage::PostgresOptions probe = config.database.repository;
  probe.connection_string = *connection_string;
  probe.pool_size = 1;
  probe.application_name = "card-server-health";
  probe.metrics = MetricsSink::None();  // Probe failures show as health.
  probe.citus = distribution->citus;
  parts->probe = std::make_unique<storage::PostgresRepository>(probe);
  return absl::OkStatus();
}

void CardServer::BuildRpc(const ServerConfig& config, Parts* parts) {
  parts->service =
      std::make_unique<service::CardService>(parts->repository.get(), config.service);
  SchedulerLimits limits = config.scheduler;
  // A create call across users cannot run on one user's Citus node.
  if (parts->distribution.citus) limits.batch_across_users = false;
  parts->scheduler =
      std::make_unique<PerUserScheduler>(limits, SinkOf(parts->metrics.get()));
  parts->rpc = std::make_unique<rpc::CardServiceImpl>(parts->service.get(),
                                                      parts->scheduler.get());
}

absl::Status CardServer::BuildGrpcServer(const ServerConfig& config, Parts* parts) {
  rpc::RouteProtobufLogs();
  gpr_set_log_function(&LogFromGrpc);
  grpc::EnableDefaultHealthCheckService(true);
  rpc::EnableReflection();
  grpc::ServerBuilder builder;
  builder.SetOption(rpc::ReflectionV1Option());
  builder.AddListeningPort(config.transport.listen, parts->security->credentials(),
                           &parts->port);
  SetTransportLimits(config.transport, config.service.max_request_time, &builder);
  observability::GrpcCallObserver* calls = parts->calls.get();
  if (calls->counting() || calls->logging()) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(calls->InterceptorFactory());
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  builder.RegisterService(parts->rpc.get());
  parts->server = builder.BuildAndStart();
  if (parts->server == nullptr || parts->port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config.transport.listen));
  }
  return absl::OkStatus();
}

absl::Status CardServer::StartBackground(const ServerConfig& config, Parts* parts) {
  storage::PostgresRepository* probe = parts->probe.get();
  storage::PostgresRepository* repository = parts->repository.get();
  Cancellation* health_cancellation = &parts->health_cancellation;
  // Probes never overlap: the last Citus workers line logged needs no lock.
  auto workers_logged = std::make_shared<std::string>();
  parts->health = std::make_unique<HealthMonitor>(
      parts->server->GetHealthCheckService(),
      [probe, repository, health_cancellation, workers_logged] {
        ScopedCallCancellation scope(health_cancellation);
        absl::Status status = probe->Ping(absl::Now() + kProbeTimeout);
        // Until a failover (DNS, pooler) leads new connections to a primary.
        if (storage::IsReadOnlyDatabase(status)) {
          repository->ReconnectIdle();
          probe->ReconnectIdle();
        }
        LogCitusWorkersWhenChanged(probe->citus_workers(), workers_logged.get());
        return status;
      },
      config.database.health_check_interval);
  service::CardService* service = parts->service.get();
  Cancellation* sweeper_cancellation = &parts->sweeper_cancellation;
  MetricsSink* sink = SinkOf(parts->metrics.get());
  parts->request_id_sweeper = std::make_unique<PeriodicTask>(
      config.service.request_id_sweep_interval, [service, sweeper_cancellation, sink] {
        ScopedCallCancellation scope(sweeper_cancellation);
        ExpireRequestIds(service, sink);
      });
  if (parts->metrics == nullptr) return absl::OkStatus();
  parts->metrics->SetLevels([parts] {
    observability::Levels levels;
    levels.queued_requests = static_cast<int>(parts->scheduler->queued());
    storage::ConnectionUse use = parts->repository->connection_use();
    levels.db_connections_max = use.size;
    levels.db_connections_in_use = use.in_use;
    levels.db_connections_idle = use.idle;
    levels.serving = !parts->shut_down.load() && !parts->listener_stuck.load() &&
                     parts->health->serving();
    storage::CitusWorkers workers = parts->probe->citus_workers();
    levels.citus_workers_listed = workers.listed;
    levels.citus_workers_answering = workers.answering;
    if (parts->listener_check) {
      levels.listener_check_failures = parts->listener_check->failures();
    }
    return levels;
  });
  const std::string& listen = config.observability.metrics_listen;
  absl::Status serving = parts->metrics->Serve(
      listen, config.observability.metrics_exposer_defaults_for_test);
  if (serving.ok()) {
    log::Info(absl::StrCat("metrics on http://", listen, "/metrics (port ",
                           parts->metrics->port(), ")"));
  }
  return serving;
}

// Once the port is bound: the first check is one interval later.
absl::Status CardServer::StartListenerCheck(const ServerConfig& config,
                                            std::function<void()> on_stuck,
                                            Parts* parts) {
  const TransportConfig& transport = config.transport;
  if (transport.listener_check_interval <= absl::ZeroDuration()) {
    log::Info("listener self-check off (transport.listener_check_interval is 0)");
    return absl::OkStatus();
  }
  ListenerProbeTarget target;
  target.listen = transport.listen;
  target.port = parts->port;
  target.tls = !config.security.tls_cert_file.empty();
  absl::StatusOr<ListenerAddress> address = ListenerAddress::Resolve(target);
  if (!address.ok()) {
    // An address the check cannot reach is no reason not to serve.
    log::Warning(absl::StrCat("listener self-check off: ", address.status().message()));
    return absl::OkStatus();
  }
  ListenerCheck::Options options;
  options.interval = transport.listener_check_interval;
  options.give_up_after = transport.listener_check_give_up;
  grpc::HealthCheckServiceInterface* health = parts->server->GetHealthCheckService();
  std::atomic<bool>* stuck = &parts->listener_stuck;
  // Health first: every status NOT_SERVING, later updates ignored (what
  // Shutdown does too), so probes on open connections see it before the exit.
  parts->listener_check =
      std::make_unique<ListenerCheck>(*std::move(address), target.tls, options,
                                      [health, stuck, on_stuck = std::move(on_stuck)] {
                                        stuck->store(true);
                                        health->Shutdown();
                                        if (on_stuck) on_stuck();
                                      });
  return absl::OkStatus();
}

CardServer::CardServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

CardServer::~CardServer() { Shutdown(absl::ZeroDuration()); }

int CardServer::port() const { return parts_->port; }

int CardServer::metrics_port() const {
  return parts_->metrics ? parts_->metrics->port() : 0;
}

void CardServer::Shutdown(absl::Duration grace) {
  if (parts_->shut_down) return;
  parts_->shut_down = true;
  absl::Time drained_by = absl::Now() + grace;
  // Load balancers and probes see NOT_SERVING from here on; the monitor's
  // later results are ignored.
  parts_->server->GetHealthCheckService()->Shutdown();
  // Before anything it checks goes away (it may be the one that asked for
  // this shutdown: Stop waits for its run, which never waits for us).
  if (parts_->listener_check) parts_->listener_check->Stop();
  parts_->health_cancellation.Cancel();
  parts_->sweeper_cancellation.Cancel();
  parts_->health->Stop();
  parts_->request_id_sweeper->Stop();
  // In-flight calls get until `drained_by`; then gRPC cancels them, which
  // cancels their statements (and their sockets, if the database is frozen).
  parts_->server->Shutdown(absl::ToChronoTime(drained_by));
  parts_->scheduler->Stop();
  parts_->server->Wait();
  // The scrape reads the parts stopped above; they are destroyed next.
  if (parts_->metrics) parts_->metrics->StopServing();
}

}  // namespace card::app
