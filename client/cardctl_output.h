// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// How cardctl prints results: aligned tables for people, proto JSON for
// programs (one JSON object per command, on one line, that parses back into
// the named message with JsonStringToMessage).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "devcard/card/v1/card_service.pb.h"
#include "google/protobuf/message.h"

namespace card::cardctl {

namespace v1 = devcard::card::v1;

enum class Format { kTable, kJson };

// Proto JSON as client/proto_json.h prints it: field names as in the proto
// (user_id), enums by name, fields with default values included, on one line.
std::string ToJson(const google::protobuf::Message& message);

// "public", "unlisted", "private" or "unspecified".
std::string VisibilityName(v1::Visibility visibility);

// One card. Table: one "key: value" line per field, then its links.
// JSON: a devcard.card.v1.Card.
void PrintCard(std::ostream& out, const v1::Card& card, Format format);

// A card as GetSharedCard shows it to anyone with the slug (no owner, ids,
// times or etag). Table: one "key: value" line per field, then its links
// (#, PLATFORM, USERNAME, URL). JSON: a devcard.card.v1.SharedCard.
void PrintSharedCard(std::ostream& out, const v1::SharedCard& card, Format format);

// Cards. Table: ID, TITLE, DEFAULT ("*"), VISIBILITY, LINKS, SLUG, UPDATED.
// JSON: a devcard.card.v1.ListCardsResponse holding every card (no page token).
void PrintCards(std::ostream& out, const std::vector<v1::Card>& cards, Format format);

// Links. Table: ID, PLATFORM, USERNAME, ORDER, URL, CREATED.
// JSON: a PlatformLink (PrintLink) or a ListPlatformLinksResponse (PrintLinks).
void PrintLink(std::ostream& out, const v1::PlatformLink& link, Format format);
void PrintLinks(std::ostream& out, const std::vector<v1::PlatformLink>& links,
                Format format);

}  // namespace card::cardctl
