// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Conversions between devcard.card.v1 messages and the model types.
#pragma once

#include "devcard/card/v1/card_service.pb.h"
#include "server/model/card.h"

namespace card::rpc {

void ToProto(const model::Card& card, devcard::card::v1::Card* out);
void ToProto(const model::PlatformLink& link, devcard::card::v1::PlatformLink* out);
// The public view: only what model::SharedCard holds, so no owner, ids or etag.
void ToProto(const model::SharedCard& card, devcard::card::v1::SharedCard* out);

model::NewCard FromProto(const devcard::card::v1::CreateCardRequest& request);
model::CardPatch FromProto(const devcard::card::v1::UpdateCardRequest& request);
model::NewPlatformLink FromProto(
    const devcard::card::v1::CreatePlatformLinkRequest& request);

}  // namespace card::rpc
