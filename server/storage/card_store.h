// CardStore: every SQL statement about cards, and the translation between rows
// and model types. The rules that need the user's lock (first card is the
// default, promotion on delete, idempotent create) are the SQL functions of
// migrations/, which each method calls in one round trip.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "model/card.h"
#include "storage/connection_pool.h"

namespace card::storage {

class CardStore {
 public:
  // The statements to prepare on every pooled connection.
  static std::vector<PreparedStatement> Statements();

  explicit CardStore(ConnectionPool* pool) : pool_(pool) {}

  // Each mutation waits for the user's lock no later than `deadline`.
  absl::StatusOr<model::Card> CreateCard(const model::NewCard& card, absl::Time deadline);
  absl::StatusOr<model::Card> UpdateCard(const model::CardUpdate& update, absl::Time deadline);
  // `expected_version` 0: any version.
  absl::Status DeleteCard(const std::string& user_id, const std::string& card_id,
                          int64_t expected_version, absl::Time deadline);
  absl::StatusOr<model::Card> SetDefaultCard(const std::string& user_id,
                                             const std::string& card_id, absl::Time deadline);

  // NOT_FOUND unless the card exists and belongs to the user.
  absl::StatusOr<model::Card> GetCard(const std::string& user_id, const std::string& card_id,
                                      absl::Time deadline);
  // NOT_FOUND when the user has no cards.
  absl::StatusOr<model::Card> GetDefaultCard(const std::string& user_id, absl::Time deadline);
  // NOT_FOUND unless a PUBLIC or UNLISTED card has this slug.
  absl::StatusOr<model::Card> GetSharedCard(const std::string& slug, absl::Time deadline);

  // Up to `limit` cards after `after` (or from the start), oldest first.
  absl::StatusOr<std::vector<model::Card>> ListCards(
      const std::string& user_id, const std::optional<model::CardCursor>& after, int limit,
      absl::Time deadline);

  // Deletes up to `batch` idempotency keys older than `age`; returns how many.
  absl::StatusOr<int> ExpireCreateRequests(absl::Duration age, int batch, absl::Time deadline);

  // A trivial query: OK while the database answers.
  absl::Status Ping(absl::Time deadline);

 private:
  ConnectionPool* pool_;
};

}  // namespace card::storage
