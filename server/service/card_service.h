// CardService's rules, free of gRPC: validation, defaults, paging, deadlines.
// The guarantees that need the user's lock (first card is the default,
// idempotent create) are enforced by the storage functions this calls; this
// class decides what to ask for and refuses bad input before anything is written.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "model/card.h"
#include "storage/card_store.h"

namespace card::service {

struct ServiceOptions {
  // Cap on how long one request may take, whatever deadline the caller sent.
  absl::Duration max_request_time = absl::Seconds(10);
};

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 1000;

class CardService {
 public:
  CardService(storage::CardStore* store, ServiceOptions options)
      : store_(store), options_(options) {}

  // `card.slug_base` is ignored; the service derives it from the title.
  absl::StatusOr<model::Card> CreateCard(model::NewCard card, absl::Time deadline);

  absl::StatusOr<model::Card> GetCard(const std::string& user_id, const std::string& card_id,
                                      absl::Time deadline);

  // `page_size` 0 means kDefaultPageSize; larger than kMaxPageSize is lowered.
  absl::StatusOr<model::CardPage> ListCards(const std::string& user_id, int page_size,
                                            const std::string& page_token,
                                            absl::Time deadline);

  // OK while the database answers.
  absl::Status CheckDatabase(absl::Time deadline);

 private:
  absl::Time EffectiveDeadline(absl::Time deadline) const;

  storage::CardStore* store_;
  const ServiceOptions options_;
};

}  // namespace card::service
