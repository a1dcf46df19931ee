#include "app/card_server.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "app/health_monitor.h"
#include "app/tls_credentials.h"
#include "common/executor.h"
#include "common/log.h"
#include "common/periodic_task.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "rpc/card_service_impl.h"
#include "service/card_service.h"
#include "storage/database_url.h"
#include "storage/migrations.h"
#include "storage/postgres_repository.h"

namespace card::app {

// Declared in the order they are built; destroyed in reverse.
struct CardServer::Parts {
  std::unique_ptr<storage::PostgresRepository> repository;
  std::unique_ptr<service::CardService> service;
  std::unique_ptr<Executor> executor;
  std::unique_ptr<rpc::CardServiceImpl> rpc;
  // The health probe's own connection: never queued behind RPC traffic.
  std::unique_ptr<storage::PostgresRepository> probe;
  // Credentials and the authorization policy; outlive the server using them.
  std::unique_ptr<ServerSecurity> security;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<HealthMonitor> health;
  std::unique_ptr<PeriodicTask> request_id_sweeper;
  int port = 0;
  bool shut_down = false;
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

void ExpireRequestIds(service::CardService* service) {
  absl::StatusOr<int> expired = service->ExpireRequestIds();
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
  if (options.request_id_retention < service::kMinRequestIdRetention) {
    return absl::InvalidArgumentError(
        absl::StrCat("--request_id_retention must be at least ",
                     absl::FormatDuration(service::kMinRequestIdRetention),
                     " (the API's promise to retrying callers)"));
  }
  absl::StatusOr<std::unique_ptr<ServerSecurity>> security =
      ServerSecurity::Create(SecurityOptions(options));
  if (!security.ok()) return security.status();
  if (options.migrate) {
    absl::Status migrated = MigrateWhenReachable(options, *connection_string);
    if (!migrated.ok()) return migrated;
  }

  auto parts = std::make_unique<Parts>();
  storage::PostgresOptions database;
  database.connection_string = *connection_string;
  database.pool_size = options.db_pool_size;
  database.statement_timeout = options.statement_timeout;
  parts->repository = std::make_unique<storage::PostgresRepository>(database);
  service::ServiceOptions service_options;
  service_options.max_request_time = options.max_request_time;
  service_options.request_id_retention = options.request_id_retention;
  parts->service =
      std::make_unique<service::CardService>(parts->repository.get(), service_options);
  parts->executor =
      std::make_unique<Executor>(options.db_pool_size, options.max_queued_requests);
  parts->rpc =
      std::make_unique<rpc::CardServiceImpl>(parts->service.get(), parts->executor.get());
  database.pool_size = 1;
  database.application_name = "card-server-health";
  parts->probe = std::make_unique<storage::PostgresRepository>(database);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  parts->security = *std::move(security);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, parts->security->credentials(), &parts->port);
  if (options.max_connection_age > absl::ZeroDuration()) {
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_MS,
        static_cast<int>(absl::ToInt64Milliseconds(options.max_connection_age)));
    // Calls in flight on an aged connection get this long to finish.
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
        static_cast<int>(absl::ToInt64Milliseconds(options.max_request_time)));
  }
  builder.RegisterService(parts->rpc.get());
  parts->server = builder.BuildAndStart();
  if (parts->server == nullptr || parts->port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  }
  storage::PostgresRepository* probe = parts->probe.get();
  parts->health = std::make_unique<HealthMonitor>(
      parts->server->GetHealthCheckService(),
      [probe] { return probe->Ping(absl::Now() + absl::Seconds(2)); },
      options.health_check_interval);
  service::CardService* service = parts->service.get();
  parts->request_id_sweeper = std::make_unique<PeriodicTask>(
      options.request_id_sweep_interval, [service] { ExpireRequestIds(service); });
  return std::unique_ptr<CardServer>(new CardServer(std::move(parts)));
}

CardServer::CardServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

CardServer::~CardServer() { Shutdown(absl::ZeroDuration()); }

int CardServer::port() const { return parts_->port; }

void CardServer::Shutdown(absl::Duration grace) {
  if (parts_->shut_down) return;
  parts_->shut_down = true;
  parts_->health->Stop();
  // Load balancers and probes see NOT_SERVING from here on.
  parts_->server->GetHealthCheckService()->Shutdown();
  parts_->server->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  parts_->request_id_sweeper->Stop();
  parts_->executor->Stop();
  parts_->server->Wait();
}

}  // namespace card::app
