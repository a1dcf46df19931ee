// CardService's rules, free of gRPC: validation, defaults, update masks,
// etags, paging, deadlines. The guarantees that need the user's lock (exactly
// one default, idempotent create, links owned by the card's owner) are enforced
// by the storage functions this calls; this class decides what to ask for and
// refuses bad input before anything is written.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "model/card.h"
#include "storage/card_store.h"
#include "storage/link_store.h"

namespace card::service {

struct ServiceOptions {
  // Cap on how long one request may take, whatever deadline the caller sent.
  absl::Duration max_request_time = absl::Seconds(10);
  // Idempotency keys are kept at least this long (the contract says 24 h).
  absl::Duration request_id_retention = absl::Hours(48);
};

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 1000;

// UpdateCard as the caller sent it: the fields, and the mask naming which count.
struct CardPatch {
  std::string user_id;
  std::string card_id;
  std::string etag;
  std::vector<std::string> update_paths;
  std::string title;
  std::string description;
  model::Visibility visibility = model::Visibility::kUnspecified;
  bool qr_enabled = false;
  std::vector<std::string> link_ids;
};

class CardService {
 public:
  CardService(storage::CardStore* cards, storage::LinkStore* links, ServiceOptions options)
      : cards_(cards), links_(links), options_(options) {}

  // `card.slug_base` is ignored; the service derives it from the title.
  absl::StatusOr<model::Card> CreateCard(model::NewCard card, absl::Time deadline);
  absl::StatusOr<model::Card> UpdateCard(const CardPatch& patch, absl::Time deadline);
  absl::Status DeleteCard(const std::string& user_id, const std::string& card_id,
                          const std::string& etag, absl::Time deadline);
  absl::StatusOr<model::Card> SetDefaultCard(const std::string& user_id,
                                             const std::string& card_id, absl::Time deadline);

  absl::StatusOr<model::Card> GetCard(const std::string& user_id, const std::string& card_id,
                                      absl::Time deadline);
  absl::StatusOr<model::Card> GetDefaultCard(const std::string& user_id, absl::Time deadline);
  absl::StatusOr<model::Card> GetSharedCard(const std::string& slug, absl::Time deadline);
  // `page_size` 0 means kDefaultPageSize; larger than kMaxPageSize is lowered.
  absl::StatusOr<model::CardPage> ListCards(const std::string& user_id, int page_size,
                                            const std::string& page_token,
                                            absl::Time deadline);

  absl::StatusOr<model::PlatformLink> CreatePlatformLink(const model::NewPlatformLink& link,
                                                         absl::Time deadline);
  absl::StatusOr<model::LinkPage> ListPlatformLinks(const std::string& user_id, int page_size,
                                                    const std::string& page_token,
                                                    absl::Time deadline);
  absl::Status DeletePlatformLink(const std::string& user_id, const std::string& link_id,
                                  absl::Time deadline);

  // Deletes idempotency keys past their retention, in batches so that no
  // statement runs long, and a bounded number of batches per call so that a
  // large backlog is worked off over several calls instead of holding up
  // shutdown. Returns how many were deleted.
  absl::StatusOr<int> ExpireRequestIds();

 private:
  absl::Time EffectiveDeadline(absl::Time deadline) const;

  storage::CardStore* cards_;
  storage::LinkStore* links_;
  const ServiceOptions options_;
};

}  // namespace card::service
