// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Plain data types shared by the service and storage layers: no gRPC, no
// database types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace card::model {

// Values match devcard.card.v1.Visibility; kUnspecified never reaches storage.
enum class Visibility : int16_t {
  kUnspecified = 0,
  kPublic = 1,
  kUnlisted = 2,
  kPrivate = 3
};

struct PlatformLink {
  std::string id;
  std::string user_id;
  std::string platform;
  std::string username;
  std::string url;
  int32_t display_order = 0;  // On a card: the position on that card.
  absl::Time create_time;
};

struct Card {
  std::string id;
  std::string user_id;
  std::string title;
  std::string description;
  std::string slug;
  Visibility visibility = Visibility::kPublic;
  bool qr_enabled = false;
  bool is_default = false;
  std::vector<PlatformLink> links;
  absl::Time create_time;
  absl::Time update_time;
  int64_t version = 0;  // Bumped by every change; the etag is derived from it.
};

// A card as anyone holding its slug sees it (GetSharedCard): what the card
// shows and nothing that names its owner or addresses it through the owner's
// calls. A type of its own, so that storage never reads those columns for it
// and no later field of Card reaches the public view by accident.
struct SharedLink {
  std::string platform;
  std::string username;
  std::string url;
};

struct SharedCard {
  std::string title;
  std::string description;
  std::string slug;
  Visibility visibility = Visibility::kPublic;  // kPublic or kUnlisted.
  bool qr_enabled = false;
  std::vector<SharedLink> links;  // In display order.
};

// What CreateCard writes; validated by the service layer before storage sees it.
struct NewCard {
  std::string user_id;
  std::string title;
  std::string description;
  Visibility visibility = Visibility::kPublic;
  bool qr_enabled = false;
  std::vector<std::string> link_ids;
  std::string request_id;  // Empty: not idempotent.
  std::string slug_base;   // Set by the service; storage appends a random suffix.
};

// A partial update: each set optional is a field to change.
struct CardUpdate {
  std::string user_id;
  std::string card_id;
  int64_t expected_version = 0;  // 0: no etag sent, any version.
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<Visibility> visibility;
  std::optional<bool> qr_enabled;
  std::optional<std::vector<std::string>> link_ids;  // Replaces the card's links.
};

// UpdateCard as the caller sent it: the fields, and the mask naming which
// count. The service validates it into a CardUpdate.
struct CardPatch {
  std::string user_id;
  std::string card_id;
  std::string etag;
  std::vector<std::string> update_paths;
  std::string title;
  std::string description;
  Visibility visibility = Visibility::kUnspecified;
  bool qr_enabled = false;
  std::vector<std::string> link_ids;
};

struct NewPlatformLink {
  std::string user_id;
  std::string platform;
  std::string username;
  std::string url;
  int32_t display_order = 0;
};

// Keyset position in a user's cards or links, ordered by (create_time, id).
struct CardCursor {
  absl::Time create_time;
  std::string id;
};

struct CardPage {
  std::vector<Card> cards;
  std::string next_page_token;  // Empty on the last page.
};

struct LinkPage {
  std::vector<PlatformLink> links;
  std::string next_page_token;  // Empty on the last page.
};

}  // namespace card::model
