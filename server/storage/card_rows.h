// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Reading the card_rows shape (see definitions/02_card_rows.sql): one row per link
// of each card, consecutive rows per card, links in position order.
#pragma once

#include <optional>
#include <pqxx/result>
#include <vector>

#include "server/model/card.h"

namespace card::storage {

std::vector<model::Card> CardsFromRows(const pqxx::result& rows);
// The same for rows [begin, end) of `rows`, which may carry other columns too.
std::vector<model::Card> CardsFromRows(const pqxx::result& rows,
                                       pqxx::result::size_type begin,
                                       pqxx::result::size_type end);

// The one card of a GetSharedCard result: card_rows' title, description, slug,
// visibility and qr_enabled, with link_platform, link_username and link_url per
// row, in link order. nullopt for no rows.
std::optional<model::SharedCard> SharedCardFromRows(const pqxx::result& rows);

// Reading the platform_link_rows shape (see definitions/03_platform_link_rows.sql).
std::vector<model::PlatformLink> LinksFromRows(const pqxx::result& rows);

}  // namespace card::storage
