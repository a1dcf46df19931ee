// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "client/cardctl_output.h"

#include <algorithm>
#include <cstddef>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/proto_json.h"
#include "google/protobuf/util/time_util.h"

namespace card::cardctl {

namespace {

using google::protobuf::util::TimeUtil;

// Control characters would break the layout; the JSON output keeps them.
std::string Printable(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

// Display width, counting UTF-8 code points (good enough for a terminal).
size_t Width(const std::string& text) {
  return std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  });
}

// Rows of cells, printed with every column as wide as its widest cell.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { Add(std::move(header)); }
  void Add(std::vector<std::string> row) {
    for (std::string& cell : row) cell = Printable(cell);
    rows_.push_back(std::move(row));
  }
  void Print(std::ostream& out, const std::string& indent = "") const {
    std::vector<size_t> widths(rows_[0].size(), 0);
    for (const auto& row : rows_) {
      for (size_t i = 0; i < row.size(); ++i)
        widths[i] = std::max(widths[i], Width(row[i]));
    }
    for (const auto& row : rows_) {
      std::string line = indent;
      for (size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) line += std::string(widths[i] - Width(row[i]) + 2, ' ');
      }
      out << line << "\n";
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

// UTC to the second; "-" for an unset time. Microseconds, not nanoseconds, on
// the way through: they cover any year a Timestamp can hold without overflow.
std::string Time(const google::protobuf::Timestamp& timestamp) {
  if (timestamp == google::protobuf::Timestamp()) return "-";
  absl::Time time = absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(timestamp));
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

void PrintLinkRows(std::ostream& out,
                   const google::protobuf::RepeatedPtrField<v1::PlatformLink>& links,
                   const std::string& indent) {
  Table table({"#", "PLATFORM", "USERNAME", "URL", "ID"});
  for (const v1::PlatformLink& link : links) {
    table.Add({absl::StrCat(link.display_order()), link.platform(), link.username(),
               link.url(), link.id()});
  }
  table.Print(out, indent);
}

}  // namespace

std::string VisibilityName(v1::Visibility visibility) {
  switch (visibility) {
    case v1::VISIBILITY_PUBLIC:
      return "public";
    case v1::VISIBILITY_UNLISTED:
      return "unlisted";
    case v1::VISIBILITY_PRIVATE:
      return "private";
    default:
      return "unspecified";
  }
}

std::string ToJson(const google::protobuf::Message& message) {
  absl::StatusOr<std::string> json = client::ToProtoJson(message);
  if (!json.ok()) return R"({"error":"cannot convert to JSON"})";
  return *std::move(json);
}

void PrintCard(std::ostream& out, const v1::Card& card, Format format) {
  if (format == Format::kJson) {
    out << ToJson(card) << "\n";
    return;
  }
  Table table({"id:", card.id()});
  table.Add({"user_id:", card.user_id()});
  table.Add({"title:", card.title()});
  table.Add({"description:", card.description()});
  table.Add({"slug:", card.slug()});
  table.Add({"visibility:", VisibilityName(card.visibility())});
  table.Add({"qr_enabled:", card.qr_enabled() ? "true" : "false"});
  table.Add({"default:", card.is_default() ? "yes" : "no"});
  table.Add({"created:", Time(card.create_time())});
  table.Add({"updated:", Time(card.update_time())});
  table.Add({"etag:", card.etag()});
  table.Add({"links:", absl::StrCat(card.links_size())});
  table.Print(out);
  if (card.links_size() > 0) PrintLinkRows(out, card.links(), "  ");
}

void PrintSharedCard(std::ostream& out, const v1::SharedCard& card, Format format) {
  if (format == Format::kJson) {
    out << ToJson(card) << "\n";
    return;
  }
  Table table({"title:", card.title()});
  table.Add({"description:", card.description()});
  table.Add({"slug:", card.slug()});
  table.Add({"visibility:", VisibilityName(card.visibility())});
  table.Add({"qr_enabled:", card.qr_enabled() ? "true" : "false"});
  table.Add({"links:", absl::StrCat(card.links_size())});
  table.Print(out);
  if (card.links_size() == 0) return;
  // The position is the order the card shows them in; the message has no field for it.
  Table links({"#", "PLATFORM", "USERNAME", "URL"});
  for (int i = 0; i < card.links_size(); ++i) {
    const v1::SharedCard::Link& link = card.links(i);
    links.Add({absl::StrCat(i), link.platform(), link.username(), link.url()});
  }
  links.Print(out, "  ");
}

void PrintCards(std::ostream& out, const std::vector<v1::Card>& cards, Format format) {
  if (format == Format::kJson) {
    v1::ListCardsResponse response;
    for (const v1::Card& card : cards) *response.add_cards() = card;
    out << ToJson(response) << "\n";
    return;
  }
  if (cards.empty()) {
    out << "no cards\n";
    return;
  }
  Table table({"ID", "TITLE", "DEFAULT", "VISIBILITY", "LINKS", "SLUG", "UPDATED"});
  for (const v1::Card& card : cards) {
    table.Add({card.id(), card.title(), card.is_default() ? "*" : "",
               VisibilityName(card.visibility()), absl::StrCat(card.links_size()),
               card.slug(), Time(card.update_time())});
  }
  table.Print(out);
}

void PrintLink(std::ostream& out, const v1::PlatformLink& link, Format format) {
  if (format == Format::kJson) {
    out << ToJson(link) << "\n";
    return;
  }
  PrintLinks(out, {link}, format);
}

void PrintLinks(std::ostream& out, const std::vector<v1::PlatformLink>& links,
                Format format) {
  if (format == Format::kJson) {
    v1::ListPlatformLinksResponse response;
    for (const v1::PlatformLink& link : links) *response.add_links() = link;
    out << ToJson(response) << "\n";
    return;
  }
  if (links.empty()) {
    out << "no links\n";
    return;
  }
  Table table({"ID", "PLATFORM", "USERNAME", "ORDER", "URL", "CREATED"});
  for (const v1::PlatformLink& link : links) {
    table.Add({link.id(), link.platform(), link.username(),
               absl::StrCat(link.display_order()), link.url(), Time(link.create_time())});
  }
  table.Print(out);
}

}  // namespace card::cardctl
