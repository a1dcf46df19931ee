// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/storage/citus_setup.h"

#include <map>
#include <optional>
#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/storage/citus_distribute.h"
#include "server/storage/migrations.h"
#include "server/storage/pg_errors.h"

namespace card::storage {
namespace {

struct TableDistribution {
  const char* table;
  const char* column;
  const char* colocate_with;
};
// In dependency order: card_links references cards and platform_links.
// card_slugs is co-located with cards although keyed by slug: a slug is made
// to fall in its owner's shard (definitions/27_card_create_many.sql).
constexpr TableDistribution kTables[] = {
    {"cards", "user_id", "default"},    {"platform_links", "user_id", "cards"},
    {"card_links", "user_id", "cards"}, {"create_requests", "user_id", "cards"},
    {"card_slugs", "slug", "cards"},
};

constexpr char kHasCitus[] =
    "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')";
// Table → its distribution column and colocation group (none: not distributed).
constexpr char kDistributedTable[] = R"sql(
  SELECT column_to_column_name(logicalrelid, partkey), colocationid
  FROM pg_dist_partition WHERE logicalrelid = to_regclass($1))sql";
constexpr char kDistributeTable[] =
    "SELECT create_distributed_table($1::regclass, $2, colocate_with => $3)";
// Each overload of a function → how Citus has it (NULLs: not distributed).
constexpr char kDistributedFunction[] = R"sql(
  SELECT p.oid::regprocedure::text, d.distribution_argument_index, d.colocationid
  FROM pg_proc p
  LEFT JOIN pg_catalog.pg_dist_object d
    ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
  WHERE p.proname = $1 AND pg_function_is_visible(p.oid))sql";
constexpr char kDistributeFunction[] = R"sql(
  SELECT create_distributed_function($1::regprocedure, 'p_user_id',
                                     colocate_with => 'cards'))sql";
// Defined objects (functions and views) Citus does not have on every node.
constexpr char kObjectsNotOnWorkers[] = R"sql(
  SELECT o FROM unnest($1::text[]) AS o
  WHERE NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_dist_object d
    WHERE (d.classid = 'pg_proc'::regclass
           AND d.objid IN (SELECT p.oid FROM pg_proc p
                           WHERE p.proname = o AND pg_function_is_visible(p.oid)))
       OR (d.classid = 'pg_class'::regclass AND d.objid = to_regclass(o)))
  ORDER BY o)sql";
constexpr char kActiveWorkers[] = R"sql(
  SELECT count(*) FROM pg_dist_node
  WHERE isactive AND noderole = 'primary' AND groupid <> 0)sql";

bool HasCitus(pqxx::connection& conn) {
  pqxx::nontransaction txn(conn);
  return txn.exec1(kHasCitus)[0].as<bool>();
}

struct Placement {
  std::string column;
  int colocation = 0;
};
std::optional<Placement> TablePlacement(pqxx::transaction_base& txn, const char* table) {
  pqxx::result rows = txn.exec_params(kDistributedTable, table);
  if (rows.empty()) return std::nullopt;
  return Placement{rows[0][0].c_str(), rows[0][1].as<int>()};
}

// "" when every overload of `function` is distributed by its first argument
// and co-located with cards; else the first overload that is not.
std::string MisplacedOverload(pqxx::transaction_base& txn, const std::string& function,
                              int cards_colocation) {
  pqxx::result rows = txn.exec_params(kDistributedFunction, function);
  if (rows.empty()) return absl::StrCat(function, " (missing)");
  for (const pqxx::row& row : rows) {
    if (row[1].is_null() || row[1].as<int>() != 0 || row[2].is_null() ||
        row[2].as<int>() != cards_colocation) {
      return row[0].c_str();
    }
  }
  return "";
}

std::vector<std::string> ObjectsNotOnWorkers(pqxx::transaction_base& txn) {
  std::vector<std::string> objects;
  for (const pqxx::row& row :
       txn.exec_params(kObjectsNotOnWorkers, DefinedObjectsArray())) {
    objects.push_back(row[0].c_str());
  }
  return objects;
}

}  // namespace

const std::vector<std::string>& UserMutationFunctions() {
  static const std::vector<std::string>* const functions = new std::vector<std::string>{
      "card_create",      "card_create_batch", "card_update",      "card_delete",
      "card_set_default", "card_create_link",  "card_delete_link",
  };
  return *functions;
}

std::vector<std::string> DistributeOnCitus(
    pqxx::connection& conn, const std::string& lock_sql,
    const std::function<void()>& reapply_definitions) {
  std::vector<std::string> done;
  if (!HasCitus(conn)) return done;
  bool tables_distributed_now = false;
  for (const TableDistribution& spec : kTables) {
    pqxx::work txn(conn, "distribute");
    txn.exec(lock_sql);
    if (TablePlacement(txn, spec.table)) continue;
    txn.exec_params(kDistributeTable, spec.table, spec.column, spec.colocate_with);
    txn.commit();
    tables_distributed_now = true;
    done.push_back(absl::StrCat("distributed table ", spec.table, " by ", spec.column));
  }
  bool reapply = tables_distributed_now;
  if (!reapply) {
    pqxx::nontransaction txn(conn);
    reapply = !ObjectsNotOnWorkers(txn).empty();
  }
  if (reapply) {
    // Made while the tables were the coordinator's alone, the functions and
    // views exist only there; made again now, Citus creates them everywhere.
    reapply_definitions();
    done.push_back("re-applied the definitions on every node");
  }
  for (const std::string& function : UserMutationFunctions()) {
    pqxx::work txn(conn, "distribute");
    txn.exec(lock_sql);
    const int cards_colocation = TablePlacement(txn, "cards")->colocation;
    bool changed = false;
    // One pass per overload; a distribution that does not take is an error,
    // not a loop.
    for (int overloads = 0;; ++overloads) {
      std::string overload = MisplacedOverload(txn, function, cards_colocation);
      if (overload.empty()) break;
      if (overloads == 8) {
        throw std::runtime_error(
            absl::StrCat("distributing ", overload, " did not take"));
      }
      txn.exec_params(kDistributeFunction, overload);
      changed = true;
      done.push_back(absl::StrCat("distributed function ", overload, " by p_user_id"));
    }
    if (changed) txn.commit();
  }
  return done;
}

absl::StatusOr<Distribution> CheckDistribution(const std::string& connection_string) {
  Distribution distribution;
  try {
    pqxx::connection conn(connection_string);
    distribution.citus = HasCitus(conn);
    if (!distribution.citus) return distribution;
    pqxx::read_transaction txn(conn, "check distribution");
    std::optional<Placement> cards = TablePlacement(txn, "cards");
    for (const TableDistribution& spec : kTables) {
      std::optional<Placement> placement = TablePlacement(txn, spec.table);
      const bool colocated =
          std::string(spec.colocate_with) != "cards" ||
          (cards && placement && placement->colocation == cards->colocation);
      if (!placement || placement->column != spec.column || !colocated) {
        return absl::FailedPreconditionError(absl::StrCat(
            "Citus: table ", spec.table, " is not distributed by ", spec.column,
            std::string(spec.colocate_with) == "cards" ? " co-located with cards" : "",
            "; start a replica with --migrate to distribute it"));
      }
    }
    for (const std::string& function : UserMutationFunctions()) {
      std::string overload = MisplacedOverload(txn, function, cards->colocation);
      if (!overload.empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "Citus: function ", overload,
            " is not distributed by p_user_id co-located with cards, so its calls would "
            "take users' locks on the coordinator; start a replica with --migrate to "
            "distribute it"));
      }
    }
    std::vector<std::string> missing = ObjectsNotOnWorkers(txn);
    if (!missing.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("Citus: ", missing.front(),
                       " is not on the workers; start a replica with --migrate"));
    }
    distribution.workers = txn.exec1(kActiveWorkers)[0].as<int>();
  } catch (const std::exception& e) {
    return TranslateDatabaseError(e, "check distribution");
  }
  return distribution;
}

}  // namespace card::storage
