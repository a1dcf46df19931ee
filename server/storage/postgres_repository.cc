#include "storage/postgres_repository.h"

#include <pqxx/pqxx>
#include <utility>

#include "storage/card_rows.h"
#include "storage/connection_pool.h"
#include "storage/sql_params.h"

namespace card::storage {
namespace {

// Mutations: one call of a function from definitions/, arguments by name so
// that a reader can match each one to its parameter.
constexpr PreparedStatement kCreateCard{"card_create", R"sql(
  SELECT * FROM card_create(
    p_user_id => $1, p_title => $2, p_description => $3, p_visibility => $4,
    p_qr_enabled => $5, p_link_ids => $6, p_request_id => $7, p_slug_base => $8,
    p_lock_timeout_ms => $9))sql"};
// The mutations other than create also return lock_wait_us: what card_lock_user
// measured (definitions/10_card_lock_user.sql), read back in the same statement.
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
  SELECT current_setting('card.lock_wait_us', true) AS lock_wait_us
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
  SELECT current_setting('card.lock_wait_us', true) AS lock_wait_us
  FROM card_delete_link(p_user_id => $1, p_link_id => $2, p_lock_timeout_ms => $3))sql"};
constexpr PreparedStatement kExpireCreateRequests{"card_expire_requests", R"sql(
  SELECT card_expire_requests(p_older_than_seconds => $1, p_batch => $2))sql"};

// Reads: plain statements over the row shapes of definitions/ (no user lock;
// READ COMMITTED gives each one a consistent snapshot).
constexpr PreparedStatement kGetCard{
    "card_get",
    "SELECT * FROM card_rows WHERE user_id = $1 AND id = $2 ORDER BY link_position"};
constexpr PreparedStatement kGetDefaultCard{"card_get_default", R"sql(
  SELECT * FROM card_rows
  WHERE id = (SELECT id FROM cards WHERE user_id = $1 AND is_default)
  ORDER BY link_position)sql"};
constexpr PreparedStatement kGetSharedCard{"card_get_shared", R"sql(
  SELECT * FROM card_rows
  WHERE id = (SELECT id FROM cards WHERE slug = $1 AND visibility IN (1, 2))
  ORDER BY link_position)sql"};
constexpr PreparedStatement kListCardsFirst{"card_list_first", R"sql(
  SELECT * FROM card_rows
  WHERE id IN (SELECT id FROM cards WHERE user_id = $1
               ORDER BY create_time, id LIMIT $2)
  ORDER BY create_us, id, link_position)sql"};
constexpr PreparedStatement kListCardsAfter{"card_list_after", R"sql(
  SELECT * FROM card_rows
  WHERE id IN (SELECT id FROM cards
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
constexpr PreparedStatement kPing{"card_ping", "SELECT 1"};

std::vector<PreparedStatement> Statements() {
  return {kCreateCard,     kUpdateCard,           kDeleteCard,
          kSetDefaultCard, kCreateLink,           kDeleteLink,
          kGetCard,        kGetDefaultCard,       kGetSharedCard,
          kListCardsFirst, kListCardsAfter,       kListLinksFirst,
          kListLinksAfter, kExpireCreateRequests, kPing};
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
  // NULL or empty: the function took no lock through card_lock_user.
  if (!wait_us.is_null() && wait_us.size() > 0) {
    metrics->ObserveLockWait(absl::Microseconds(wait_us.as<int64_t>()));
  }
  return rows;
}

}  // namespace

PostgresRepository::PostgresRepository(const PostgresOptions& options)
    : metrics_(options.metrics),
      pool_(std::make_unique<ConnectionPool>(options, Statements())) {}

ConnectionUse PostgresRepository::connection_use() const { return pool_->Use(); }

PostgresRepository::~PostgresRepository() = default;

absl::StatusOr<model::Card> PostgresRepository::CreateCard(const model::NewCard& card,
                                                           absl::Time deadline) {
  absl::StatusOr<int> lock_timeout_ms = LockTimeoutMs(deadline);
  if (!lock_timeout_ms.ok()) return lock_timeout_ms.status();
  return OneCard(
      pool_->Execute("CreateCard", deadline, kCreateCard, card.user_id, card.title,
                     card.description, static_cast<int>(card.visibility), card.qr_enabled,
                     UuidArray(card.link_ids), card.request_id, card.slug_base,
                     *lock_timeout_ms),
      "card_create returned no card");
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

absl::StatusOr<model::Card> PostgresRepository::GetSharedCard(const std::string& slug,
                                                              absl::Time deadline) {
  return OneCard(pool_->Execute("GetSharedCard", deadline, kGetSharedCard, slug),
                 "slug: no shared card with this slug");
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

absl::Status PostgresRepository::Ping(absl::Time deadline) {
  return pool_->Execute("Ping", deadline, kPing).status();
}

}  // namespace card::storage
