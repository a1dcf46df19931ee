// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// CardService's rules, free of gRPC and of PostgreSQL: validation, update
// masks, etags, paging, the deadline cap. The guarantees that need the user's
// lock (exactly one default, idempotent create, links owned by the card's
// owner) are enforced by the repository this calls; this class decides what to
// ask for and refuses bad input before anything is written. Unit-tested with an
// in-memory repository (tests/unit/card_service_test.cc).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/model/card.h"
#include "server/model/card_repository.h"

namespace card::service {

struct ServiceOptions {
  // Cap on how long one request may take, whatever deadline the caller sent.
  absl::Duration max_request_time = absl::Seconds(10);
  // Idempotency keys are kept this long; at least kMinRequestIdRetention.
  absl::Duration request_id_retention = absl::Hours(48);
  // How often the server calls ExpireRequestIds.
  absl::Duration request_id_sweep_interval = absl::Minutes(10);
};

// The API promises that a CreateCard retry with the same request_id is
// recognised for at least this long.
inline constexpr absl::Duration kMinRequestIdRetention = absl::Hours(24);

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 1000;
// A list response stops growing at about this size (clients refuse messages
// over 4 MiB by default), whatever page_size asked for.
inline constexpr size_t kMaxPageBytes = 1 << 20;
// List pages are read from storage this many items at a time.
inline constexpr size_t kFetchBatch = 50;

class CardService {
 public:
  CardService(model::CardRepository* repository, ServiceOptions options)
      : repository_(repository), options_(options) {}

  // The deadline of a request that arrives now: the caller's, but no later than
  // max_request_time from now. The rpc layer asks at arrival, so time spent
  // queued in the server counts; every method below takes this deadline.
  absl::Time RequestDeadline(absl::Time caller_deadline) const;

  // `card.slug_base` is ignored; the service derives it from the title.
  absl::StatusOr<model::Card> CreateCard(model::NewCard card, absl::Time deadline);
  // Group commit: several creates (one user's queued calls) in one repository
  // call and so one transaction, with one result each, in order. A card that
  // fails validation gets its error and never reaches storage; the others are
  // unaffected by it.
  std::vector<absl::StatusOr<model::Card>> CreateCards(std::vector<model::NewCard> cards,
                                                       absl::Time deadline);
  absl::StatusOr<model::Card> UpdateCard(const model::CardPatch& patch,
                                         absl::Time deadline);
  absl::Status DeleteCard(const std::string& user_id, const std::string& card_id,
                          const std::string& etag, absl::Time deadline);
  absl::StatusOr<model::Card> SetDefaultCard(const std::string& user_id,
                                             const std::string& card_id,
                                             absl::Time deadline);

  absl::StatusOr<model::Card> GetCard(const std::string& user_id,
                                      const std::string& card_id, absl::Time deadline);
  absl::StatusOr<model::Card> GetDefaultCard(const std::string& user_id,
                                             absl::Time deadline);
  absl::StatusOr<model::SharedCard> GetSharedCard(const std::string& slug,
                                                  absl::Time deadline);
  // `page_size` 0 means kDefaultPageSize; larger than kMaxPageSize is lowered.
  absl::StatusOr<model::CardPage> ListCards(const std::string& user_id, int page_size,
                                            const std::string& page_token,
                                            absl::Time deadline);

  absl::StatusOr<model::PlatformLink> CreatePlatformLink(
      const model::NewPlatformLink& link, absl::Time deadline);
  absl::StatusOr<model::LinkPage> ListPlatformLinks(const std::string& user_id,
                                                    int page_size,
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
  model::CardRepository* repository_;
  const ServiceOptions options_;
};

}  // namespace card::service
