// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/storage/postgres_repository.h"

#include <algorithm>
#include <optional>
#include <pqxx/pqxx>
#include <string_view>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "server/storage/card_rows.h"
#include "server/storage/connection_pool.h"
#include "server/storage/migrations.h"
#include "server/storage/pg_errors.h"
#include "server/storage/sql_params.h"

namespace card::storage {
namespace {

// Mutations: one call of a function from definitions/, arguments by name so
// that a reader can match each one to its parameter.
// Group commit: several creates in one call (see definitions/27_card_create_many.sql).
constexpr PreparedStatement kCreateCards{"card_create_many", R"sql(
  SELECT *, current_setting('card.lock_wait_us', true) AS lock_wait_us FROM card_create_many(
    p_user_ids => $1, p_titles => $2, p_descriptions => $3, p_visibilities => $4,
    p_qr_enabled => $5, p_link_counts => $6, p_link_ids => $7, p_request_ids => $8,
    p_slug_bases => $9, p_lock_timeout_ms => $10, p_wait_for_first => $11))sql"};
// One user's creates (definitions/28_card_create_batch.sql): the user is a
// plain argument, so on Citus the call runs on the user's node.
constexpr PreparedStatement kCreateUserCards{"card_create_batch", R"sql(
  SELECT *, current_setting('card.lock_wait_us', true) AS lock_wait_us FROM card_create_batch(
    p_user_id => $1, p_titles => $2, p_descriptions => $3, p_visibilities => $4,
    p_qr_enabled => $5, p_link_counts => $6, p_link_ids => $7, p_request_ids => $8,
    p_slug_bases => $9, p_lock_timeout_ms => $10))sql"};
// card_create_many's answer for an item whose user's lock another transaction held.
constexpr char kLockBusy[] = "CS503";
// Every mutation also returns lock_wait_us: what card_lock_user measured
// (definitions/10_card_lock_user.sql), read back in the same statement.
// Each is `SELECT *, ... FROM function(...)`, also for the functions that
// return nothing: Citus delegates a call to the user's node only in that shape
// (a lone `SELECT current_setting(...) FROM f(...)` runs on the coordinator,
// and would take the user's lock on a different node than a delegated call).
constexpr PreparedStatement kUpdateCard{"card_update", R"sql(
  SELECT *, current_setting('card.lock_wait_us', true) AS lock_wait_us FROM card_update(
    p_user_id => $1, p_card_id => $2, p_expected_version => $3,
    p_set_title => $4, p_title => $5,
    p_set_description => $6, p_description => $7,
    p_set_visibility => $8, p_visibility => $9,
    p_set_qr_enabled => $10, p_qr_enabled => $11,
    p_set_links => $12, p_link_ids => $13,
    p_lock_timeout_ms => $14))sql"};
constexpr PreparedStatement kDeleteCard{"card_delete", R"sql(
  SELECT *, current_setting('card.lock_wait_us', true) AS lock_wait_us
  FROM card_delete(p_user_id => $1, p_card_id => $2, p_expected_version => $3,
                   p_lock_timeout_ms => $4))sql"};
constexpr PreparedStatement kSetDefaultCard{"card_set_default", R"sql(
  SELECT *, current_setting('card.lock_wait_us', true) AS lock_wait_us
  FROM card_set_default(p_user_id => $1, p_card_id => $2, p_lock_timeout_ms => $3))sql"};
constexpr PreparedStatement kCreateLink{"card_create_link", R"sql(
  SELECT *, current_setting('card.lock_wait_us', true) AS lock_wait_us FROM card_create_link(
    p_user_id => $1, p_platform => $2, p_username => $3, p_url => $4,
    p_display_order => $5, p_lock_timeout_ms => $6))sql"};
constexpr PreparedStatement kDeleteLink{"card_delete_link", R"sql(
  SELECT *, current_setting('card.lock_wait_us', true) AS lock_wait_us
  FROM card_delete_link(p_user_id => $1, p_link_id => $2, p_lock_timeout_ms => $3))sql"};
constexpr PreparedStatement kExpireCreateRequests{"card_expire_requests", R"sql(
  SELECT card_expire_requests(p_older_than_seconds => $1, p_batch => $2))sql"};

// Reads: plain statements over the row shapes of definitions/ (no user lock;
// READ COMMITTED gives each one a consistent snapshot). Each names the user
// in every table it reads, so that on Citus it runs on the user's node alone.
constexpr PreparedStatement kGetCard{
    "card_get",
    "SELECT * FROM card_rows WHERE user_id = $1 AND id = $2 ORDER BY link_position"};
constexpr PreparedStatement kGetDefaultCard{"card_get_default", R"sql(
  SELECT * FROM card_rows WHERE user_id = $1 AND is_default ORDER BY link_position)sql"};
// Only the columns the public view shows (model::SharedCard): the owner, the
// ids and the version never leave the database for an anonymous caller. The
// owner is found by slug first (definitions/29_card_shared.sql).
constexpr PreparedStatement kGetSharedCard{"card_get_shared", R"sql(
  SELECT title, description, slug, visibility, qr_enabled,
         link_platform, link_username, link_url
  FROM card_shared(p_slug => $1))sql"};
constexpr PreparedStatement kListCardsFirst{"card_list_first", R"sql(
  SELECT * FROM card_rows
  WHERE user_id = $1
    AND id IN (SELECT id FROM cards WHERE user_id = $1
               ORDER BY create_time, id LIMIT $2)
  ORDER BY create_us, id, link_position)sql"};
constexpr PreparedStatement kListCardsAfter{"card_list_after", R"sql(
  SELECT * FROM card_rows
  WHERE user_id = $1
    AND id IN (SELECT id FROM cards
               WHERE user_id = $1
                 AND (create_time, id) >
                     ('epoch'::timestamptz + $3 * interval '1 microsecond', $4::uuid)
               ORDER BY create_time, id LIMIT $2)
  ORDER BY create_us, id, link_position)sql"};
// A user's links are few: sorting them by the computed create_us is cheap.
constexpr PreparedStatement kListLinksFirst{"card_list_links_first", R"sql(
  SELECT * FROM platform_link_rows WHERE user_id = $1
  ORDER BY create_us, id LIMIT $2)sql"};
constexpr PreparedStatement kListLinksAfter{"card_list_links_after", R"sql(
  SELECT * FROM platform_link_rows
  WHERE user_id = $1 AND (create_us, id) > ($3, $4::uuid)
  ORDER BY create_us, id LIMIT $2)sql"};
// The health probe, one catalog query: whether the database takes writes (a
// demoted primary or a standby does not), and which of the functions and views
// the server calls ($1, every definition's object) are missing.
// Through one of our own PL/pgSQL functions, so that the probe fails whenever
// the mutations would: PL/pgSQL unloadable, the function missing or raising.
constexpr PreparedStatement kPing{"card_ping", R"sql(
  SELECT read_only, in_recovery, missing
  FROM card_health_check(p_objects => $1::text[]))sql"};

// Citus only: which workers run a statement for the coordinator now (pg_dist_node
// keeps a dead worker active; only asking tells).
constexpr PreparedStatement kCitusWorkers{"card_citus_workers", R"sql(
  SELECT count(*)::integer, (count(*) FILTER (WHERE success))::integer,
         coalesce(string_agg(nodename || ':' || nodeport, ', ' ORDER BY nodeport)
                    FILTER (WHERE NOT success), '')
  FROM run_command_on_workers('SELECT 1'))sql"};

std::vector<PreparedStatement> Statements() {
  return {kCreateCards,    kCreateUserCards, kUpdateCard,           kDeleteCard,
          kSetDefaultCard, kCreateLink,      kDeleteLink,           kGetCard,
          kGetDefaultCard, kGetSharedCard,   kListCardsFirst,       kListCardsAfter,
          kListLinksFirst, kListLinksAfter,  kExpireCreateRequests, kPing,
          kCitusWorkers};
}

// Which Citus workers answer the coordinator, asked on `txn`'s connection.
CitusWorkers AskCitusWorkers(ConnectionPool& pool, pqxx::transaction_base& txn) {
  try {
    const pqxx::row row = pool.ExecuteIn(txn, kCitusWorkers)[0];
    return {row[0].as<int>(), row[1].as<int>(), row[2].as<std::string>(), true};
  } catch (const std::exception&) {
    // A worker that accepts connections but never answers holds this up to
    // the probe's deadline: not known. The probe's own answer stands.
    return {};
  }
}

// Exactly one card from `rows`, or NOT_FOUND with `not_found`.
absl::StatusOr<model::Card> OneCard(absl::StatusOr<pqxx::result> rows,
                                    absl::string_view not_found) {
  if (!rows.ok()) return rows.status();
  std::vector<model::Card> cards = CardsFromRows(*rows);
  if (cards.empty()) return absl::NotFoundError(not_found);
  return std::move(cards.front());
}

// Reports the lock_wait_us column of a mutation's first row (the lock is taken
// once per statement) to `metrics`, and passes the rows on.
absl::StatusOr<pqxx::result> ObserveLockWait(absl::StatusOr<pqxx::result> rows,
                                             MetricsSink* metrics) {
  if (!rows.ok() || rows->empty()) return rows;
  pqxx::field wait_us = (*rows)[0]["lock_wait_us"];
  // NULL or empty: card_lock_user took the lock at once and set nothing.
  bool waited = !wait_us.is_null() && wait_us.size() > 0;
  metrics->ObserveLockWait(absl::Microseconds(waited ? wait_us.as<int64_t>() : 0));
  return rows;
}

// One call with cards[i] for each i in `items`, in order: of card_create_batch
// when they are all `one_user`'s (waiting for that user's lock), else of
// card_create_many, which waits for the first item's user's lock only with
// `wait_for_first`.
absl::StatusOr<pqxx::result> CallCreateMany(ConnectionPool& pool,
                                            const std::vector<model::NewCard>& cards,
                                            const std::vector<size_t>& items,
                                            bool one_user, bool wait_for_first,
                                            absl::Time deadline) {
  absl::StatusOr<int> lock_timeout_ms = LockTimeoutMs(deadline);
  if (!lock_timeout_ms.ok()) return lock_timeout_ms.status();
  std::vector<std::string> user_ids, titles, descriptions, link_ids, request_ids,
      slug_bases;
  std::vector<int> visibilities, link_counts;
  std::vector<bool> qr_enabled;
  for (size_t item : items) {
    const model::NewCard& card = cards[item];
    user_ids.push_back(card.user_id);
    titles.push_back(card.title);
    descriptions.push_back(card.description);
    visibilities.push_back(static_cast<int>(card.visibility));
    qr_enabled.push_back(card.qr_enabled);
    link_counts.push_back(static_cast<int>(card.link_ids.size()));
    link_ids.insert(link_ids.end(), card.link_ids.begin(), card.link_ids.end());
    request_ids.push_back(card.request_id);
    slug_bases.push_back(card.slug_base);
  }
  if (one_user) {
    return pool.Execute("CreateCard", deadline, kCreateUserCards, user_ids.front(),
                        TextArray(titles), TextArray(descriptions),
                        NumberArray(visibilities), NumberArray(qr_enabled),
                        NumberArray(link_counts), UuidArray(link_ids),
                        TextArray(request_ids), TextArray(slug_bases), *lock_timeout_ms);
  }
  return pool.Execute(
      "CreateCard", deadline, kCreateCards, TextArray(user_ids), TextArray(titles),
      TextArray(descriptions), NumberArray(visibilities), NumberArray(qr_enabled),
      NumberArray(link_counts), UuidArray(link_ids), TextArray(request_ids),
      TextArray(slug_bases), *lock_timeout_ms, wait_for_first);
}

}  // namespace

absl::StatusOr<StatementMode> ParseStatementMode(absl::string_view name) {
  if (name == "prepared") return StatementMode::kPrepared;
  if (name == "unnamed") return StatementMode::kUnnamed;
  return absl::InvalidArgumentError(absl::StrCat(
      "--db_statement_mode must be \"prepared\" or \"unnamed\", not \"", name, "\""));
}

PostgresRepository::PostgresRepository(const PostgresOptions& options)
    : metrics_(options.metrics),
      citus_(options.citus),
      pool_(std::make_unique<ConnectionPool>(options, Statements())) {}

ConnectionUse PostgresRepository::connection_use() const { return pool_->Use(); }

PostgresRepository::~PostgresRepository() = default;

absl::StatusOr<std::vector<absl::StatusOr<model::Card>>> PostgresRepository::CreateCards(
    const std::vector<model::NewCard>& cards, absl::Time deadline) {
  std::vector<absl::StatusOr<model::Card>> results(
      cards.size(),
      absl::InternalError("card_create_many returned nothing for the card"));
  std::vector<size_t> pending(cards.size());
  for (size_t i = 0; i < cards.size(); ++i) pending[i] = i;
  // Several users' creates share a transaction only if it waits for none of
  // their locks (one user's wait must not hold up the others): the first round
  // waits only when all items are one user's. Items of a user whose lock was
  // busy come back not attempted and go again; from the second round on the
  // first of them waits for its lock, so every round makes progress.
  bool one_user = std::all_of(
      cards.begin(), cards.end(),
      [&](const model::NewCard& card) { return card.user_id == cards.front().user_id; });
  if (!one_user && citus_) return CreateCardsUserByUser(cards, deadline);
  for (bool first_round = true; !pending.empty(); first_round = false) {
    absl::StatusOr<pqxx::result> rows = ObserveLockWait(
        CallCreateMany(*pool_, cards, pending, one_user,
                       /*wait_for_first=*/one_user || !first_round, deadline),
        metrics_);
    if (rows.ok()) metrics_->ObserveBatchSize(static_cast<int>(pending.size()));
    if (!rows.ok()) {
      // Nothing of this round was written; earlier rounds were.
      if (first_round) return rows.status();
      for (size_t item : pending) results[item] = rows.status();
      break;
    }
    std::vector<size_t> busy;
    const pqxx::result::size_type count = rows->size();
    for (pqxx::result::size_type begin = 0, end; begin < count; begin = end) {
      const int position = (*rows)[begin]["item"].as<int>();  // 1-based, into `pending`
      for (end = begin + 1; end < count && (*rows)[end]["item"].as<int>() == position;) {
        ++end;
      }
      if (position < 1 || static_cast<size_t>(position) > pending.size()) {
        return absl::InternalError("card_create_many answered for an unknown item");
      }
      const size_t item = pending[position - 1];
      const pqxx::field sqlstate = (*rows)[begin]["error_sqlstate"];
      if (sqlstate.is_null()) {
        results[item] = std::move(CardsFromRows(*rows, begin, end).front());
      } else if (sqlstate.c_str() == std::string_view(kLockBusy)) {
        busy.push_back(item);
      } else {
        results[item] =
            StatusFromRefusal(sqlstate.c_str(), (*rows)[begin]["error_message"].c_str());
      }
    }
    pending = std::move(busy);
  }
  return results;
}

absl::StatusOr<std::vector<absl::StatusOr<model::Card>>>
PostgresRepository::CreateCardsUserByUser(const std::vector<model::NewCard>& cards,
                                          absl::Time deadline) {
  std::vector<absl::StatusOr<model::Card>> results(
      cards.size(), absl::InternalError("no call made for the card"));
  std::vector<bool> done(cards.size(), false);
  for (size_t first = 0; first < cards.size(); ++first) {
    if (done[first]) continue;
    std::vector<size_t> items;  // The user's items, in arrival order.
    std::vector<model::NewCard> users_cards;
    for (size_t i = first; i < cards.size(); ++i) {
      if (done[i] || cards[i].user_id != cards[first].user_id) continue;
      items.push_back(i);
      users_cards.push_back(cards[i]);
      done[i] = true;
    }
    absl::StatusOr<std::vector<absl::StatusOr<model::Card>>> users_results =
        CreateCards(users_cards, deadline);
    for (size_t k = 0; k < items.size(); ++k) {
      results[items[k]] =
          users_results.ok() ? std::move((*users_results)[k]) : users_results.status();
    }
  }
  return results;
}

absl::StatusOr<model::Card> PostgresRepository::UpdateCard(
    const model::CardUpdate& update, absl::Time deadline) {
  absl::StatusOr<int> lock_timeout_ms = LockTimeoutMs(deadline);
  if (!lock_timeout_ms.ok()) return lock_timeout_ms.status();
  static const std::vector<std::string> kNoLinks;
  return OneCard(
      ObserveLockWait(
          pool_->Execute(
              "UpdateCard", deadline, kUpdateCard, update.user_id, update.card_id,
              update.expected_version, update.title.has_value(),
              update.title.value_or(""), update.description.has_value(),
              update.description.value_or(""), update.visibility.has_value(),
              static_cast<int>(update.visibility.value_or(model::Visibility::kPublic)),
              update.qr_enabled.has_value(), update.qr_enabled.value_or(false),
              update.link_ids.has_value(), UuidArray(update.link_ids.value_or(kNoLinks)),
              *lock_timeout_ms),
          metrics_),
      "card_update returned no card");
}

absl::Status PostgresRepository::DeleteCard(const std::string& user_id,
                                            const std::string& card_id,
                                            int64_t expected_version,
                                            absl::Time deadline) {
  absl::StatusOr<int> lock_timeout_ms = LockTimeoutMs(deadline);
  if (!lock_timeout_ms.ok()) return lock_timeout_ms.status();
  return ObserveLockWait(pool_->Execute("DeleteCard", deadline, kDeleteCard, user_id,
                                        card_id, expected_version, *lock_timeout_ms),
                         metrics_)
      .status();
}

absl::StatusOr<model::Card> PostgresRepository::SetDefaultCard(const std::string& user_id,
                                                               const std::string& card_id,
                                                               absl::Time deadline) {
  absl::StatusOr<int> lock_timeout_ms = LockTimeoutMs(deadline);
  if (!lock_timeout_ms.ok()) return lock_timeout_ms.status();
  return OneCard(
      ObserveLockWait(pool_->Execute("SetDefaultCard", deadline, kSetDefaultCard, user_id,
                                     card_id, *lock_timeout_ms),
                      metrics_),
      "card_set_default returned no card");
}

absl::StatusOr<model::Card> PostgresRepository::GetCard(const std::string& user_id,
                                                        const std::string& card_id,
                                                        absl::Time deadline) {
  return OneCard(pool_->Execute("GetCard", deadline, kGetCard, user_id, card_id),
                 "card_id: no such card for this user");
}

absl::StatusOr<model::Card> PostgresRepository::GetDefaultCard(const std::string& user_id,
                                                               absl::Time deadline) {
  return OneCard(pool_->Execute("GetDefaultCard", deadline, kGetDefaultCard, user_id),
                 "user_id: this user has no cards");
}

absl::StatusOr<model::SharedCard> PostgresRepository::GetSharedCard(
    const std::string& slug, absl::Time deadline) {
  absl::StatusOr<pqxx::result> rows =
      pool_->Execute("GetSharedCard", deadline, kGetSharedCard, slug);
  if (!rows.ok()) return rows.status();
  std::optional<model::SharedCard> card = SharedCardFromRows(*rows);
  if (!card) return absl::NotFoundError("slug: no shared card with this slug");
  return *std::move(card);
}

absl::StatusOr<std::vector<model::Card>> PostgresRepository::ListCards(
    const std::string& user_id, const std::optional<model::CardCursor>& after, int limit,
    absl::Time deadline) {
  absl::StatusOr<pqxx::result> rows =
      after ? pool_->Execute("ListCards", deadline, kListCardsAfter, user_id, limit,
                             absl::ToUnixMicros(after->create_time), after->id)
            : pool_->Execute("ListCards", deadline, kListCardsFirst, user_id, limit);
  if (!rows.ok()) return rows.status();
  return CardsFromRows(*rows);
}

absl::StatusOr<model::PlatformLink> PostgresRepository::CreateLink(
    const model::NewPlatformLink& link, absl::Time deadline) {
  absl::StatusOr<int> lock_timeout_ms = LockTimeoutMs(deadline);
  if (!lock_timeout_ms.ok()) return lock_timeout_ms.status();
  absl::StatusOr<pqxx::result> rows =
      ObserveLockWait(pool_->Execute("CreatePlatformLink", deadline, kCreateLink,
                                     link.user_id, link.platform, link.username, link.url,
                                     link.display_order, *lock_timeout_ms),
                      metrics_);
  if (!rows.ok()) return rows.status();
  std::vector<model::PlatformLink> links = LinksFromRows(*rows);
  if (links.size() != 1) return absl::InternalError("card_create_link returned no link");
  return std::move(links.front());
}

absl::Status PostgresRepository::DeleteLink(const std::string& user_id,
                                            const std::string& link_id,
                                            absl::Time deadline) {
  absl::StatusOr<int> lock_timeout_ms = LockTimeoutMs(deadline);
  if (!lock_timeout_ms.ok()) return lock_timeout_ms.status();
  return ObserveLockWait(pool_->Execute("DeletePlatformLink", deadline, kDeleteLink,
                                        user_id, link_id, *lock_timeout_ms),
                         metrics_)
      .status();
}

absl::StatusOr<std::vector<model::PlatformLink>> PostgresRepository::ListLinks(
    const std::string& user_id, const std::optional<model::CardCursor>& after, int limit,
    absl::Time deadline) {
  absl::StatusOr<pqxx::result> rows =
      after ? pool_->Execute("ListPlatformLinks", deadline, kListLinksAfter, user_id,
                             limit, absl::ToUnixMicros(after->create_time), after->id)
            : pool_->Execute("ListPlatformLinks", deadline, kListLinksFirst, user_id,
                             limit);
  if (!rows.ok()) return rows.status();
  return LinksFromRows(*rows);
}

absl::StatusOr<int> PostgresRepository::ExpireCreateRequests(absl::Duration age,
                                                             int batch,
                                                             absl::Time deadline) {
  absl::StatusOr<pqxx::result> rows =
      pool_->Execute("ExpireCreateRequests", deadline, kExpireCreateRequests,
                     static_cast<int>(absl::ToInt64Seconds(age)), batch);
  if (!rows.ok()) return rows.status();
  return (*rows)[0][0].as<int>();
}

void PostgresRepository::ReconnectIdle() { pool_->DropIdle(); }

CitusWorkers PostgresRepository::citus_workers() const {
  absl::MutexLock lock(&workers_mu_);
  return workers_;
}

absl::Status PostgresRepository::Ping(absl::Time deadline) {
  pqxx::result rows;
  CitusWorkers workers;
  std::optional<absl::Status> refused;
  absl::Status status = pool_->Run("Ping", deadline, [&](pqxx::connection& conn) {
    pqxx::nontransaction txn(conn);
    try {
      rows = pool_->ExecuteIn(txn, kPing, DefinedObjectsArray());
    } catch (const std::exception& e) {
      // Not thrown on: TranslateDatabaseError would log it on every probe.
      refused = ProbeRefusal(e, "card_health_check");
      if (!refused) throw;
    }
    if (citus_ && !refused) workers = AskCitusWorkers(*pool_, txn);
  });
  if (citus_) {
    absl::MutexLock lock(&workers_mu_);
    workers_ = std::move(workers);
  }
  if (!status.ok()) return status;
  if (refused) return *refused;
  const pqxx::row row = rows[0];
  absl::Status writable = ReadOnlyDatabaseStatus(row[1].as<bool>(), row[0].as<bool>());
  if (!writable.ok()) return writable;
  const std::string missing = row[2].as<std::string>();
  if (!missing.empty()) {
    // Calls to them fail with SQLSTATE 42883 (42P01 for a view) until a
    // restart re-creates them (migrations.h).
    return absl::FailedPreconditionError(
        absl::StrCat("schema drift: missing ", missing,
                     " (SQLSTATE 42883 undefined_function); a restart re-creates them"));
  }
  return absl::OkStatus();
}

}  // namespace card::storage
