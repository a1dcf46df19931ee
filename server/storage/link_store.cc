#include "storage/link_store.h"

#include <pqxx/pqxx>

#include "storage/card_rows.h"
#include "storage/sql_params.h"

namespace card::storage {
namespace {

constexpr PreparedStatement kCreateLink{
    "card_create_link", "SELECT * FROM card_create_link($1, $2, $3, $4, $5, $6)"};
constexpr PreparedStatement kDeleteLink{"card_delete_link",
                                        "SELECT card_delete_link($1, $2, $3)"};
// A user's links are few: sorting them by the computed create_us is cheap.
constexpr PreparedStatement kListLinksFirst{
    "card_list_links_first", R"sql(
      SELECT * FROM platform_link_rows WHERE user_id = $1
      ORDER BY create_us, id LIMIT $2)sql"};
constexpr PreparedStatement kListLinksAfter{
    "card_list_links_after", R"sql(
      SELECT * FROM platform_link_rows
      WHERE user_id = $1 AND (create_us, id) > ($3, $4::uuid)
      ORDER BY create_us, id LIMIT $2)sql"};

}  // namespace

std::vector<PreparedStatement> LinkStore::Statements() {
  return {kCreateLink, kDeleteLink, kListLinksFirst, kListLinksAfter};
}

absl::StatusOr<model::PlatformLink> LinkStore::CreateLink(const model::NewPlatformLink& link,
                                                          absl::Time deadline) {
  absl::StatusOr<int> lock_timeout_ms = LockTimeoutMs(deadline);
  if (!lock_timeout_ms.ok()) return lock_timeout_ms.status();
  absl::StatusOr<pqxx::result> rows =
      pool_->Execute("CreatePlatformLink", deadline, kCreateLink, link.user_id, link.platform,
                     link.username, link.url, link.display_order, *lock_timeout_ms);
  if (!rows.ok()) return rows.status();
  std::vector<model::PlatformLink> links = LinksFromRows(*rows);
  if (links.size() != 1) return absl::InternalError("card_create_link returned no link");
  return std::move(links.front());
}

absl::Status LinkStore::DeleteLink(const std::string& user_id, const std::string& link_id,
                                   absl::Time deadline) {
  absl::StatusOr<int> lock_timeout_ms = LockTimeoutMs(deadline);
  if (!lock_timeout_ms.ok()) return lock_timeout_ms.status();
  return pool_
      ->Execute("DeletePlatformLink", deadline, kDeleteLink, user_id, link_id, *lock_timeout_ms)
      .status();
}

absl::StatusOr<std::vector<model::PlatformLink>> LinkStore::ListLinks(
    const std::string& user_id, const std::optional<model::CardCursor>& after, int limit,
    absl::Time deadline) {
  absl::StatusOr<pqxx::result> rows =
      after ? pool_->Execute("ListPlatformLinks", deadline, kListLinksAfter, user_id, limit,
                             absl::ToUnixMicros(after->create_time), after->id)
            : pool_->Execute("ListPlatformLinks", deadline, kListLinksFirst, user_id, limit);
  if (!rows.ok()) return rows.status();
  return LinksFromRows(*rows);
}

}  // namespace card::storage
