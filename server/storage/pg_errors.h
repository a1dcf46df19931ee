// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The one place where libpqxx exceptions become absl::Status values.
#pragma once

#include <exception>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/common/metrics.h"

namespace card::storage {

// Maps an exception thrown by libpqxx (or by our SQL functions, whose SQLSTATEs
// are listed in storage/README.md) to a status for the caller:
//   connection trouble, server shutting down,
//   out of resources (53xxx), read-only (25006) -> UNAVAILABLE
//   statement_timeout (57014)                  -> DEADLINE_EXCEEDED
//   lock_timeout (55P03)                       -> DEADLINE_EXCEEDED
//   unique violation (23505)                   -> ABORTED, logged as a locking bug
//   serialization failure, deadlock            -> ABORTED
//   a Citus worker unreachable, lost mid-statement,
//   or a shard's commit unconfirmed            -> UNAVAILABLE (outcome unknown;
//                                                 the connection is kept)
//   CS400/CS403/CS404/CS409/CS410              -> INVALID_ARGUMENT/PERMISSION_DENIED/
//                                                 NOT_FOUND/FAILED_PRECONDITION/ABORTED
//   anything else                              -> INTERNAL, logged
// `operation` names what was being done, for the log line. `metrics` hears the
// SQLSTATE of every database error except our own CSxxx ones (which are answers
// to the caller, not failures), and every unique violation.
absl::Status TranslateDatabaseError(const std::exception& error,
                                    absl::string_view operation,
                                    MetricsSink* metrics = MetricsSink::None());

// For the health probe, whose one statement calls our own PL/pgSQL: when
// `error` says that statement cannot run (what TranslateDatabaseError answers
// INTERNAL to: `function` missing or raising, PL/pgSQL unable to load),
// FAILED_PRECONDITION "<function> failed: SQLSTATE <state>: <message>",
// logged by nobody here (the health monitor logs NOT_SERVING reasons,
// rate-limited); nullopt for every other error, left to TranslateDatabaseError.
std::optional<absl::Status> ProbeRefusal(const std::exception& error,
                                         absl::string_view function);

// The status for a refusal our SQL functions return instead of raising (a CS
// SQLSTATE and a '<field>: <description>' message, as in the table above).
absl::Status StatusFromRefusal(const std::string& sqlstate, const std::string& message);

// True if the status means the connection it came from should be replaced.
bool IsConnectionLoss(const absl::Status& status);

// OK if the database takes writes; otherwise UNAVAILABLE "database is read-only
// (<why>)", marked so that IsReadOnlyDatabase (postgres_repository.h) knows it.
// Start-up and the health probe both read the two facts and report through it.
absl::Status ReadOnlyDatabaseStatus(bool in_recovery, bool transaction_read_only);

}  // namespace card::storage
