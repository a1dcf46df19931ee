// CardStore: every SQL statement about cards, and the translation between rows
// and model types. The rules (who becomes default, validation) live in the
// service layer or, where they need the user's lock, in the SQL functions of
// migrations/, which this class calls in one round trip each.
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

  // Creates a card under the user's lock (see card_create in the migrations).
  // Waits for the lock no later than `deadline`.
  absl::StatusOr<model::Card> CreateCard(const model::NewCard& card, absl::Time deadline);

  // NOT_FOUND unless the card exists and belongs to the user.
  absl::StatusOr<model::Card> GetCard(const std::string& user_id, const std::string& card_id,
                                      absl::Time deadline);

  // Up to `limit` cards after `after` (or from the start), oldest first.
  absl::StatusOr<std::vector<model::Card>> ListCards(
      const std::string& user_id, const std::optional<model::CardCursor>& after, int limit,
      absl::Time deadline);

  // A trivial query: OK while the database answers.
  absl::Status Ping(absl::Time deadline);

 private:
  ConnectionPool* pool_;
};

}  // namespace card::storage
