// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Distributing the schema over a Citus cluster (citus_setup.h says what and
// why). Private to server/storage: called by ApplyMigrations (migrations.cc).
#pragma once

#include <functional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace card::storage {

// On Citus: distributes whatever of citus_setup.h is not yet distributed, each
// step in a transaction of its own under `lock_sql` (the migration lock).
// `reapply_definitions` is called once tables were newly distributed, so that
// the functions and views made before (created on the coordinator alone) are
// created again and propagate to the workers. Returns what it did, one entry
// per step ("distributed table cards by user_id"); nothing on plain
// PostgreSQL or when all is in place. Throws what libpqxx throws.
std::vector<std::string> DistributeOnCitus(
    pqxx::connection& conn, const std::string& lock_sql,
    const std::function<void()>& reapply_definitions);

}  // namespace card::storage
