// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/storage/migrations.h"

#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "server/common/log.h"
#include "server/storage/citus_distribute.h"
#include "server/storage/pg_errors.h"

namespace card::storage {
namespace {

// Transaction-level advisory lock serialising migrations across replicas: the
// whole migration is one transaction, so nothing outlives it and it works
// through a transaction-mode pool (PgBouncer) as it does directly. The two-int
// key space is separate from the per-user bigint keys.
constexpr int kLockNamespace = 0x43415244;  // "CARD"
constexpr int kMigrationLockId = 1;

constexpr char kCreateVersionTable[] = R"sql(
  CREATE TABLE IF NOT EXISTS card_schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()))sql";
// The text of every definition as last applied: comparing it with the embedded
// text tells whether anything changed, without trusting a version number that
// an edit could forget to bump.
constexpr char kCreateDefinitionTable[] = R"sql(
  CREATE TABLE IF NOT EXISTS card_schema_definitions (
    name       text        PRIMARY KEY,
    definition text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()))sql";
constexpr char kCurrentVersion[] =
    "SELECT coalesce(max(version), 0) FROM card_schema_migrations";
constexpr char kRecordVersion[] =
    "INSERT INTO card_schema_migrations (version, name) VALUES ($1, $2)";
constexpr char kAppliedDefinitions[] =
    "SELECT name, definition, catalog_md5 FROM card_schema_definitions";
constexpr char kForgetDefinitions[] = "DELETE FROM card_schema_definitions";
constexpr char kRecordDefinition[] =
    "INSERT INTO card_schema_definitions (name, definition) VALUES ($1, $2)";
constexpr char kRecordFingerprint[] =
    "UPDATE card_schema_definitions SET catalog_md5 = $2 WHERE name = $1";
// One catalog query: for each object a definition creates, what the catalog
// holds now (NULL when it is missing). A function's overloads all count, so an
// extra one made by hand shows too.
constexpr char kCatalogFingerprints[] = R"sql(
  SELECT d.object,
         coalesce(
           (SELECT string_agg(md5(pg_get_functiondef(p.oid)), ' '
                              ORDER BY p.oid::regprocedure::text)
            FROM pg_proc p
            WHERE p.proname = d.object AND pg_function_is_visible(p.oid)),
           (SELECT md5(pg_get_viewdef(c.oid))
            FROM pg_class c
            WHERE c.oid = to_regclass(d.object) AND c.relkind = 'v'))
  FROM unnest($1::text[]) AS d(object))sql";

std::string MigrationLockSql() {
  return absl::StrCat("SELECT pg_advisory_xact_lock(", kLockNamespace, ", ",
                      kMigrationLockId, ")");
}

int CurrentVersion(pqxx::work& txn) { return txn.exec1(kCurrentVersion)[0].as<int>(); }

// Applies the migrations newer than `current`, the database's version; returns
// their names.
std::vector<std::string> ApplyPendingMigrations(pqxx::work& txn, int current) {
  std::vector<std::string> applied;
  for (const Migration& migration : Migrations()) {
    if (migration.version <= current) continue;
    txn.exec0(migration.sql);
    txn.exec_params0(kRecordVersion, migration.version, migration.name);
    applied.push_back(migration.name);
  }
  return applied;
}

// Object name → its catalog fingerprint; no entry when it is missing.
std::map<std::string, std::string> CatalogFingerprints(pqxx::work& txn) {
  std::map<std::string, std::string> fingerprints;
  for (const pqxx::row& row :
       txn.exec_params(kCatalogFingerprints, DefinedObjectsArray())) {
    if (!row[1].is_null()) fingerprints[row[0].c_str()] = row[1].c_str();
  }
  return fingerprints;
}

struct DefinitionCheck {
  bool texts_changed = false;        // This release ships other text (or none recorded).
  bool unrecorded = false;           // Applied by a release that kept no fingerprint.
  std::vector<std::string> drifted;  // "card_create_many (missing)", for the log.
};

// Compares the embedded definitions with what was last applied, and the
// catalog with what it held then.
DefinitionCheck CheckDefinitions(pqxx::work& txn) {
  struct Applied {
    std::string definition;
    std::optional<std::string> fingerprint;
  };
  std::map<std::string, Applied> applied;
  for (const pqxx::row& row : txn.exec(kAppliedDefinitions)) {
    applied[row[0].c_str()] = Applied{
        row[1].c_str(),
        row[2].is_null() ? std::nullopt : std::optional<std::string>(row[2].c_str())};
  }
  const std::map<std::string, std::string> catalog = CatalogFingerprints(txn);
  DefinitionCheck check;
  check.texts_changed = applied.size() != Definitions().size();
  for (const Migration& definition : Definitions()) {
    auto it = applied.find(definition.name);
    if (it == applied.end() || it->second.definition != definition.sql) {
      check.texts_changed = true;
      continue;
    }
    const std::string object = DefinedObject(definition);
    auto now = catalog.find(object);
    if (now == catalog.end()) {
      check.drifted.push_back(absl::StrCat(object, " (missing)"));
    } else if (!it->second.fingerprint.has_value()) {
      check.unrecorded = true;
    } else if (*it->second.fingerprint != now->second) {
      check.drifted.push_back(absl::StrCat(object, " (changed)"));
    }
  }
  return check;
}

// All of them, in order: a function and the view it returns change together,
// and replicas never see half a change. Then what the catalog holds for each,
// to compare with at the next start.
void ApplyDefinitions(pqxx::work& txn) {
  txn.exec0(kForgetDefinitions);
  for (const Migration& definition : Definitions()) {
    txn.exec0(definition.sql);
    txn.exec_params0(kRecordDefinition, definition.name, definition.sql);
  }
  const std::map<std::string, std::string> catalog = CatalogFingerprints(txn);
  for (const Migration& definition : Definitions()) {
    auto it = catalog.find(DefinedObject(definition));
    if (it == catalog.end()) {
      throw std::runtime_error(absl::StrCat(
          "definition ", definition.name, " did not create ", DefinedObject(definition)));
    }
    txn.exec_params0(kRecordFingerprint, definition.name, it->second);
  }
}

// OK if the database takes writes. A read-only database (a standby, or one
// set default_transaction_read_only) would otherwise fail the first CREATE
// with SQLSTATE 25006, which reads as "unavailable; retry".
absl::Status Writable(pqxx::work& txn) {
  pqxx::row row = txn.exec1(
      "SELECT current_setting('transaction_read_only') = 'on', pg_is_in_recovery()");
  return ReadOnlyDatabaseStatus(row[1].as<bool>(), row[0].as<bool>());
}

}  // namespace

absl::Status ApplyMigrations(const std::string& connection_string,
                             MigrationResult* result) {
  MigrationResult done;
  std::vector<std::string> migrations_applied;
  std::vector<std::string> drifted;
  std::vector<std::string> distributed;
  try {
    pqxx::connection conn(connection_string);
    pqxx::work txn(conn, "migrate");
    if (absl::Status writable = Writable(txn); !writable.ok()) return writable;
    txn.exec0("SET LOCAL lock_timeout = '120s'");
    txn.exec(MigrationLockSql());
    txn.exec0(kCreateVersionTable);
    txn.exec0(kCreateDefinitionTable);
    // A replica of an older release restarting during a rollout must not put
    // its definitions back over the newer release's: it recognises a newer
    // database by a migration it does not know (and then has none to apply).
    const int newest_known = Migrations().empty() ? 0 : Migrations().back().version;
    const int database_version = CurrentVersion(txn);
    migrations_applied = ApplyPendingMigrations(txn, database_version);
    if (database_version > newest_known) {
      log::Warning(absl::StrCat("database schema version ", database_version,
                                " is newer than this binary's ", newest_known,
                                "; leaving its function and view definitions alone"));
    } else {
      DefinitionCheck check = CheckDefinitions(txn);
      if (check.texts_changed || check.unrecorded || !check.drifted.empty()) {
        ApplyDefinitions(txn);
        done.definitions_applied = true;
        // A release's own changes are not drift: the text changed, so all of
        // them are re-applied anyway.
        if (!check.texts_changed) drifted = std::move(check.drifted);
      }
    }
    txn.commit();
    // On Citus, then: tables and user functions distributed (citus_setup.h).
    const bool may_define = database_version <= newest_known;
    distributed = DistributeOnCitus(conn, MigrationLockSql(), [&] {
      if (!may_define) return;
      pqxx::work again(conn, "definitions");
      again.exec(MigrationLockSql());
      ApplyDefinitions(again);
      again.commit();
    });
  } catch (const std::exception& e) {
    return TranslateDatabaseError(e, "migrate");
  }
  for (const std::string& step : distributed) log::Info(absl::StrCat("Citus: ", step));
  for (const std::string& name : migrations_applied) {
    log::Info(absl::StrCat("applied migration ", name));
  }
  if (!drifted.empty()) {
    log::Warning(absl::StrCat("schema drift repaired: ", absl::StrJoin(drifted, ", ")));
  }
  done.drift_repaired = static_cast<int>(drifted.size());
  if (done.definitions_applied) {
    log::Info(
        absl::StrCat("applied ", Definitions().size(), " function and view definitions"));
  }
  done.migrations_applied = static_cast<int>(migrations_applied.size());
  if (result != nullptr) *result = done;
  return absl::OkStatus();
}

std::string DefinedObject(const Migration& definition) {
  absl::string_view name = definition.name;
  size_t underscore = name.find('_');
  return std::string(underscore == absl::string_view::npos ? name
                                                           : name.substr(underscore + 1));
}

const std::string& DefinedObjectsArray() {
  // Built once: the health probe sends it every interval.
  static const std::string* const array = [] {
    std::vector<std::string> objects;
    for (const Migration& definition : Definitions()) {
      objects.push_back(DefinedObject(definition));
    }
    return new std::string(absl::StrCat("{", absl::StrJoin(objects, ","), "}"));
  }();
  return *array;
}

}  // namespace card::storage
