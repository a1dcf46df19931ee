// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// CardRepository: everything the service asks of storage, in model types only.
//
// The service's rules (validation, update masks, paging, etags, deadlines) are
// written against this interface, so they can be unit-tested with an in-memory
// fake, and no header above storage/ needs to know that PostgreSQL or its
// client library is behind it. The PostgreSQL implementation is
// storage::PostgresRepository.
//
// Every method gives up no later than `deadline` (DEADLINE_EXCEEDED). Every
// mutation is one transaction that first takes the user's lock, so a user's
// mutations are serialised and "exactly one default" is decided under it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/model/card.h"

namespace card::model {

class CardRepository {
 public:
  virtual ~CardRepository() = default;

  // Creates `cards` in one transaction (group commit), in order, with one
  // result each: the card, or why that one was refused (nothing written for
  // it). A user's first card becomes the default. With a request id, a retry
  // returns the card the first call made, also when that call is an earlier
  // item of this one (FAILED_PRECONDITION if its content differs). The outer
  // status fails when the call as a whole did: then nothing was written.
  virtual absl::StatusOr<std::vector<absl::StatusOr<Card>>> CreateCards(
      const std::vector<NewCard>& cards, absl::Time deadline) = 0;
  // ABORTED if `update.expected_version` is set and stale.
  virtual absl::StatusOr<Card> UpdateCard(const CardUpdate& update,
                                          absl::Time deadline) = 0;
  // `expected_version` 0: any version. Promotes the oldest remaining card if
  // the default is deleted; FAILED_PRECONDITION for the user's last card.
  virtual absl::Status DeleteCard(const std::string& user_id, const std::string& card_id,
                                  int64_t expected_version, absl::Time deadline) = 0;
  virtual absl::StatusOr<Card> SetDefaultCard(const std::string& user_id,
                                              const std::string& card_id,
                                              absl::Time deadline) = 0;

  // NOT_FOUND unless the card exists and belongs to the user.
  virtual absl::StatusOr<Card> GetCard(const std::string& user_id,
                                       const std::string& card_id,
                                       absl::Time deadline) = 0;
  // NOT_FOUND when the user has no cards.
  virtual absl::StatusOr<Card> GetDefaultCard(const std::string& user_id,
                                              absl::Time deadline) = 0;
  // NOT_FOUND unless a PUBLIC or UNLISTED card has this slug.
  virtual absl::StatusOr<SharedCard> GetSharedCard(const std::string& slug,
                                                   absl::Time deadline) = 0;
  // Up to `limit` cards after `after` (or from the start), oldest first.
  virtual absl::StatusOr<std::vector<Card>> ListCards(
      const std::string& user_id, const std::optional<CardCursor>& after, int limit,
      absl::Time deadline) = 0;

  virtual absl::StatusOr<PlatformLink> CreateLink(const NewPlatformLink& link,
                                                  absl::Time deadline) = 0;
  // Removes the link from every card that shows it. NOT_FOUND unless it is the user's.
  virtual absl::Status DeleteLink(const std::string& user_id, const std::string& link_id,
                                  absl::Time deadline) = 0;
  // Up to `limit` links after `after` (or from the start), oldest first.
  virtual absl::StatusOr<std::vector<PlatformLink>> ListLinks(
      const std::string& user_id, const std::optional<CardCursor>& after, int limit,
      absl::Time deadline) = 0;

  // Deletes up to `batch` idempotency keys older than `age`; returns how many.
  virtual absl::StatusOr<int> ExpireCreateRequests(absl::Duration age, int batch,
                                                   absl::Time deadline) = 0;
  // OK while the store answers.
  virtual absl::Status Ping(absl::Time deadline) = 0;
};

}  // namespace card::model
