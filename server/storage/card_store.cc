#include "storage/card_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "storage/card_rows.h"

namespace card::storage {
namespace {

constexpr PreparedStatement kCreateCard{
    "card_create", "SELECT * FROM card_create($1, $2, $3, $4, $5, $6, $7, $8, $9)"};
constexpr PreparedStatement kGetCard{
    "card_get",
    "SELECT * FROM card_rows WHERE user_id = $1 AND id = $2 ORDER BY link_position"};
constexpr PreparedStatement kListCardsFirst{
    "card_list_first", R"sql(
      SELECT * FROM card_rows
      WHERE id IN (SELECT id FROM cards WHERE user_id = $1
                   ORDER BY create_time, id LIMIT $2)
      ORDER BY create_us, id, link_position)sql"};
constexpr PreparedStatement kListCardsAfter{
    "card_list_after", R"sql(
      SELECT * FROM card_rows
      WHERE id IN (SELECT id FROM cards
                   WHERE user_id = $1
                     AND (create_time, id) >
                         ('epoch'::timestamptz + $3 * interval '1 microsecond', $4::uuid)
                   ORDER BY create_time, id LIMIT $2)
      ORDER BY create_us, id, link_position)sql"};
constexpr PreparedStatement kPing{"card_ping", "SELECT 1"};

// How long the SQL may wait for the user's lock: what is left before the
// deadline, in whole milliseconds (0 would mean "forever" to PostgreSQL).
absl::StatusOr<int> LockTimeoutMs(absl::Time deadline) {
  int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
  if (ms < 1) return absl::DeadlineExceededError("deadline passed before the database was reached");
  return static_cast<int>(std::min<int64_t>(ms, INT32_MAX));
}

// A uuid[] literal. The ids were validated as UUIDs, and it travels as a bound
// parameter, never as SQL text.
std::string UuidArray(const std::vector<std::string>& ids) {
  return absl::StrCat("{", absl::StrJoin(ids, ","), "}");
}

}  // namespace

std::vector<PreparedStatement> CardStore::Statements() {
  return {kCreateCard, kGetCard, kListCardsFirst, kListCardsAfter, kPing};
}

absl::StatusOr<model::Card> CardStore::CreateCard(const model::NewCard& card,
                                                  absl::Time deadline) {
  absl::StatusOr<int> lock_timeout_ms = LockTimeoutMs(deadline);
  if (!lock_timeout_ms.ok()) return lock_timeout_ms.status();
  pqxx::result rows;
  absl::Status status = pool_->Run("CreateCard", deadline, [&](pqxx::connection& conn) {
    pqxx::nontransaction txn(conn);
    rows = txn.exec_prepared(kCreateCard.name, card.user_id, card.title, card.description,
                             static_cast<int>(card.visibility), card.qr_enabled,
                             UuidArray(card.link_ids), card.request_id, card.slug_base,
                             *lock_timeout_ms);
  });
  if (!status.ok()) return status;
  std::vector<model::Card> cards = CardsFromRows(rows);
  if (cards.size() != 1) return absl::InternalError("card_create returned no card");
  return std::move(cards.front());
}

absl::StatusOr<model::Card> CardStore::GetCard(const std::string& user_id,
                                               const std::string& card_id,
                                               absl::Time deadline) {
  pqxx::result rows;
  absl::Status status = pool_->Run("GetCard", deadline, [&](pqxx::connection& conn) {
    pqxx::nontransaction txn(conn);
    rows = txn.exec_prepared(kGetCard.name, user_id, card_id);
  });
  if (!status.ok()) return status;
  std::vector<model::Card> cards = CardsFromRows(rows);
  if (cards.empty()) return absl::NotFoundError("card_id: no such card for this user");
  return std::move(cards.front());
}

absl::StatusOr<std::vector<model::Card>> CardStore::ListCards(
    const std::string& user_id, const std::optional<model::CardCursor>& after, int limit,
    absl::Time deadline) {
  pqxx::result rows;
  absl::Status status = pool_->Run("ListCards", deadline, [&](pqxx::connection& conn) {
    pqxx::nontransaction txn(conn);
    if (after) {
      rows = txn.exec_prepared(kListCardsAfter.name, user_id, limit,
                               absl::ToUnixMicros(after->create_time), after->id);
    } else {
      rows = txn.exec_prepared(kListCardsFirst.name, user_id, limit);
    }
  });
  if (!status.ok()) return status;
  return CardsFromRows(rows);
}

absl::Status CardStore::Ping(absl::Time deadline) {
  return pool_->Run("Ping", deadline, [](pqxx::connection& conn) {
    pqxx::nontransaction txn(conn);
    txn.exec_prepared(kPing.name);
  });
}

}  // namespace card::storage
