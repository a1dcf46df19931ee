#include "service/card_service.h"

#include <algorithm>
#include <utility>

#include "common/status.h"
#include "service/page_token.h"
#include "service/validation.h"

namespace card::service {
namespace {

constexpr char kCardsPageKind[] = "cards";

absl::Status ValidateNewCard(const model::NewCard& card) {
  CARD_RETURN_IF_ERROR(ValidateUserId(card.user_id));
  CARD_RETURN_IF_ERROR(ValidateText(card.title, "card.title", 1, kMaxTitleChars));
  CARD_RETURN_IF_ERROR(
      ValidateText(card.description, "card.description", 0, kMaxDescriptionChars));
  if (card.visibility < model::Visibility::kUnspecified ||
      card.visibility > model::Visibility::kPrivate) {
    return InvalidField("card.visibility", "unknown value");
  }
  CARD_RETURN_IF_ERROR(ValidateLinkIds(card.link_ids));
  return ValidateRequestId(card.request_id);
}

}  // namespace

absl::Time CardService::EffectiveDeadline(absl::Time deadline) const {
  return std::min(deadline, absl::Now() + options_.max_request_time);
}

absl::StatusOr<model::Card> CardService::CreateCard(model::NewCard card, absl::Time deadline) {
  CARD_RETURN_IF_ERROR(ValidateNewCard(card));
  if (card.visibility == model::Visibility::kUnspecified) {
    card.visibility = model::Visibility::kPublic;
  }
  card.slug_base = SlugBase(card.title);
  return store_->CreateCard(card, EffectiveDeadline(deadline));
}

absl::StatusOr<model::Card> CardService::GetCard(const std::string& user_id,
                                                 const std::string& card_id,
                                                 absl::Time deadline) {
  CARD_RETURN_IF_ERROR(ValidateUserId(user_id));
  CARD_RETURN_IF_ERROR(ValidateUuid(card_id, "card_id"));
  return store_->GetCard(user_id, card_id, EffectiveDeadline(deadline));
}

absl::StatusOr<model::CardPage> CardService::ListCards(const std::string& user_id,
                                                       int page_size,
                                                       const std::string& page_token,
                                                       absl::Time deadline) {
  CARD_RETURN_IF_ERROR(ValidateUserId(user_id));
  if (page_size < 0) return InvalidField("page_size", "must not be negative");
  int limit = page_size == 0 ? kDefaultPageSize : std::min(page_size, kMaxPageSize);
  std::optional<model::CardCursor> after;
  if (!page_token.empty()) {
    absl::StatusOr<model::CardCursor> cursor =
        DecodePageToken(kCardsPageKind, user_id, page_token);
    if (!cursor.ok()) return cursor.status();
    after = *std::move(cursor);
  }
  // One extra row tells whether another page follows.
  absl::StatusOr<std::vector<model::Card>> cards =
      store_->ListCards(user_id, after, limit + 1, EffectiveDeadline(deadline));
  if (!cards.ok()) return cards.status();
  model::CardPage page;
  page.cards = *std::move(cards);
  if (page.cards.size() > static_cast<size_t>(limit)) {
    page.cards.resize(limit);
    page.next_page_token = EncodePageToken(
        kCardsPageKind, user_id,
        model::CardCursor{page.cards.back().create_time, page.cards.back().id});
  }
  return page;
}

absl::Status CardService::CheckDatabase(absl::Time deadline) {
  return store_->Ping(EffectiveDeadline(deadline));
}

}  // namespace card::service
