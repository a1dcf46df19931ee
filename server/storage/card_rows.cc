// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/storage/card_rows.h"

#include <pqxx/pqxx>

namespace card::storage {
namespace {

absl::Time FromMicros(const pqxx::field& field) {
  return absl::FromUnixMicros(field.as<int64_t>());
}

}  // namespace

std::vector<model::Card> CardsFromRows(const pqxx::result& rows) {
  return CardsFromRows(rows, 0, rows.size());
}

std::vector<model::Card> CardsFromRows(const pqxx::result& rows,
                                       pqxx::result::size_type begin,
                                       pqxx::result::size_type end) {
  std::vector<model::Card> cards;
  for (pqxx::result::size_type i = begin; i < end; ++i) {
    const pqxx::row row = rows[i];
    if (cards.empty() || cards.back().id != row["id"].c_str()) {
      model::Card& card = cards.emplace_back();
      card.id = row["id"].c_str();
      card.user_id = row["user_id"].c_str();
      card.title = row["title"].c_str();
      card.description = row["description"].c_str();
      card.slug = row["slug"].c_str();
      card.visibility = static_cast<model::Visibility>(row["visibility"].as<int>());
      card.qr_enabled = row["qr_enabled"].as<bool>();
      card.is_default = row["is_default"].as<bool>();
      card.create_time = FromMicros(row["create_us"]);
      card.update_time = FromMicros(row["update_us"]);
      card.version = row["version"].as<int64_t>();
    }
    if (row["link_id"].is_null()) continue;
    model::PlatformLink& link = cards.back().links.emplace_back();
    link.id = row["link_id"].c_str();
    link.user_id = cards.back().user_id;
    link.platform = row["link_platform"].c_str();
    link.username = row["link_username"].c_str();
    link.url = row["link_url"].c_str();
    // Positions may have gaps where a link was deleted; the order is what counts.
    link.display_order = static_cast<int32_t>(cards.back().links.size() - 1);
    link.create_time = FromMicros(row["link_create_us"]);
  }
  return cards;
}

std::optional<model::SharedCard> SharedCardFromRows(const pqxx::result& rows) {
  if (rows.empty()) return std::nullopt;
  model::SharedCard card;
  const pqxx::row first = rows[0];
  card.title = first["title"].c_str();
  card.description = first["description"].c_str();
  card.slug = first["slug"].c_str();
  card.visibility = static_cast<model::Visibility>(first["visibility"].as<int>());
  card.qr_enabled = first["qr_enabled"].as<bool>();
  for (const pqxx::row& row : rows) {
    // platform is NOT NULL in platform_links: NULL here is the one row of a
    // card without links.
    if (row["link_platform"].is_null()) continue;
    model::SharedLink& link = card.links.emplace_back();
    link.platform = row["link_platform"].c_str();
    link.username = row["link_username"].c_str();
    link.url = row["link_url"].c_str();
  }
  return card;
}

std::vector<model::PlatformLink> LinksFromRows(const pqxx::result& rows) {
  std::vector<model::PlatformLink> links;
  links.reserve(rows.size());
  for (const pqxx::row& row : rows) {
    model::PlatformLink& link = links.emplace_back();
    link.id = row["id"].c_str();
    link.user_id = row["user_id"].c_str();
    link.platform = row["platform"].c_str();
    link.username = row["username"].c_str();
    link.url = row["url"].c_str();
    link.display_order = row["display_order"].as<int32_t>();
    link.create_time = FromMicros(row["create_us"]);
  }
  return links;
}

}  // namespace card::storage
