// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// --database_url is checked before the load starts, so a wrong URL costs a
// second, not a whole run: exit 4 with libpq's reason, the password removed.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace card::stress {

// Connects once and runs a read of the cards table. The error's message is
// libpq's (or PostgreSQL's) reason with any password from the URL masked.
absl::Status CheckDatabase(const std::string& database_url);

// `message` with every occurrence of the password in `database_url` (URL or
// key=value form) replaced by "***".
std::string WithoutPassword(std::string message, const std::string& database_url);

}  // namespace card::stress
