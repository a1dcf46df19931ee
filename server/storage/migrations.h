// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The schema: versioned migrations and re-applied definitions, embedded into
// the binary at build time (cmake/embed_migrations.cmake), and the code that
// brings a database up to date. See server/storage/README.md for how to change
// either.
//
//  * migrations/NNNN_name.sql: tables, indexes and data changes. Applied once
//    each, in version order, and never edited after they ship.
//  * definitions/NN_name.sql: functions and views, one per file, each a
//    CREATE OR REPLACE. Whenever any file differs from what the database last
//    applied, all of them are applied again, in file-name order (dependency
//    order), in one transaction. So changing card_create is an edit of one
//    file, reviewed as a diff of that file. A binary older than the database
//    (the database has a migration it does not know) leaves them alone.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace card::storage {

struct Migration {
  int version;  // Definitions: the file's order number.
  const char* name;
  const char* sql;
};

// All migrations, in version order.
const std::vector<Migration>& Migrations();
// All definitions, in dependency order.
const std::vector<Migration>& Definitions();

struct MigrationResult {
  int migrations_applied = 0;
  bool definitions_applied = false;  // False: the database had them all, unchanged.
  // Functions and views that were missing or changed by hand (not by a
  // release), put back by re-applying the definitions.
  int drift_repaired = 0;
};

// The function or view a definition creates: its file name without the order
// number ("27_card_create_many" creates card_create_many).
std::string DefinedObject(const Migration& definition);
// Every DefinedObject, as a PostgreSQL text[] literal.
const std::string& DefinedObjectsArray();

// Applies the migrations the database has not seen yet, then the definitions
// if any changed or the catalog no longer holds what they last created (a
// function or view dropped, renamed or replaced by hand: logged as "schema
// drift repaired"), all in one transaction that first takes a transaction-level
// advisory lock, so that replicas starting together apply each change once
// and a failure leaves the database as it was. Nothing outlives the
// transaction: this works through a transaction-mode pool (PgBouncer) too.
// A read-only database is UNAVAILABLE with the reason ("database is read-only
// (transaction_read_only = on)").
absl::Status ApplyMigrations(const std::string& connection_string,
                             MigrationResult* result = nullptr);

}  // namespace card::storage
