// LinkStore: the SQL about platform links. Changes take the owner's lock (in
// the SQL functions of migrations/), the same lock as card changes, because
// cards reference links.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "model/card.h"
#include "storage/connection_pool.h"

namespace card::storage {

class LinkStore {
 public:
  static std::vector<PreparedStatement> Statements();

  explicit LinkStore(ConnectionPool* pool) : pool_(pool) {}

  absl::StatusOr<model::PlatformLink> CreateLink(const model::NewPlatformLink& link,
                                                 absl::Time deadline);
  // Removes the link from every card that shows it. NOT_FOUND unless it is the user's.
  absl::Status DeleteLink(const std::string& user_id, const std::string& link_id,
                          absl::Time deadline);
  // Up to `limit` links after `after` (or from the start), oldest first.
  absl::StatusOr<std::vector<model::PlatformLink>> ListLinks(
      const std::string& user_id, const std::optional<model::CardCursor>& after, int limit,
      absl::Time deadline);

 private:
  ConnectionPool* pool_;
};

}  // namespace card::storage
