#include "server/app/card_server.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/support/log.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "server/app/grpc_call_observer.h"
#include "server/app/health_monitor.h"
#include "server/app/reflection.h"
#include "server/app/server_metrics.h"
#include "server/app/tls_credentials.h"
#include "server/common/log.h"
#include "server/common/rate_limited_log.h"
#include "server/exec/cancellation.h"
#include "server/exec/per_user_scheduler.h"
#include "server/exec/periodic_task.h"
#include "server/rpc/card_service_impl.h"
#include "server/rpc/request_parsing.h"
#include "server/service/card_service.h"
#include "server/storage/database_url.h"
#include "server/storage/migrations.h"
#include "server/storage/postgres_repository.h"

namespace card::app {

// Declared in the order they are built; destroyed in reverse.
struct CardServer::Parts {
  // First, so that everything below may report to them until it is gone.
  std::unique_ptr<ServerMetrics> metrics;  // Null without --metrics_listen.
  std::unique_ptr<GrpcCallObserver> calls;
  std::unique_ptr<storage::PostgresRepository> repository;
  std::unique_ptr<service::CardService> service;
  std::unique_ptr<PerUserScheduler> scheduler;
  std::unique_ptr<rpc::CardServiceImpl> rpc;
  // The health probe's own connection: never queued behind RPC traffic.
  std::unique_ptr<storage::PostgresRepository> probe;
  // Credentials and the authorization policy; outlive the server using them.
  std::unique_ptr<ServerSecurity> security;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<HealthMonitor> health;
  std::unique_ptr<PeriodicTask> request_id_sweeper;
  // Cancelled at shutdown, so that a probe or a sweep stuck on a frozen
  // database does not hold shutdown up until its deadline.
  Cancellation health_cancellation;
  Cancellation sweeper_cancellation;
  int port = 0;
  std::atomic<bool> shut_down{false};
};

namespace {

absl::Status MigrateWhenReachable(const ServerOptions& options,
                                  const std::string& connection_string) {
  absl::Time give_up = absl::Now() + options.startup_timeout;
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
    if (!waiting_logged) log::Warning("database not reachable yet; retrying");
    waiting_logged = true;
    absl::SleepFor(absl::Seconds(1));
  }
}

TransportSecurityOptions SecurityOptions(const ServerOptions& options) {
  TransportSecurityOptions security;
  security.listen = options.listen;
  security.tls_cert_file = options.tls_cert_file;
  security.tls_key_file = options.tls_key_file;
  security.tls_client_ca_file = options.tls_client_ca_file;
  security.authz_policy_file = options.authz_policy_file;
  security.allow_insecure_listen = options.allow_insecure_listen;
  security.reload_interval = options.reload_interval;
  return security;
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

void SetTransportLimits(const ServerOptions& options, grpc::ServerBuilder* builder) {
  grpc::ResourceQuota quota("card-server");
  quota.Resize(options.transport_memory_limit);
  builder->SetResourceQuota(quota);
  builder->SetMaxReceiveMessageSize(kMaxRequestBytes);
  builder->AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);  // a taken port is an error
  builder->AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                              options.max_concurrent_streams);
  builder->AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_IDLE_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.max_connection_idle)));
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                              kMinClientPingIntervalMs);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  if (options.max_connection_age > absl::ZeroDuration()) {
    builder->AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_MS,
        static_cast<int>(absl::ToInt64Milliseconds(options.max_connection_age)));
    // Calls in flight on an aged connection get this long to finish.
    builder->AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
        static_cast<int>(absl::ToInt64Milliseconds(options.max_request_time)));
  }
}

void ExpireRequestIds(service::CardService* service, MetricsSink* metrics) {
  absl::StatusOr<int> expired = service->ExpireRequestIds();
  if (expired.ok()) metrics->CountExpiredRequestIds(*expired);
  if (!expired.ok()) {
    log::Warning(absl::StrCat("expiring request ids: ", expired.status().ToString()));
  } else if (*expired > 0) {
    log::Info(absl::StrCat("expired ", *expired, " request id(s)"));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<CardServer>> CardServer::Start(
    const ServerOptions& options) {
  absl::StatusOr<std::string> connection_string =
      storage::ConnectionString(options.database_url);
  if (!connection_string.ok()) return connection_string.status();
  if (options.db_pool_size < 1)
    return absl::InvalidArgumentError("--db_pool_size must be >= 1");
  if (options.max_queued_per_user < 1 || options.max_concurrent_streams < 1 ||
      options.max_batch_size < 1) {
    return absl::InvalidArgumentError(
        "--max_queued_per_user, --max_concurrent_streams and --max_batch_size must be >= "
        "1");
  }
  if (options.request_id_retention < service::kMinRequestIdRetention) {
    return absl::InvalidArgumentError(
        absl::StrCat("--request_id_retention must be at least ",
                     absl::FormatDuration(service::kMinRequestIdRetention),
                     " (the API's promise to retrying callers)"));
  }
  absl::StatusOr<storage::StatementMode> statement_mode =
      storage::ParseStatementMode(options.db_statement_mode);
  if (!statement_mode.ok()) return statement_mode.status();
  if (!(options.access_log_ok_sample_rate >= 0 && options.access_log_ok_sample_rate <= 1))
    return absl::InvalidArgumentError("--access_log_ok_sample_rate must be in [0, 1]");
  auto parts = std::make_unique<Parts>();
  if (!options.metrics_listen.empty()) {
    parts->metrics = std::make_unique<ServerMetrics>(
        ServedMethods(), BuildInfo{options.version, options.commit});
  }
  parts->calls = std::make_unique<GrpcCallObserver>(
      parts->metrics.get(),
      AccessLogOptions{options.access_log, options.access_log_ok_sample_rate});
  MetricsSink* sink = parts->metrics ? parts->metrics.get() : MetricsSink::None();
  TransportSecurityOptions security_options = SecurityOptions(options);
  GrpcCallObserver* calls = parts->calls.get();
  security_options.on_denied = [calls](absl::string_view path, absl::string_view caller) {
    calls->CountDenied(path, caller);
  };
  absl::StatusOr<std::unique_ptr<ServerSecurity>> security =
      ServerSecurity::Create(security_options);
  if (!security.ok()) return security.status();
  if (options.migrate) {
    absl::Status migrated = MigrateWhenReachable(options, *connection_string);
    if (!migrated.ok()) return migrated;
  }

  storage::PostgresOptions database;
  database.metrics = sink;
  database.connection_string = *connection_string;
  database.pool_size = options.db_pool_size;
  database.statement_timeout = options.statement_timeout;
  database.statement_mode = *statement_mode;
  parts->repository = std::make_unique<storage::PostgresRepository>(database);
  service::ServiceOptions service_options;
  service_options.max_request_time = options.max_request_time;
  service_options.request_id_retention = options.request_id_retention;
  parts->service =
      std::make_unique<service::CardService>(parts->repository.get(), service_options);
  SchedulerLimits limits;
  limits.workers = options.db_pool_size;  // so a worker never waits for a connection
  limits.max_queued = options.max_queued_requests;
  limits.max_queued_per_user = options.max_queued_per_user;
  limits.max_queued_bytes = options.max_queued_bytes;
  limits.max_batch = static_cast<size_t>(options.max_batch_size);
  limits.batch_across_users = options.batch_across_users;
  limits.one_queue_per_request_for_test = !options.per_user_queues;
  parts->scheduler = std::make_unique<PerUserScheduler>(limits, sink);
  parts->rpc = std::make_unique<rpc::CardServiceImpl>(parts->service.get(),
                                                      parts->scheduler.get());
  database.pool_size = 1;
  database.application_name = "card-server-health";
  database.metrics = MetricsSink::None();  // Probe failures show as health.
  parts->probe = std::make_unique<storage::PostgresRepository>(database);

  rpc::RouteProtobufLogs();
  gpr_set_log_function(&LogFromGrpc);
  grpc::EnableDefaultHealthCheckService(true);
  EnableReflection();
  parts->security = *std::move(security);
  grpc::ServerBuilder builder;
  builder.SetOption(ReflectionV1Option());
  builder.AddListeningPort(options.listen, parts->security->credentials(), &parts->port);
  SetTransportLimits(options, &builder);
  if (calls->counting() || calls->logging()) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(calls->InterceptorFactory());
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  builder.RegisterService(parts->rpc.get());
  parts->server = builder.BuildAndStart();
  if (parts->server == nullptr || parts->port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  }
  storage::PostgresRepository* probe = parts->probe.get();
  Cancellation* health_cancellation = &parts->health_cancellation;
  parts->health = std::make_unique<HealthMonitor>(
      parts->server->GetHealthCheckService(),
      [probe, health_cancellation] {
        ScopedCallCancellation scope(health_cancellation);
        return probe->Ping(absl::Now() + kProbeTimeout);
      },
      options.health_check_interval);
  service::CardService* service = parts->service.get();
  Cancellation* sweeper_cancellation = &parts->sweeper_cancellation;
  parts->request_id_sweeper = std::make_unique<PeriodicTask>(
      options.request_id_sweep_interval, [service, sweeper_cancellation, sink] {
        ScopedCallCancellation scope(sweeper_cancellation);
        ExpireRequestIds(service, sink);
      });
  if (parts->metrics) {
    absl::Status serving = ServeMetrics(options.metrics_listen, parts.get());
    if (!serving.ok()) return serving;
  }
  return std::unique_ptr<CardServer>(new CardServer(std::move(parts)));
}

CardServer::CardServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

CardServer::~CardServer() { Shutdown(absl::ZeroDuration()); }

int CardServer::port() const { return parts_->port; }

int CardServer::metrics_port() const {
  return parts_->metrics ? parts_->metrics->port() : 0;
}

absl::Status CardServer::ServeMetrics(const std::string& listen, Parts* parts) {
  parts->metrics->SetLevels([parts] {
    Levels levels;
    levels.queued_requests = static_cast<int>(parts->scheduler->queued());
    storage::ConnectionUse use = parts->repository->connection_use();
    levels.db_connections_max = use.size;
    levels.db_connections_in_use = use.in_use;
    levels.db_connections_idle = use.idle;
    levels.serving = !parts->shut_down.load() && parts->health->serving();
    return levels;
  });
  absl::Status serving = parts->metrics->Serve(listen);
  if (serving.ok()) {
    log::Info(absl::StrCat("metrics on http://", listen, "/metrics (port ",
                           parts->metrics->port(), ")"));
  }
  return serving;
}

void CardServer::Shutdown(absl::Duration grace) {
  if (parts_->shut_down) return;
  parts_->shut_down = true;
  absl::Time drained_by = absl::Now() + grace;
  // Load balancers and probes see NOT_SERVING from here on; the monitor's
  // later results are ignored.
  parts_->server->GetHealthCheckService()->Shutdown();
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
