// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Turning the operator's database URL into the connection string the server
// uses. Done once at start-up, before anything connects.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace card::storage {

// Parses `database_url` (a libpq URL or key=value string) and returns it in
// key=value form with TCP keepalives added unless the URL sets them: without
// them a database that vanishes without closing the socket (a paused VM, a
// failover to an unreachable address) would block a worker for hours, since
// statement_timeout is enforced by the server that is gone.
//
// A URL libpq rejects, or would reject only when connecting (a port, number
// or mode that can never work: retrying it is pointless), is INVALID_ARGUMENT
// "the database URL is invalid: <libpq's reason>", with the password (which
// libpq's message may quote) replaced by ********.
absl::StatusOr<std::string> ConnectionString(const std::string& database_url);

// `connection_string` (from ConnectionString) with `keyword` set to `value`,
// quoted as libpq wants; it overrides the same keyword earlier in the string.
std::string WithParameter(const std::string& connection_string, const char* keyword,
                          const std::string& value);

}  // namespace card::storage
