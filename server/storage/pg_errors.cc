// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/storage/pg_errors.h"

#include <atomic>
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "server/common/log.h"
#include "server/common/status.h"

namespace card::storage {
namespace {

// Payload marking a status whose connection must be replaced.
constexpr char kConnectionLostPayload[] = "type.devcard.dev/card.connection_lost";

// The primary message of a PostgreSQL error: first line, without "ERROR:  ".
std::string PrimaryMessage(const std::exception& error) {
  absl::string_view text = error.what();
  text = text.substr(0, text.find('\n'));
  absl::ConsumePrefix(&text, "ERROR:");
  return std::string(absl::StripAsciiWhitespace(text));
}

// Our functions raise '<field>: <description>'.
absl::Status FromFieldMessage(absl::StatusCode code, const std::string& message) {
  size_t colon = message.find(": ");
  if (colon == std::string::npos) return absl::Status(code, message);
  return FieldError(code, message.substr(0, colon), message.substr(colon + 2));
}

// Logs `line` unless this `last_logged_ms` logged within five seconds: while
// a database (or one of its nodes) is down every request fails the same way.
void WarnOnceAWhile(std::atomic<int64_t>& last_logged_ms, const std::string& line) {
  int64_t now_ms = absl::ToUnixMillis(absl::Now());
  int64_t last_ms = last_logged_ms.load();
  if (now_ms - last_ms >= 5000 &&
      last_logged_ms.compare_exchange_strong(last_ms, now_ms)) {
    log::Warning(line);
  }
}

absl::Status ConnectionLost(absl::string_view operation, const std::exception& error) {
  static std::atomic<int64_t> last_logged_ms{0};
  WarnOnceAWhile(last_logged_ms,
                 absl::StrCat("database connection lost or refused during ", operation,
                              ": ", PrimaryMessage(error)));
  absl::Status status = absl::UnavailableError("database unavailable; retry");
  status.SetPayload(kConnectionLostPayload, absl::Cord("1"));
  return status;
}

// Citus (a distributed cluster behind the coordinator we talk to) reports a
// worker it could not reach or lost mid-statement with Citus's context line
// "while executing command on <host>:<port>" (for a lost connection the
// SQLSTATE is XX000: libpq gave none) or as 08006 "connection to the remote
// node ... failed"; and a commit some worker did not confirm as XX000 "could
// not commit transaction for shard ...". Each is an unknown outcome: the
// caller must retry with the same request id, so UNAVAILABLE, never INTERNAL.
// Our own connection to the coordinator is fine and is kept.
bool IsDistributedNodeFailure(const std::string& state, const std::exception& error) {
  if (state != "XX000" && !absl::StartsWith(state, "08")) return false;
  absl::string_view text = error.what();
  return absl::StrContains(text, "while executing command on ") ||
         absl::StrContains(text, "connection to the remote node ") ||
         absl::StrContains(text, "could not establish any connections to the node ") ||
         absl::StrContains(text, "could not commit transaction for shard ");
}

// The status of one of our CS SQLSTATEs; nullopt for any other state.
std::optional<absl::Status> FromOurSqlState(const std::string& state,
                                            const std::string& message) {
  if (state == "CS400")
    return FromFieldMessage(absl::StatusCode::kInvalidArgument, message);
  if (state == "CS403")
    return FromFieldMessage(absl::StatusCode::kPermissionDenied, message);
  if (state == "CS404") return FromFieldMessage(absl::StatusCode::kNotFound, message);
  if (state == "CS409")
    return FromFieldMessage(absl::StatusCode::kFailedPrecondition, message);
  if (state == "CS410") return FromFieldMessage(absl::StatusCode::kAborted, message);
  return std::nullopt;
}

// The SQLSTATEs FromSqlState answers with something other than INTERNAL:
// ours, and the transient ones. Keep the two in step.
bool Anticipated(const std::string& state) {
  return absl::StartsWith(state, "CS") || state == "57014" || state == "55P03" ||
         state == "23505" || state == "40001" || state == "40P01" ||
         absl::StartsWith(state, "08") || absl::StartsWith(state, "57P") ||
         absl::StartsWith(state, "53") || state == "25006";
}

absl::Status FromSqlState(const std::string& state, const std::exception& error,
                          absl::string_view operation, MetricsSink* metrics) {
  if (absl::StartsWith(state, "CS")) {
    if (std::optional<absl::Status> ours =
            FromOurSqlState(state, PrimaryMessage(error))) {
      return *ours;
    }
  }
  metrics->CountDatabaseError(state);
  if (state == "57014")
    return absl::DeadlineExceededError("database statement timed out");
  if (state == "55P03") {
    return absl::DeadlineExceededError("timed out waiting for the user's other requests");
  }
  if (state == "23505") {
    // Every writer holds the user's lock, so the backstop index must never fire.
    metrics->CountBackstopViolation();
    log::Error(absl::StrCat("BUG: unique violation in ", operation,
                            " despite the per-user lock: ", PrimaryMessage(error)));
    return absl::AbortedError("conflicting concurrent change; retry");
  }
  if (state == "40001" || state == "40P01") {
    return absl::AbortedError("concurrent change conflict; retry");
  }
  if (IsDistributedNodeFailure(state, error)) {
    static std::atomic<int64_t> last_logged_ms{0};
    WarnOnceAWhile(last_logged_ms,
                   absl::StrCat("a distributed database node failed during ", operation,
                                ": ", PrimaryMessage(error)));
    return absl::UnavailableError(
        "a database node did not answer; outcome unknown, retry with the same "
        "request_id");
  }
  // Class 08: connection exception; 57P0x: server shutting down or starting up.
  if (absl::StartsWith(state, "08") || absl::StartsWith(state, "57P")) {
    return ConnectionLost(operation, error);
  }
  // 53xxx: out of connections, memory or disk. 25006: read-only transaction,
  // i.e. connected to a standby after a failover; a new connection may reach
  // the new primary.
  if (absl::StartsWith(state, "53"))
    return absl::UnavailableError("database out of resources; retry");
  if (state == "25006") return ConnectionLost(operation, error);
  log::Error(absl::StrCat("database error ", state, " in ", operation, ": ",
                          PrimaryMessage(error)));
  return absl::InternalError("internal database error");
}

}  // namespace

absl::Status TranslateDatabaseError(const std::exception& error,
                                    absl::string_view operation, MetricsSink* metrics) {
  if (dynamic_cast<const pqxx::broken_connection*>(&error) != nullptr) {
    metrics->CountDatabaseError("");
    return ConnectionLost(operation, error);
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error)) {
    // libpq reports a connection dropped mid-statement without a SQLSTATE.
    if (sql->sqlstate().empty()) {
      metrics->CountDatabaseError("");
      return ConnectionLost(operation, error);
    }
    return FromSqlState(sql->sqlstate(), error, operation, metrics);
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&error) != nullptr) {
    // libpqxx 6 throws serialization failures and deadlocks (class 40) as
    // transaction_rollback, which carries no SQLSTATE.
    metrics->CountDatabaseError("40000");
    return absl::AbortedError("concurrent change conflict; retry");
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&error) != nullptr) {
    metrics->CountDatabaseError("");
    // The commit may or may not have happened; only an idempotent retry is safe.
    log::Error(absl::StrCat("commit outcome unknown in ", operation));
    return absl::UnavailableError("database connection lost at commit; outcome unknown");
  }
  log::Error(absl::StrCat("unexpected error in ", operation, ": ", error.what()));
  return absl::InternalError("internal error");
}

std::optional<absl::Status> ProbeRefusal(const std::exception& error,
                                         absl::string_view function) {
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error);
  if (sql == nullptr || sql->sqlstate().empty() || Anticipated(sql->sqlstate())) {
    return std::nullopt;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      function, " failed: SQLSTATE ", sql->sqlstate(), ": ", PrimaryMessage(error)));
}

absl::Status StatusFromRefusal(const std::string& sqlstate, const std::string& message) {
  if (std::optional<absl::Status> ours = FromOurSqlState(sqlstate, message)) return *ours;
  log::Error(absl::StrCat("unknown refusal ", sqlstate, " from the database: ", message));
  return absl::InternalError("internal database error");
}

bool IsConnectionLoss(const absl::Status& status) {
  return status.GetPayload(kConnectionLostPayload).has_value();
}

namespace {
constexpr char kReadOnlyPayload[] = "type.devcard.dev/card.read_only";
}  // namespace

absl::Status ReadOnlyDatabaseStatus(bool in_recovery, bool transaction_read_only) {
  if (!in_recovery && !transaction_read_only) return absl::OkStatus();
  absl::Status status = absl::UnavailableError(
      absl::StrCat("database is read-only (",
                   in_recovery ? "pg_is_in_recovery() = true: a standby"
                               : "transaction_read_only = on",
                   ")"));
  status.SetPayload(kReadOnlyPayload, absl::Cord("1"));
  return status;
}

bool IsReadOnlyDatabase(const absl::Status& status) {
  return status.GetPayload(kReadOnlyPayload).has_value();
}

}  // namespace card::storage
