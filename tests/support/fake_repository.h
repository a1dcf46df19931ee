// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// An in-memory model::CardRepository for unit tests of the service's rules.
//
// It keeps cards and links in insertion order (create_time increases by one
// microsecond per item), answers paging by (create_time, id) like the SQL does,
// checks etag versions, and records what the service asked for (the last
// update, every deadline) so tests can assert on it. It does not model the
// per-user lock: concurrency is the PostgreSQL tests' job.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "server/model/card_repository.h"

namespace card::testing {

class FakeRepository final : public model::CardRepository {
 public:
  // What the service asked for, in order of the calls.
  std::vector<absl::Time> deadlines;
  std::optional<model::CardUpdate> last_update;
  int calls = 0;
  int last_limit = 0;
  // ExpireCreateRequests answers these, one per call, then 0.
  std::vector<int> expire_answers;
  absl::Duration last_expire_age;

  absl::StatusOr<std::vector<absl::StatusOr<model::Card>>> CreateCards(
      const std::vector<model::NewCard>& cards, absl::Time deadline) override {
    Record(deadline);
    std::vector<absl::StatusOr<model::Card>> results;
    for (const model::NewCard& card : cards) results.push_back(CreateOne(card));
    return results;
  }

  model::Card CreateOne(const model::NewCard& card) {
    model::Card& created = NewItem(cards_, card.user_id);
    created.title = card.title;
    created.description = card.description;
    created.slug = card.slug_base + "-fake";
    created.visibility = card.visibility;
    created.qr_enabled = card.qr_enabled;
    created.is_default = !HasDefault(card.user_id);
    created.update_time = created.create_time;
    created.version = 1;
    return created;
  }

  absl::StatusOr<model::Card> UpdateCard(const model::CardUpdate& update,
                                         absl::Time deadline) override {
    Record(deadline);
    last_update = update;
    absl::StatusOr<model::Card*> owned =
        Owned(update.user_id, update.card_id, update.expected_version);
    if (!owned.ok()) return owned.status();
    model::Card* card = *owned;
    if (update.title) card->title = *update.title;
    if (update.description) card->description = *update.description;
    if (update.visibility) card->visibility = *update.visibility;
    if (update.qr_enabled) card->qr_enabled = *update.qr_enabled;
    ++card->version;
    return *card;
  }

  absl::Status DeleteCard(const std::string& user_id, const std::string& card_id,
                          int64_t expected_version, absl::Time deadline) override {
    Record(deadline);
    absl::StatusOr<model::Card*> card = Owned(user_id, card_id, expected_version);
    if (!card.ok()) return card.status();
    cards_.erase(cards_.begin() + (*card - cards_.data()));
    return absl::OkStatus();
  }

  absl::StatusOr<model::Card> SetDefaultCard(const std::string& user_id,
                                             const std::string& card_id,
                                             absl::Time deadline) override {
    Record(deadline);
    absl::StatusOr<model::Card*> card = Owned(user_id, card_id);
    if (!card.ok()) return card.status();
    for (model::Card& other : cards_) {
      if (other.user_id == user_id) other.is_default = false;
    }
    (*card)->is_default = true;
    return **card;
  }

  absl::StatusOr<model::Card> GetCard(const std::string& user_id,
                                      const std::string& card_id,
                                      absl::Time deadline) override {
    Record(deadline);
    absl::StatusOr<model::Card*> card = Owned(user_id, card_id);
    if (!card.ok()) return card.status();
    return **card;
  }

  absl::StatusOr<model::Card> GetDefaultCard(const std::string& user_id,
                                             absl::Time deadline) override {
    Record(deadline);
    for (const model::Card& card : cards_) {
      if (card.user_id == user_id && card.is_default) return card;
    }
    return absl::NotFoundError("user_id: this user has no cards");
  }

  absl::StatusOr<model::SharedCard> GetSharedCard(const std::string& slug,
                                                  absl::Time deadline) override {
    Record(deadline);
    for (const model::Card& card : cards_) {
      if (card.slug != slug || card.visibility == model::Visibility::kPrivate) continue;
      model::SharedCard shared;
      shared.title = card.title;
      shared.description = card.description;
      shared.slug = card.slug;
      shared.visibility = card.visibility;
      shared.qr_enabled = card.qr_enabled;
      for (const model::PlatformLink& link : card.links)
        shared.links.push_back({link.platform, link.username, link.url});
      return shared;
    }
    return absl::NotFoundError("slug: no shared card with this slug");
  }

  absl::StatusOr<std::vector<model::Card>> ListCards(
      const std::string& user_id, const std::optional<model::CardCursor>& after,
      int limit, absl::Time deadline) override {
    Record(deadline);
    return Page(cards_, user_id, after, limit);
  }

  absl::StatusOr<model::PlatformLink> CreateLink(const model::NewPlatformLink& link,
                                                 absl::Time deadline) override {
    Record(deadline);
    model::PlatformLink& created = NewItem(links_, link.user_id);
    created.platform = link.platform;
    created.username = link.username;
    created.url = link.url;
    created.display_order = link.display_order;
    return created;
  }

  absl::Status DeleteLink(const std::string& user_id, const std::string& link_id,
                          absl::Time deadline) override {
    Record(deadline);
    auto it =
        std::find_if(links_.begin(), links_.end(), [&](const model::PlatformLink& link) {
          return link.user_id == user_id && link.id == link_id;
        });
    if (it == links_.end()) return absl::NotFoundError("link_id: no such platform link");
    links_.erase(it);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<model::PlatformLink>> ListLinks(
      const std::string& user_id, const std::optional<model::CardCursor>& after,
      int limit, absl::Time deadline) override {
    Record(deadline);
    return Page(links_, user_id, after, limit);
  }

  absl::StatusOr<int> ExpireCreateRequests(absl::Duration age, int batch,
                                           absl::Time deadline) override {
    Record(deadline);
    last_expire_age = age;
    if (expire_answers.empty()) return 0;
    int answer = std::min(expire_answers.front(), batch);
    expire_answers.erase(expire_answers.begin());
    return answer;
  }

  absl::Status Ping(absl::Time deadline) override {
    Record(deadline);
    return absl::OkStatus();
  }

 private:
  void Record(absl::Time deadline) {
    ++calls;
    deadlines.push_back(deadline);
  }
  // A new card or link of `user_id` with the next id, created a microsecond
  // after the previous item.
  template <typename Item>
  Item& NewItem(std::vector<Item>& items, const std::string& user_id) {
    Item& item = items.emplace_back();
    item.id = absl::StrFormat("00000000-0000-4000-8000-%012d", ++next_id_);
    item.user_id = user_id;
    item.create_time = absl::FromUnixMicros(1700000000000000 + ++clock_us_);
    return item;
  }
  bool HasDefault(const std::string& user_id) const {
    return std::any_of(cards_.begin(), cards_.end(), [&](const model::Card& card) {
      return card.user_id == user_id && card.is_default;
    });
  }
  // The user's card at the version the caller expects (0: any), or the error
  // the SQL's card_owned() raises.
  absl::StatusOr<model::Card*> Owned(const std::string& user_id,
                                     const std::string& card_id,
                                     int64_t expected_version = 0) {
    for (model::Card& card : cards_) {
      if (card.user_id != user_id || card.id != card_id) continue;
      if (expected_version != 0 && expected_version != card.version) {
        return absl::AbortedError("etag: the card has changed since this etag was read");
      }
      return &card;
    }
    return absl::NotFoundError("card_id: no such card for this user");
  }
  // The items of `user_id` after `after` in (create_time, id) order, at most `limit`.
  template <typename Item>
  std::vector<Item> Page(const std::vector<Item>& items, const std::string& user_id,
                         const std::optional<model::CardCursor>& after, int limit) {
    last_limit = limit;
    std::vector<Item> page;
    for (const Item& item : items) {
      if (item.user_id != user_id) continue;
      if (after && std::make_pair(item.create_time, item.id) <=
                       std::make_pair(after->create_time, after->id)) {
        continue;
      }
      if (static_cast<int>(page.size()) == limit) break;
      page.push_back(item);
    }
    return page;
  }

  std::vector<model::Card> cards_;
  std::vector<model::PlatformLink> links_;
  int next_id_ = 0;
  int64_t clock_us_ = 0;
};

}  // namespace card::testing
