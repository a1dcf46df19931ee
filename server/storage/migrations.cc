#include "storage/migrations.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "storage/pg_errors.h"

namespace card::storage {
namespace {

// Session-level advisory lock serialising migrations across replicas. The
// two-int key space is separate from the per-user bigint keys.
constexpr int kLockNamespace = 0x43415244;  // "CARD"
constexpr int kMigrationLockId = 1;

constexpr char kCreateVersionTable[] = R"sql(
  CREATE TABLE IF NOT EXISTS card_schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()))sql";
constexpr char kCurrentVersion[] =
    "SELECT coalesce(max(version), 0) FROM card_schema_migrations";
constexpr char kRecordVersion[] =
    "INSERT INTO card_schema_migrations (version, name) VALUES ($1, $2)";

}  // namespace

absl::Status ApplyMigrations(const std::string& database_url, int* applied) {
  int count = 0;
  try {
    pqxx::connection conn(database_url);
    {
      pqxx::nontransaction session(conn);
      session.exec0("SET lock_timeout = '120s'");
      session.exec_params("SELECT pg_advisory_lock($1, $2)", kLockNamespace, kMigrationLockId);
      session.exec0(kCreateVersionTable);
    }
    int current = 0;
    {
      pqxx::read_transaction read(conn);
      current = read.exec1(kCurrentVersion)[0].as<int>();
    }
    for (const Migration& migration : Migrations()) {
      if (migration.version <= current) continue;
      pqxx::work txn(conn, migration.name);
      txn.exec0(migration.sql);
      txn.exec_params0(kRecordVersion, migration.version, migration.name);
      txn.commit();
      ++count;
      log::Info(absl::StrCat("applied migration ", migration.name));
    }
    pqxx::nontransaction session(conn);
    session.exec_params("SELECT pg_advisory_unlock($1, $2)", kLockNamespace, kMigrationLockId);
  } catch (const std::exception& e) {
    return TranslateDatabaseError(e, "migrate");
  }
  if (applied != nullptr) *applied = count;
  return absl::OkStatus();
}

}  // namespace card::storage
