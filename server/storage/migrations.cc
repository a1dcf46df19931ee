#include "server/storage/migrations.h"

#include <map>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
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
    "SELECT name, definition FROM card_schema_definitions";
constexpr char kForgetDefinitions[] = "DELETE FROM card_schema_definitions";
constexpr char kRecordDefinition[] =
    "INSERT INTO card_schema_definitions (name, definition) VALUES ($1, $2)";

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

bool DefinitionsUpToDate(pqxx::work& txn) {
  std::map<std::string, std::string> applied;
  for (const pqxx::row& row : txn.exec(kAppliedDefinitions)) {
    applied[row[0].c_str()] = row[1].c_str();
  }
  if (applied.size() != Definitions().size()) return false;
  for (const Migration& definition : Definitions()) {
    auto it = applied.find(definition.name);
    if (it == applied.end() || it->second != definition.sql) return false;
  }
  return true;
}

// All of them, in order: a function and the view it returns change together,
// and replicas never see half a change.
void ApplyDefinitions(pqxx::work& txn) {
  txn.exec0(kForgetDefinitions);
  for (const Migration& definition : Definitions()) {
    txn.exec0(definition.sql);
    txn.exec_params0(kRecordDefinition, definition.name, definition.sql);
  }
}

}  // namespace

absl::Status ApplyMigrations(const std::string& connection_string,
                             MigrationResult* result) {
  MigrationResult done;
  std::vector<std::string> migrations_applied;
  try {
    pqxx::connection conn(connection_string);
    pqxx::work txn(conn, "migrate");
    txn.exec0("SET LOCAL lock_timeout = '120s'");
    txn.exec_params("SELECT pg_advisory_xact_lock($1, $2)", kLockNamespace,
                    kMigrationLockId);
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
    } else if (!DefinitionsUpToDate(txn)) {
      ApplyDefinitions(txn);
      done.definitions_applied = true;
    }
    txn.commit();
  } catch (const std::exception& e) {
    return TranslateDatabaseError(e, "migrate");
  }
  for (const std::string& name : migrations_applied) {
    log::Info(absl::StrCat("applied migration ", name));
  }
  if (done.definitions_applied) {
    log::Info(
        absl::StrCat("applied ", Definitions().size(), " function and view definitions"));
  }
  done.migrations_applied = static_cast<int>(migrations_applied.size());
  if (result != nullptr) *result = done;
  return absl::OkStatus();
}

}  // namespace card::storage
