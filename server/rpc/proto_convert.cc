// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/rpc/proto_convert.h"

#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"
#include "server/service/etag.h"

namespace card::rpc {
namespace {

// Visibility crosses this boundary by number (and is stored by number:
// cards.visibility smallint), so the proto's value names may change without
// touching the model or the database, but the numbers may not.
namespace v1 = devcard::card::v1;
static_assert(static_cast<int>(model::Visibility::kUnspecified) ==
              v1::VISIBILITY_UNSPECIFIED);
static_assert(static_cast<int>(model::Visibility::kPublic) == v1::VISIBILITY_PUBLIC);
static_assert(static_cast<int>(model::Visibility::kUnlisted) == v1::VISIBILITY_UNLISTED);
static_assert(static_cast<int>(model::Visibility::kPrivate) == v1::VISIBILITY_PRIVATE);

// Times in the model have microsecond precision (PostgreSQL's).
void ToProto(absl::Time time, google::protobuf::Timestamp* out) {
  *out =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(time));
}

}  // namespace

void ToProto(const model::PlatformLink& link, devcard::card::v1::PlatformLink* out) {
  out->set_id(link.id);
  out->set_user_id(link.user_id);
  out->set_platform(link.platform);
  out->set_username(link.username);
  out->set_url(link.url);
  out->set_display_order(link.display_order);
  ToProto(link.create_time, out->mutable_create_time());
}

void ToProto(const model::Card& card, devcard::card::v1::Card* out) {
  out->set_id(card.id);
  out->set_user_id(card.user_id);
  out->set_title(card.title);
  out->set_description(card.description);
  out->set_slug(card.slug);
  out->set_visibility(static_cast<devcard::card::v1::Visibility>(card.visibility));
  out->set_qr_enabled(card.qr_enabled);
  out->set_is_default(card.is_default);
  for (const model::PlatformLink& link : card.links) ToProto(link, out->add_links());
  ToProto(card.create_time, out->mutable_create_time());
  ToProto(card.update_time, out->mutable_update_time());
  out->set_etag(service::EtagForVersion(card.version));
}

void ToProto(const model::SharedCard& card, devcard::card::v1::SharedCard* out) {
  out->set_title(card.title);
  out->set_description(card.description);
  out->set_slug(card.slug);
  out->set_visibility(static_cast<devcard::card::v1::Visibility>(card.visibility));
  out->set_qr_enabled(card.qr_enabled);
  for (const model::SharedLink& link : card.links) {
    devcard::card::v1::SharedCard::Link* shown = out->add_links();
    shown->set_platform(link.platform);
    shown->set_username(link.username);
    shown->set_url(link.url);
  }
}

model::NewCard FromProto(const devcard::card::v1::CreateCardRequest& request) {
  model::NewCard card;
  card.user_id = request.user_id();
  card.title = request.card().title();
  card.description = request.card().description();
  card.visibility = static_cast<model::Visibility>(request.card().visibility());
  card.qr_enabled = request.card().qr_enabled();
  card.link_ids.assign(request.link_ids().begin(), request.link_ids().end());
  card.request_id = request.request_id();
  return card;
}

model::CardPatch FromProto(const devcard::card::v1::UpdateCardRequest& request) {
  model::CardPatch patch;
  patch.user_id = request.user_id();
  patch.card_id = request.card().id();
  patch.etag = request.card().etag();
  patch.update_paths.assign(request.update_mask().paths().begin(),
                            request.update_mask().paths().end());
  patch.title = request.card().title();
  patch.description = request.card().description();
  patch.visibility = static_cast<model::Visibility>(request.card().visibility());
  patch.qr_enabled = request.card().qr_enabled();
  patch.link_ids.assign(request.link_ids().begin(), request.link_ids().end());
  return patch;
}

model::NewPlatformLink FromProto(
    const devcard::card::v1::CreatePlatformLinkRequest& request) {
  model::NewPlatformLink link;
  link.user_id = request.user_id();
  link.platform = request.link().platform();
  link.username = request.link().username();
  link.url = request.link().url();
  link.display_order = request.link().display_order();
  return link;
}

}  // namespace card::rpc
