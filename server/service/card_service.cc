// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/service/card_service.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "server/common/status.h"
#include "server/service/etag.h"
#include "server/service/page_token.h"
#include "server/service/validation.h"

namespace card::service {
namespace {

constexpr char kCardsPageKind[] = "cards";
constexpr char kLinksPageKind[] = "links";

absl::Status ValidateNewCard(const model::NewCard& card) {
  CARD_RETURN_IF_ERROR(ValidateUserId(card.user_id));
  CARD_RETURN_IF_ERROR(ValidateText(card.title, "card.title", 1, kMaxTitleChars));
  CARD_RETURN_IF_ERROR(
      ValidateText(card.description, "card.description", 0, kMaxDescriptionChars));
  CARD_RETURN_IF_ERROR(ValidateVisibility(card.visibility, "card.visibility",
                                          /*allow_unspecified=*/true));
  CARD_RETURN_IF_ERROR(ValidateLinkIds(card.link_ids));
  return ValidateRequestId(card.request_id);
}

// The validated update a patch asks for.
absl::StatusOr<model::CardUpdate> UpdateFromPatch(const model::CardPatch& patch) {
  CARD_RETURN_IF_ERROR(ValidateUserId(patch.user_id));
  CARD_RETURN_IF_ERROR(ValidateUuid(patch.card_id, "card.id"));
  absl::StatusOr<int64_t> version = VersionFromEtag(patch.etag, "card.etag");
  if (!version.ok()) return version.status();
  if (patch.update_paths.empty()) {
    return InvalidField("update_mask",
                        "name at least one of title, description, visibility, "
                        "qr_enabled, links");
  }
  model::CardUpdate update;
  update.user_id = patch.user_id;
  update.card_id = patch.card_id;
  update.expected_version = *version;
  absl::flat_hash_set<std::string> seen;
  for (const std::string& path : patch.update_paths) {
    if (!seen.insert(path).second) {
      return InvalidField("update_mask", absl::StrCat("path \"", path, "\" repeated"));
    }
    if (path == "title") {
      CARD_RETURN_IF_ERROR(ValidateText(patch.title, "card.title", 1, kMaxTitleChars));
      update.title = patch.title;
    } else if (path == "description") {
      CARD_RETURN_IF_ERROR(
          ValidateText(patch.description, "card.description", 0, kMaxDescriptionChars));
      update.description = patch.description;
    } else if (path == "visibility") {
      CARD_RETURN_IF_ERROR(ValidateVisibility(patch.visibility, "card.visibility",
                                              /*allow_unspecified=*/false));
      update.visibility = patch.visibility;
    } else if (path == "qr_enabled") {
      update.qr_enabled = patch.qr_enabled;
    } else if (path == "links") {
      CARD_RETURN_IF_ERROR(ValidateLinkIds(patch.link_ids));
      update.link_ids = patch.link_ids;
    } else if (path == "is_default") {
      return InvalidField("update_mask", "is_default is changed with SetDefaultCard");
    } else {
      return InvalidField("update_mask", absl::StrCat("unknown path \"", path, "\""));
    }
  }
  if (!update.link_ids && !patch.link_ids.empty()) {
    return InvalidField("link_ids", "only read with the update_mask path \"links\"");
  }
  return update;
}

int PageLimit(int page_size) {
  return page_size == 0 ? kDefaultPageSize : std::min(page_size, kMaxPageSize);
}

// Validates a list request and decodes its page token.
absl::StatusOr<std::optional<model::CardCursor>> PageStart(
    absl::string_view kind, const std::string& user_id, int page_size,
    const std::string& page_token) {
  CARD_RETURN_IF_ERROR(ValidateUserId(user_id));
  if (page_size < 0) return InvalidField("page_size", "must not be negative");
  if (page_token.empty()) return std::optional<model::CardCursor>();
  absl::StatusOr<model::CardCursor> cursor = DecodePageToken(kind, user_id, page_token);
  if (!cursor.ok()) return cursor.status();
  return std::optional<model::CardCursor>(*std::move(cursor));
}

// Roughly what an item costs in a response: its strings plus a few bytes of
// framing per field. Used only to keep a page under kMaxPageBytes.
size_t ResponseBytes(const model::PlatformLink& link) {
  return link.id.size() + link.user_id.size() + link.platform.size() +
         link.username.size() + link.url.size() + 48;
}
size_t ResponseBytes(const model::Card& card) {
  size_t bytes = card.id.size() + card.user_id.size() + card.title.size() +
                 card.description.size() + card.slug.size() + 64;
  for (const model::PlatformLink& link : card.links) bytes += ResponseBytes(link);
  return bytes;
}

// Fetches one page of a user's `kind` (cards or links) after validating the
// request: `fetch(after, limit)` reads up to `limit` items after the cursor.
// A page ends at `page_size` items or when the next item would take it past
// kMaxPageBytes (AIP-158 lets a server return fewer items than asked; it
// always returns at least one). Items are read kFetchBatch at a time, so a
// large page of large cards never sits whole in memory, and one more than
// needed, to tell whether another page follows. The next page's token points
// at the last item kept ("" on the last page).
template <typename Item, typename Fetch>
absl::Status FetchPage(absl::string_view kind, const std::string& user_id, int page_size,
                       const std::string& page_token, const Fetch& fetch,
                       std::vector<Item>* items, std::string* next_page_token) {
  absl::StatusOr<std::optional<model::CardCursor>> after =
      PageStart(kind, user_id, page_size, page_token);
  if (!after.ok()) return after.status();
  const size_t limit = PageLimit(page_size);
  items->clear();
  next_page_token->clear();
  std::optional<model::CardCursor> cursor = *std::move(after);
  size_t bytes = 0;
  bool more = false;
  bool full = false;
  while (!full && items->size() < limit) {
    size_t want = std::min(limit - items->size(), kFetchBatch);
    absl::StatusOr<std::vector<Item>> fetched = fetch(cursor, static_cast<int>(want + 1));
    if (!fetched.ok()) return fetched.status();
    more = fetched->size() > want;
    if (more) fetched->pop_back();
    for (Item& item : *fetched) {
      size_t item_bytes = ResponseBytes(item);
      if (!items->empty() && bytes + item_bytes > kMaxPageBytes) {
        full = more = true;
        break;
      }
      bytes += item_bytes;
      items->push_back(std::move(item));
    }
    if (!more) break;
    cursor = model::CardCursor{items->back().create_time, items->back().id};
  }
  if (more && !items->empty()) {
    *next_page_token = EncodePageToken(
        kind, user_id, model::CardCursor{items->back().create_time, items->back().id});
  }
  return absl::OkStatus();
}

}  // namespace

absl::Time CardService::RequestDeadline(absl::Time caller_deadline) const {
  return std::min(caller_deadline, absl::Now() + options_.max_request_time);
}

absl::StatusOr<model::Card> CardService::CreateCard(model::NewCard card,
                                                    absl::Time deadline) {
  std::vector<model::NewCard> one;
  one.push_back(std::move(card));
  return std::move(CreateCards(std::move(one), deadline).front());
}

std::vector<absl::StatusOr<model::Card>> CardService::CreateCards(
    std::vector<model::NewCard> cards, absl::Time deadline) {
  std::vector<absl::StatusOr<model::Card>> results(cards.size(),
                                                   absl::InternalError("not created"));
  std::vector<model::NewCard> valid;
  std::vector<size_t> valid_index;  // valid[k] is cards[valid_index[k]]
  for (size_t i = 0; i < cards.size(); ++i) {
    absl::Status status = ValidateNewCard(cards[i]);
    if (!status.ok()) {
      results[i] = status;
      continue;
    }
    model::NewCard& card = valid.emplace_back(std::move(cards[i]));
    if (card.visibility == model::Visibility::kUnspecified) {
      card.visibility = model::Visibility::kPublic;
    }
    card.slug_base = SlugBase(card.title);
    valid_index.push_back(i);
  }
  if (valid.empty()) return results;
  absl::StatusOr<std::vector<absl::StatusOr<model::Card>>> created =
      repository_->CreateCards(valid, deadline);
  for (size_t k = 0; k < valid.size(); ++k) {
    if (!created.ok()) {
      results[valid_index[k]] = created.status();
    } else if (k < created->size()) {
      results[valid_index[k]] = std::move((*created)[k]);
    }
  }
  return results;
}

absl::StatusOr<model::Card> CardService::UpdateCard(const model::CardPatch& patch,
                                                    absl::Time deadline) {
  absl::StatusOr<model::CardUpdate> update = UpdateFromPatch(patch);
  if (!update.ok()) return update.status();
  return repository_->UpdateCard(*update, deadline);
}

absl::Status CardService::DeleteCard(const std::string& user_id,
                                     const std::string& card_id, const std::string& etag,
                                     absl::Time deadline) {
  CARD_RETURN_IF_ERROR(ValidateUserId(user_id));
  CARD_RETURN_IF_ERROR(ValidateUuid(card_id, "card_id"));
  absl::StatusOr<int64_t> version = VersionFromEtag(etag, "etag");
  if (!version.ok()) return version.status();
  return repository_->DeleteCard(user_id, card_id, *version, deadline);
}

absl::StatusOr<model::Card> CardService::SetDefaultCard(const std::string& user_id,
                                                        const std::string& card_id,
                                                        absl::Time deadline) {
  CARD_RETURN_IF_ERROR(ValidateUserId(user_id));
  CARD_RETURN_IF_ERROR(ValidateUuid(card_id, "card_id"));
  return repository_->SetDefaultCard(user_id, card_id, deadline);
}

absl::StatusOr<model::Card> CardService::GetCard(const std::string& user_id,
                                                 const std::string& card_id,
                                                 absl::Time deadline) {
  CARD_RETURN_IF_ERROR(ValidateUserId(user_id));
  CARD_RETURN_IF_ERROR(ValidateUuid(card_id, "card_id"));
  return repository_->GetCard(user_id, card_id, deadline);
}

absl::StatusOr<model::Card> CardService::GetDefaultCard(const std::string& user_id,
                                                        absl::Time deadline) {
  CARD_RETURN_IF_ERROR(ValidateUserId(user_id));
  return repository_->GetDefaultCard(user_id, deadline);
}

absl::StatusOr<model::SharedCard> CardService::GetSharedCard(const std::string& slug,
                                                             absl::Time deadline) {
  CARD_RETURN_IF_ERROR(ValidateSlug(slug));
  return repository_->GetSharedCard(slug, deadline);
}

absl::StatusOr<model::CardPage> CardService::ListCards(const std::string& user_id,
                                                       int page_size,
                                                       const std::string& page_token,
                                                       absl::Time deadline) {
  model::CardPage page;
  CARD_RETURN_IF_ERROR(FetchPage(
      kCardsPageKind, user_id, page_size, page_token,
      [&](const std::optional<model::CardCursor>& after, int limit) {
        return repository_->ListCards(user_id, after, limit, deadline);
      },
      &page.cards, &page.next_page_token));
  return page;
}

absl::StatusOr<model::PlatformLink> CardService::CreatePlatformLink(
    const model::NewPlatformLink& link, absl::Time deadline) {
  CARD_RETURN_IF_ERROR(ValidateUserId(link.user_id));
  CARD_RETURN_IF_ERROR(ValidatePlatformLink(link.platform, link.username, link.url,
                                            link.display_order, "link."));
  return repository_->CreateLink(link, deadline);
}

absl::StatusOr<model::LinkPage> CardService::ListPlatformLinks(
    const std::string& user_id, int page_size, const std::string& page_token,
    absl::Time deadline) {
  model::LinkPage page;
  CARD_RETURN_IF_ERROR(FetchPage(
      kLinksPageKind, user_id, page_size, page_token,
      [&](const std::optional<model::CardCursor>& after, int limit) {
        return repository_->ListLinks(user_id, after, limit, deadline);
      },
      &page.links, &page.next_page_token));
  return page;
}

absl::Status CardService::DeletePlatformLink(const std::string& user_id,
                                             const std::string& link_id,
                                             absl::Time deadline) {
  CARD_RETURN_IF_ERROR(ValidateUserId(user_id));
  CARD_RETURN_IF_ERROR(ValidateUuid(link_id, "link_id"));
  return repository_->DeleteLink(user_id, link_id, deadline);
}

absl::StatusOr<int> CardService::ExpireRequestIds() {
  constexpr int kBatch = 1000;
  constexpr int kBatchesPerCall = 20;
  int total = 0;
  for (int batch = 0; batch < kBatchesPerCall; ++batch) {
    absl::StatusOr<int> expired = repository_->ExpireCreateRequests(
        options_.request_id_retention, kBatch, RequestDeadline(absl::InfiniteFuture()));
    if (!expired.ok()) return expired.status();
    total += *expired;
    if (*expired < kBatch) break;
  }
  return total;
}

}  // namespace card::service
