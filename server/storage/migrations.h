// Versioned schema migrations (server/storage/migrations/NNNN_name.sql, embedded
// into the binary at build time) and the code that applies them.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace card::storage {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// All migrations, in version order.
const std::vector<Migration>& Migrations();

// Applies the migrations the database has not seen yet, each in its own
// transaction, while holding a session advisory lock so that replicas starting
// together apply each migration once. Returns the number applied.
absl::Status ApplyMigrations(const std::string& database_url, int* applied = nullptr);

}  // namespace card::storage
