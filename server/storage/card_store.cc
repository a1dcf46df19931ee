#include "storage/card_store.h"

#include <pqxx/pqxx>

#include "storage/card_rows.h"
#include "storage/sql_params.h"

namespace card::storage {
namespace {

constexpr PreparedStatement kCreateCard{
    "card_create", "SELECT * FROM card_create($1, $2, $3, $4, $5, $6, $7, $8, $9)"};
constexpr PreparedStatement kUpdateCard{
    "card_update",
    "SELECT * FROM card_update($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"};
constexpr PreparedStatement kDeleteCard{"card_delete",
                                        "SELECT card_delete($1, $2, $3, $4)"};
constexpr PreparedStatement kSetDefaultCard{"card_set_default",
                                            "SELECT * FROM card_set_default($1, $2, $3)"};
constexpr PreparedStatement kGetCard{
    "card_get",
    "SELECT * FROM card_rows WHERE user_id = $1 AND id = $2 ORDER BY link_position"};
constexpr PreparedStatement kGetDefaultCard{
    "card_get_default", R"sql(
      SELECT * FROM card_rows
      WHERE id = (SELECT id FROM cards WHERE user_id = $1 AND is_default)
      ORDER BY link_position)sql"};
constexpr PreparedStatement kGetSharedCard{
    "card_get_shared", R"sql(
      SELECT * FROM card_rows
      WHERE id = (SELECT id FROM cards WHERE slug = $1 AND visibility IN (1, 2))
      ORDER BY link_position)sql"};
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
constexpr PreparedStatement kExpireCreateRequests{"card_expire_requests",
                                                  "SELECT card_expire_requests($1, $2)"};
constexpr PreparedStatement kPing{"card_ping", "SELECT 1"};

// Exactly one card from `rows`, or NOT_FOUND with `not_found`.
absl::StatusOr<model::Card> OneCard(absl::StatusOr<pqxx::result> rows,
                                    absl::string_view not_found) {
  if (!rows.ok()) return rows.status();
  std::vector<model::Card> cards = CardsFromRows(*rows);
  if (cards.empty()) return absl::NotFoundError(not_found);
  return std::move(cards.front());
}

}  // namespace

std::vector<PreparedStatement> CardStore::Statements() {
  return {kCreateCard,     kUpdateCard,     kDeleteCard,      kSetDefaultCard,
          kGetCard,        kGetDefaultCard, kGetSharedCard,   kListCardsFirst,
          kListCardsAfter, kPing,           kExpireCreateRequests};
}

absl::StatusOr<model::Card> CardStore::CreateCard(const model::NewCard& card,
                                                  absl::Time deadline) {
  absl::StatusOr<int> lock_timeout_ms = LockTimeoutMs(deadline);
  if (!lock_timeout_ms.ok()) return lock_timeout_ms.status();
  return OneCard(pool_->Execute("CreateCard", deadline, kCreateCard, card.user_id, card.title,
                                card.description, static_cast<int>(card.visibility),
                                card.qr_enabled, UuidArray(card.link_ids), card.request_id,
                                card.slug_base, *lock_timeout_ms),
                 "card_create returned no card");
}

absl::StatusOr<model::Card> CardStore::UpdateCard(const model::CardUpdate& update,
                                                  absl::Time deadline) {
  absl::StatusOr<int> lock_timeout_ms = LockTimeoutMs(deadline);
  if (!lock_timeout_ms.ok()) return lock_timeout_ms.status();
  static const std::vector<std::string> kNoLinks;
  return OneCard(
      pool_->Execute("UpdateCard", deadline, kUpdateCard, update.user_id, update.card_id,
                     update.expected_version, update.title.has_value(),
                     update.title.value_or(""), update.description.has_value(),
                     update.description.value_or(""), update.visibility.has_value(),
                     static_cast<int>(update.visibility.value_or(model::Visibility::kPublic)),
                     update.qr_enabled.has_value(), update.qr_enabled.value_or(false),
                     update.link_ids.has_value(), UuidArray(update.link_ids.value_or(kNoLinks)),
                     *lock_timeout_ms),
      "card_update returned no card");
}

absl::Status CardStore::DeleteCard(const std::string& user_id, const std::string& card_id,
                                   int64_t expected_version, absl::Time deadline) {
  absl::StatusOr<int> lock_timeout_ms = LockTimeoutMs(deadline);
  if (!lock_timeout_ms.ok()) return lock_timeout_ms.status();
  return pool_
      ->Execute("DeleteCard", deadline, kDeleteCard, user_id, card_id, expected_version,
                *lock_timeout_ms)
      .status();
}

absl::StatusOr<model::Card> CardStore::SetDefaultCard(const std::string& user_id,
                                                      const std::string& card_id,
                                                      absl::Time deadline) {
  absl::StatusOr<int> lock_timeout_ms = LockTimeoutMs(deadline);
  if (!lock_timeout_ms.ok()) return lock_timeout_ms.status();
  return OneCard(pool_->Execute("SetDefaultCard", deadline, kSetDefaultCard, user_id, card_id,
                                *lock_timeout_ms),
                 "card_set_default returned no card");
}

absl::StatusOr<model::Card> CardStore::GetCard(const std::string& user_id,
                                               const std::string& card_id,
                                               absl::Time deadline) {
  return OneCard(pool_->Execute("GetCard", deadline, kGetCard, user_id, card_id),
                 "card_id: no such card for this user");
}

absl::StatusOr<model::Card> CardStore::GetDefaultCard(const std::string& user_id,
                                                      absl::Time deadline) {
  return OneCard(pool_->Execute("GetDefaultCard", deadline, kGetDefaultCard, user_id),
                 "user_id: this user has no cards");
}

absl::StatusOr<model::Card> CardStore::GetSharedCard(const std::string& slug,
                                                     absl::Time deadline) {
  return OneCard(pool_->Execute("GetSharedCard", deadline, kGetSharedCard, slug),
                 "slug: no shared card with this slug");
}

absl::StatusOr<std::vector<model::Card>> CardStore::ListCards(
    const std::string& user_id, const std::optional<model::CardCursor>& after, int limit,
    absl::Time deadline) {
  absl::StatusOr<pqxx::result> rows =
      after ? pool_->Execute("ListCards", deadline, kListCardsAfter, user_id, limit,
                             absl::ToUnixMicros(after->create_time), after->id)
            : pool_->Execute("ListCards", deadline, kListCardsFirst, user_id, limit);
  if (!rows.ok()) return rows.status();
  return CardsFromRows(*rows);
}

absl::StatusOr<int> CardStore::ExpireCreateRequests(absl::Duration age, int batch,
                                                    absl::Time deadline) {
  absl::StatusOr<pqxx::result> rows =
      pool_->Execute("ExpireCreateRequests", deadline, kExpireCreateRequests,
                     static_cast<int>(absl::ToInt64Seconds(age)), batch);
  if (!rows.ok()) return rows.status();
  return (*rows)[0][0].as<int>();
}

absl::Status CardStore::Ping(absl::Time deadline) {
  return pool_->Execute("Ping", deadline, kPing).status();
}

}  // namespace card::storage
