// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// card-server: the CardService gRPC server.
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cli/command_line.h"
#include "cli/version.h"
#include "server/app/card_server.h"
#include "server/app/server_config.h"
#include "server/common/log.h"
#include "server/common/status.h"
#include "server/storage/database_url.h"
#include "server/storage/migrations.h"
#include "server/storage/postgres_repository.h"

namespace card::storage {

// --db_statement_mode, typed (found by Abseil through argument-dependent lookup).
bool AbslParseFlag(absl::string_view text, StatementMode* mode, std::string* error) {
  absl::StatusOr<StatementMode> parsed = ParseStatementMode(text);
  if (!parsed.ok()) {
    *error = "must be prepared or unnamed";
    return false;
  }
  *mode = *parsed;
  return true;
}

std::string AbslUnparseFlag(StatementMode mode) {
  return mode == StatementMode::kUnnamed ? "unnamed" : "prepared";
}

}  // namespace card::storage

namespace card::log {

// --log_format, typed.
bool AbslParseFlag(absl::string_view text, Format* format, std::string* error) {
  if (text == "text" || text == "json") {
    *format = text == "json" ? Format::kJson : Format::kText;
    return true;
  }
  *error = "must be text or json";
  return false;
}

std::string AbslUnparseFlag(Format format) {
  return format == Format::kJson ? "json" : "text";
}

}  // namespace card::log

namespace {

using card::ForPeople;
using card::app::ServerConfig;

// One flag into one ServerConfig field. CARD_SERVER_FLAG defines the flag and
// records the field it fills, so that a new server option is one flag plus one
// field. The names are kept so that messages naming a field
// (ServerConfig::Validate, ServerSecurity) can name the flag instead.
struct FlagBinding {
  const char* flag;
  const char* field;
  void (*apply)(ServerConfig& config);
};

std::vector<FlagBinding>& Bindings() {
  static auto* bindings = new std::vector<FlagBinding>;
  return *bindings;
}

struct FlagBinder {
  explicit FlagBinder(FlagBinding binding) { Bindings().push_back(binding); }
};

}  // namespace

// Binds an already defined flag to one more field.
#define CARD_CONCAT_INNER(a, b) a##b
#define CARD_CONCAT(a, b) CARD_CONCAT_INNER(a, b)
#define CARD_BIND_FLAG(name, field)                                           \
  static const FlagBinder CARD_CONCAT(kFlagBinding, __COUNTER__)(FlagBinding{ \
      #name, #field,                                                          \
      [](ServerConfig& config) { config.field = absl::GetFlag(FLAGS_##name); }})
#define CARD_SERVER_FLAG(type, name, field, default_value, help) \
  ABSL_FLAG(type, name, default_value, help);                    \
  CARD_BIND_FLAG(name, field)

CARD_SERVER_FLAG(std::string, listen, transport.listen, "127.0.0.1:50051",
                 "Address to serve gRPC on. Loopback by default; 0.0.0.0:PORT to accept "
                 "connections from other hosts.");
ABSL_FLAG(
    std::string, database_url, "",
    "PostgreSQL connection string or URL. Defaults to $DATABASE_URL. Never logged.");
CARD_SERVER_FLAG(int, db_pool_size, database.repository.pool_size, 16,
                 "Database connections (and worker threads). Keep replicas x this below "
                 "PostgreSQL's max_connections.");
// A worker per connection, so that a worker never waits for one.
CARD_BIND_FLAG(db_pool_size, scheduler.workers);
CARD_SERVER_FLAG(
    card::storage::StatementMode, db_statement_mode, database.repository.statement_mode,
    card::storage::StatementMode::kPrepared,
    "prepared: statements prepared by name once per connection (direct, or a "
    "session-mode pool). unnamed: each statement sent with its parameters, nothing "
    "kept on the session, for a transaction-mode pool such as PgBouncer 1.18; the "
    "role must set the session's settings (deploy/README.md, \"PgBouncer\").");
CARD_SERVER_FLAG(size_t, max_queued_requests, scheduler.max_queued, 50000,
                 "Requests waiting in the per-user queues, all users together; more are "
                 "refused with RESOURCE_EXHAUSTED.");
CARD_SERVER_FLAG(
    size_t, max_queued_per_user, scheduler.max_queued_per_user, 1000,
    "Requests for one user waiting behind the one being served; more are "
    "refused with RESOURCE_EXHAUSTED. A user's requests run one at a time per "
    "replica, so one user can never take more than one worker.");
CARD_SERVER_FLAG(
    size_t, max_batch_size, scheduler.max_batch, 64,
    "Group commit: most CreateCard calls of one user, queued one behind another, "
    "that run as one transaction (one lock, one commit, a result each). 1 turns "
    "it off.");
CARD_SERVER_FLAG(
    bool, batch_across_users, scheduler.batch_across_users, true,
    "Group commit: a batch with room also takes other users' queued CreateCard "
    "calls (each user's still in arrival order; a batch of several users never "
    "waits for a user's lock).");
CARD_SERVER_FLAG(
    int, db_active_turns, scheduler.max_active_turns, 2,
    "Turns (a call, or a batch of them) that run on the database at once; further "
    "calls wait and join larger batches. About the database's cores. A turn "
    "running longer than --db_active_turn_hold (waiting for a user's lock, most "
    "likely) no longer counts. 0: one per connection.");
CARD_SERVER_FLAG(absl::Duration, db_active_turn_hold, scheduler.active_turn_hold,
                 absl::Milliseconds(20),
                 "How long a turn counts against --db_active_turns: the most a turn "
                 "blocked on a user's lock delays other users' calls.");
CARD_SERVER_FLAG(
    size_t, max_queued_bytes, scheduler.max_queued_bytes, size_t{64} << 20,
    "Total size of the requests waiting in the per-user queues; more are refused "
    "with RESOURCE_EXHAUSTED.");
CARD_SERVER_FLAG(size_t, transport_memory_limit, transport.memory_limit,
                 size_t{128} << 20,
                 "Memory gRPC may use for connections and messages in flight (its "
                 "ResourceQuota); under pressure it stops reading from clients.");
CARD_SERVER_FLAG(
    int, max_concurrent_streams, transport.max_concurrent_streams, 2000,
    "Calls in flight on one HTTP/2 connection; a client's further calls wait. Keep "
    "it above --max_queued_per_user: a gateway multiplexing many users over one "
    "connection must not have it filled by one blocked user.");
CARD_SERVER_FLAG(int, max_metadata_bytes, transport.max_metadata_bytes, 20 << 10,
                 "Request headers one call may send; more get RESOURCE_EXHAUSTED. "
                 "Above the front proxy's limit (deploy/proxy/haproxy.cfg), which "
                 "refuses first.");
CARD_SERVER_FLAG(
    absl::Duration, max_connection_idle, transport.max_connection_idle, absl::Minutes(5),
    "Connections without calls for this long are closed (clients reconnect when "
    "they need to).");
CARD_SERVER_FLAG(absl::Duration, statement_timeout, database.repository.statement_timeout,
                 absl::Seconds(10),
                 "PostgreSQL statement_timeout on every pooled connection.");
CARD_SERVER_FLAG(
    absl::Duration, max_request_time, service.max_request_time, absl::Seconds(10),
    "Longest time one request may take (waiting for the user's lock included), "
    "whatever deadline the caller sent.");
ABSL_FLAG(
    absl::Duration, shutdown_grace, absl::Seconds(20),
    "On SIGTERM/SIGINT, how long in-flight RPCs may finish before they are cancelled.");
CARD_SERVER_FLAG(absl::Duration, startup_timeout, migration.startup_timeout,
                 absl::Seconds(30),
                 "How long to wait at start-up for the database to become reachable.");
CARD_SERVER_FLAG(absl::Duration, request_id_retention, service.request_id_retention,
                 absl::Hours(48),
                 "How long CreateCard request ids are remembered for idempotent retries "
                 "(the API promises at least 24h).");
CARD_SERVER_FLAG(
    absl::Duration, max_connection_age, transport.max_connection_age,
    absl::ZeroDuration(),
    "If set, clients are asked to reconnect after a connection has lived this "
    "long, so replicas added by a scale-up receive traffic (0: never).");
CARD_SERVER_FLAG(
    absl::Duration, listener_check_interval, transport.listener_check_interval,
    absl::Seconds(1),
    "Listener self-check: this often, a fresh connection to --listen's own port "
    "must get the server's HTTP/2 SETTINGS within 2s. gRPC 1.51 stops accepting "
    "for good once it runs out of descriptors, while open connections (health "
    "included) keep working; this notices. 0 turns it off.");
CARD_SERVER_FLAG(
    absl::Duration, listener_check_give_up, transport.listener_check_give_up,
    absl::Seconds(10),
    "Self-checks failing for this long: health NOT_SERVING, a short drain, then "
    "exit code 70 for the supervisor to restart the server.");
CARD_SERVER_FLAG(bool, migrate, migration.apply, true,
                 "Apply pending schema migrations at start-up.");
ABSL_FLAG(bool, migrate_only, false, "Apply pending schema migrations and exit.");
CARD_SERVER_FLAG(
    std::string, tls_cert_file, security.tls_cert_file, "",
    "PEM certificate chain; serve TLS with --tls_key_file. Re-read every "
    "--reload_interval: a rotated certificate reaches new connections without a "
    "restart (replace files atomically, as Kubernetes Secret volumes do).");
CARD_SERVER_FLAG(std::string, tls_key_file, security.tls_key_file, "",
                 "PEM private key for --tls_cert_file.");
CARD_SERVER_FLAG(
    std::string, tls_client_ca_file, security.tls_client_ca_file, "",
    "PEM roots. Set: every client must present a certificate chaining to them "
    "(mutual TLS); no certificate, an expired one or one from another CA fails the "
    "handshake. Re-read every --reload_interval.");
CARD_SERVER_FLAG(
    std::string, authz_policy_file, security.authz_policy_file, "",
    "gRPC authorization policy (gRFC A43 JSON) enforced on every call: a caller "
    "(its certificate's URI SAN, e.g. spiffe://...) may call only the methods the "
    "policy allows; others get PERMISSION_DENIED. Re-read every --reload_interval; "
    "an invalid new file is logged and the last valid policy stays. Needs TLS.");
CARD_SERVER_FLAG(
    bool, allow_insecure_listen, security.allow_insecure_listen, false,
    "Serve plaintext on a non-loopback --listen address. Without TLS flags the "
    "server otherwise refuses: anyone who can reach the port could call every "
    "method.");
CARD_SERVER_FLAG(
    std::vector<std::string>, trusted_proxy_identities, security.trusted_proxy_identities,
    {},
    "Front proxies, by their client certificates' URI or DNS SAN (comma-separated), "
    "whose calls act as the client certificate they forward in the "
    "card-forwarded-client-cert header (base64 DER; deploy/proxy/haproxy.cfg). "
    "The header is ignored from anybody else. Needs --tls_client_ca_file.");
CARD_SERVER_FLAG(absl::Duration, reload_interval, security.reload_interval,
                 absl::Seconds(2),
                 "How often --tls_cert_file, --tls_key_file, --tls_client_ca_file and "
                 "--authz_policy_file are re-read, without blocking: anything but a "
                 "regular file is refused, and so is an invalid file (logged; the last "
                 "good one stays). A new certificate reaches new connections up to 1s "
                 "later.");
CARD_SERVER_FLAG(
    std::string, metrics_listen, observability.metrics_listen, "",
    "host:port to serve Prometheus metrics on (GET /metrics, plain HTTP), e.g. "
    "127.0.0.1:9090; empty: no metrics. They name no user and no card. A "
    "non-loopback address needs --allow_insecure_metrics_listen.");
CARD_SERVER_FLAG(bool, allow_insecure_metrics_listen,
                 observability.allow_insecure_metrics_listen, false,
                 "Serve --metrics_listen's plain HTTP on a non-loopback address (for a "
                 "Prometheus on another host). Without it the server refuses to start: "
                 "anyone who can reach the port could read the metrics.");
ABSL_FLAG(card::log::Format, log_format, card::log::Format::kText,
          "text (for people) or json (one object per line: time, level, message and "
          "fields, for log collectors).");
CARD_SERVER_FLAG(
    bool, access_log, observability.access_log.enabled, false,
    "Log one line per call: method, code, duration, peer and, with mutual TLS, the "
    "caller's identity. Every error, and the OK calls sampled by "
    "--access_log_ok_sample_rate. Never a request's content.");
CARD_SERVER_FLAG(
    double, access_log_ok_sample_rate, observability.access_log.ok_sample_rate, 1.0,
    "Fraction of OK calls --access_log logs, 0 to 1 (0.01: one in a hundred).");

namespace {

constexpr int kExitUsage = 2;
// EX_SOFTWARE: the listener stopped accepting new connections (the listener
// self-check gave up); a restart is the cure.
constexpr int kExitListenerStuck = 70;
// Before the drain after the self-check gave up: health checkers on open
// connections see NOT_SERVING before the GOAWAY.
constexpr absl::Duration kListenerStuckNotServingHold = absl::Seconds(2);
// The drain after that: in-flight calls on open connections may finish.
constexpr absl::Duration kListenerStuckMaxDrain = absl::Seconds(5);
// Past the hold and the drain: the process ends whatever is still running.
constexpr absl::Duration kListenerStuckWatchdogSlack = absl::Seconds(5);

// Set by the listener self-check, before it wakes main with SIGTERM.
std::atomic<bool> listener_stuck{false};

std::string DatabaseUrl() {
  std::string url = absl::GetFlag(FLAGS_database_url);
  if (url.empty()) {
    if (const char* env = std::getenv("DATABASE_URL")) url = env;
  }
  return url;
}

ServerConfig ConfigFromFlags() {
  ServerConfig config;
  for (const FlagBinding& binding : Bindings()) binding.apply(config);
  config.database.url = DatabaseUrl();  // The flag, else $DATABASE_URL.
  config.observability.build = {
      card::cli::kVersion, *card::cli::kGitCommit ? card::cli::kGitCommit : "unknown"};
  return config;
}

// `message` with every ServerConfig field name it mentions replaced by its
// flag ("scheduler.max_batch must be >= 1" -> "--max_batch_size must be >= 1").
std::string InFlagNames(absl::string_view message) {
  std::vector<const FlagBinding*> longest_first;
  for (const FlagBinding& binding : Bindings()) longest_first.push_back(&binding);
  std::sort(longest_first.begin(), longest_first.end(),
            [](const FlagBinding* a, const FlagBinding* b) {
              return strlen(a->field) > strlen(b->field);
            });
  std::string out;
  for (size_t i = 0; i < message.size();) {
    const FlagBinding* match = nullptr;
    for (const FlagBinding* binding : longest_first) {
      if (absl::StartsWith(message.substr(i), binding->field)) {
        match = binding;
        break;
      }
    }
    if (match == nullptr) {
      out.push_back(message[i++]);
      continue;
    }
    absl::StrAppend(&out, "--", match->flag);
    i += strlen(match->field);
  }
  return out;
}

// Soft open-files limit raised to the hard one: each connection is a
// descriptor, and running out stops accept (issue 19). Logged once.
void RaiseOpenFilesLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    card::log::Warning(absl::StrCat("open files limit: getrlimit: ", strerror(errno)));
    return;
  }
  const rlim_t was = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (was != limit.rlim_max && setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    card::log::Warning(absl::StrCat("open files limit: ", was, " (raising it to ",
                                    limit.rlim_max, " failed: ", strerror(errno), ")"));
    return;
  }
  card::log::Info(absl::StrCat("open files limit: ", limit.rlim_cur, " (was ", was, ")"));
}

// The signals main waits for; blocked in every thread. SIGHUP, SIGUSR1 and
// SIGUSR2 (whose default action ends the process) are received, logged and
// otherwise ignored: certificates and the policy are re-read on their own.
sigset_t HandledSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int signal : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) {
    sigaddset(&signals, signal);
  }
  return signals;
}

// Waits for SIGTERM or SIGINT and returns it; logs every other one on the way.
int WaitForShutdownSignal(const sigset_t& signals) {
  for (;;) {
    int received = 0;
    if (sigwait(&signals, &received) != 0) continue;
    if (received == SIGTERM || received == SIGINT) return received;
    if (received == SIGHUP) {
      card::log::Info(
          "SIGHUP: certificates and the policy are re-read every --reload_interval; "
          "nothing to do");
    } else {
      card::log::Info(
          absl::StrCat(received == SIGUSR1 ? "SIGUSR1" : "SIGUSR2", " ignored"));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
#ifdef NDEBUG
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles
  // (costly: it shows in profiles); a release build does not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  const card::cli::Program program{
      "card-server",
      "CardService gRPC server.\n  card-server --database_url=postgresql://... "
      "[--listen=127.0.0.1:50051]\nExit codes: 0 clean shutdown, 1 failure, 2 bad "
      "command line, 70 the listener stopped accepting new connections (restart "
      "it).",
      kExitUsage};
  if (!card::cli::ParseCommandLineOrExit(argc, argv, program).empty()) {
    card::cli::PrintUsageError(program.name, "takes no positional arguments");
    return kExitUsage;
  }
  card::log::SetFormat(absl::GetFlag(FLAGS_log_format));
  // Fail fast on an unreachable host instead of waiting for TCP's timeout.
  setenv("PGCONNECT_TIMEOUT", "5", /*overwrite=*/0);

  // Handle signals on this thread only: block them before any other thread
  // exists, so every thread inherits the mask. A write to a closed pipe
  // (stderr whose reader went away) returns EPIPE instead of ending the process.
  std::signal(SIGPIPE, SIG_IGN);
  const sigset_t signals = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  RaiseOpenFilesLimit();

  if (absl::GetFlag(FLAGS_migrate_only)) {
    absl::StatusOr<std::string> connection =
        card::storage::ConnectionString(DatabaseUrl());
    if (!connection.ok()) {
      card::log::Error(std::string(connection.status().message()));
      return 1;
    }
    card::storage::MigrationResult applied;
    absl::Status status = card::storage::ApplyMigrations(*connection, &applied);
    if (!status.ok()) {
      card::log::Error(absl::StrCat("migration failed: ", ForPeople(status)));
      return 1;
    }
    card::log::Info(absl::StrCat(
        "migrations done: ", applied.migrations_applied, " applied; definitions ",
        applied.definitions_applied ? "re-applied" : "unchanged"));
    return 0;
  }

  const ServerConfig config = ConfigFromFlags();
  absl::StatusOr<std::unique_ptr<card::app::CardServer>> server =
      card::app::CardServer::Start(config, [] {
        // Woken like by SIGTERM (this thread must not shut the server down:
        // Shutdown waits for it); main tells the two apart by the flag.
        listener_stuck = true;
        kill(getpid(), SIGTERM);
      });
  if (!server.ok()) {
    card::log::Error(
        absl::StrCat("start-up failed: ", InFlagNames(ForPeople(server.status()))));
    return 1;
  }
  card::log::Info(absl::StrCat("card-server listening on ", config.transport.listen,
                               " (port ", (*server)->port(), ", db_pool_size ",
                               config.database.repository.pool_size, ")"));

  const int received = WaitForShutdownSignal(signals);
  if (listener_stuck) {
    const absl::Duration drain =
        std::min(absl::GetFlag(FLAGS_shutdown_grace), kListenerStuckMaxDrain);
    // Bounded whatever happens below: a stuck process is worse than an abrupt end.
    std::thread([limit =
                     kListenerStuckNotServingHold + drain + kListenerStuckWatchdogSlack] {
      absl::SleepFor(limit);
      card::log::Error(absl::StrCat("shutdown took longer than ",
                                    absl::FormatDuration(limit), "; exiting now"));
      std::_Exit(kExitListenerStuck);
    }).detach();
    card::log::Info(absl::StrCat("health NOT_SERVING; draining for up to ",
                                 absl::FormatDuration(drain), " after ",
                                 absl::FormatDuration(kListenerStuckNotServingHold),
                                 ", then exit code ", kExitListenerStuck));
    absl::SleepFor(kListenerStuckNotServingHold);
    (*server)->Shutdown(drain);
    card::log::Info(absl::StrCat("card-server stopped (exit code ", kExitListenerStuck,
                                 ": the listener stopped accepting)"));
    return kExitListenerStuck;
  }
  card::log::Info(absl::StrCat(
      "received ", received == SIGTERM ? "SIGTERM" : "SIGINT", "; draining for up to ",
      absl::FormatDuration(absl::GetFlag(FLAGS_shutdown_grace))));
  (*server)->Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  card::log::Info("card-server stopped");
  return 0;
}
