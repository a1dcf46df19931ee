// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "stress/operations.h"

#include <algorithm>

#include "devcard/card/v1/card_service.pb.h"
#include "google/protobuf/empty.pb.h"
#include "grpc/health/v1/health.pb.h"

namespace card::stress {
namespace {

namespace v1 = devcard::card::v1;
namespace health = grpc::health::v1;
using google::protobuf::Message;

template <typename T>
std::unique_ptr<Message> New() {
  return std::make_unique<T>();
}

template <typename T>
T& As(Message* message) {
  return *static_cast<T*>(message);
}

void FillCreate(const Op& op, Message* message) {
  auto& request = As<v1::CreateCardRequest>(message);
  request.set_user_id(op.user_id);
  request.mutable_card()->set_title("Stress card");
  request.mutable_card()->set_description(op.request_id);  // finds duplicates later
  request.set_request_id(op.request_id);
}

void FillSetDefault(const Op& op, Message* message) {
  auto& request = As<v1::SetDefaultCardRequest>(message);
  request.set_user_id(op.user_id);
  request.set_card_id(op.card_id);
}

void FillDelete(const Op& op, Message* message) {
  auto& request = As<v1::DeleteCardRequest>(message);
  request.set_user_id(op.user_id);
  request.set_card_id(op.card_id);
}

void FillUpdateLinks(const Op& op, Message* message) {
  auto& request = As<v1::UpdateCardRequest>(message);
  request.set_user_id(op.user_id);
  request.mutable_card()->set_id(op.card_id);
  request.mutable_update_mask()->add_paths("links");
  for (const std::string& id : op.link_ids) request.add_link_ids(id);
}

void FillGet(const Op& op, Message* message) {
  auto& request = As<v1::GetCardRequest>(message);
  request.set_user_id(op.user_id);
  request.set_card_id(op.card_id);
}

void FillList(const Op& op, Message* message) {
  As<v1::ListCardsRequest>(message).set_user_id(op.user_id);
}

void FillCreateLink(const Op& op, Message* message) {
  auto& request = As<v1::CreatePlatformLinkRequest>(message);
  request.set_user_id(op.user_id);
  request.mutable_link()->set_platform("github");
  request.mutable_link()->set_username("stress");
  request.mutable_link()->set_url("https://example.com/stress");
}

void FillHealth(const Op&, Message*) {}  // an empty request: the server's overall health

std::string NoId(const Message&) { return ""; }
std::string CardId(const Message& response) {
  return static_cast<const v1::Card&>(response).id();
}
std::string LinkId(const Message& response) {
  return static_cast<const v1::PlatformLink&>(response).id();
}

bool NeverExpected(grpc::StatusCode) { return false; }
bool NotFoundExpected(grpc::StatusCode code) {
  return code == grpc::StatusCode::NOT_FOUND;
}
bool DeleteExpected(grpc::StatusCode code) {
  return code == grpc::StatusCode::NOT_FOUND ||
         code == grpc::StatusCode::FAILED_PRECONDITION;  // the user's last card
}

void Forget(std::vector<CompactId>& ids, const CompactId& id) {
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
}

CompactId IdOf(const std::string& text) {
  // A malformed id stays all zeros: it then matches no listed card, and the
  // verifier reports the create as missing.
  return CompactId::Parse(text).value_or(CompactId{});
}

void RecordNothing(const Op&, const std::string&, bool, History&, UserSummary&) {}
void RecordNothingUnsettled(const Op&, bool, History&, UserSummary&) {}

void RecordCreateOk(const Op& op, const std::string& result_id, bool mixed,
                    History& history, UserSummary& user) {
  CreateRecord& create = history.creates[op.request];
  create.card = IdOf(result_id);
  create.state = CreateState::kAcknowledged;
  ++user.acknowledged_creates;
  // Only the mixed scenario aims operations at existing cards.
  if (mixed) user.live_cards.push_back(create.card);
}

void RecordCreateUnsettled(const Op& op, bool indeterminate, History& history,
                           UserSummary& user) {
  history.creates[op.request].state =
      indeterminate ? CreateState::kIndeterminate : CreateState::kFailed;
  if (indeterminate) ++user.indeterminate_creates;
}

void RecordDeleteOk(const Op& op, const std::string&, bool, History&, UserSummary& user) {
  CompactId card = IdOf(op.card_id);
  user.acknowledged_deleted.push_back(card);
  Forget(user.live_cards, card);
}

void RecordDeleteUnsettled(const Op& op, bool indeterminate, History&,
                           UserSummary& user) {
  if (indeterminate) user.indeterminate_deleted.push_back(IdOf(op.card_id));
}

void RecordLinkOk(const Op&, const std::string& result_id, bool, History&,
                  UserSummary& user) {
  user.links.push_back(result_id);
}

// In the order of OpKind.
const Operation kOperations[kOpKinds] = {
    {OpKind::kCreate, "create", "/devcard.card.v1.CardService/CreateCard",
     &New<v1::CreateCardRequest>, &New<v1::Card>, &FillCreate, &CardId,
     /*idempotent=*/true,  // the request_id makes the retry safe
     &NeverExpected, /*recorded=*/true, &RecordCreateOk, &RecordCreateUnsettled},
    {OpKind::kSetDefault, "set-default", "/devcard.card.v1.CardService/SetDefaultCard",
     &New<v1::SetDefaultCardRequest>, &New<v1::Card>, &FillSetDefault, &CardId,
     /*idempotent=*/true, &NotFoundExpected, /*recorded=*/true, &RecordNothing,
     &RecordNothingUnsettled},
    {OpKind::kDelete, "delete", "/devcard.card.v1.CardService/DeleteCard",
     &New<v1::DeleteCardRequest>, &New<google::protobuf::Empty>, &FillDelete, &NoId,
     /*idempotent=*/false,  // a retry could not tell "done" from "never existed"
     &DeleteExpected, /*recorded=*/true, &RecordDeleteOk, &RecordDeleteUnsettled},
    {OpKind::kUpdateLinks, "update-links", "/devcard.card.v1.CardService/UpdateCard",
     &New<v1::UpdateCardRequest>, &New<v1::Card>, &FillUpdateLinks, &NoId,
     /*idempotent=*/true,  // replacing links with the same list again
     &NotFoundExpected, /*recorded=*/true, &RecordNothing, &RecordNothingUnsettled},
    {OpKind::kGet, "get", "/devcard.card.v1.CardService/GetCard",
     &New<v1::GetCardRequest>, &New<v1::Card>, &FillGet, &NoId, /*idempotent=*/true,
     &NotFoundExpected, /*recorded=*/true, &RecordNothing, &RecordNothingUnsettled},
    {OpKind::kList, "list", "/devcard.card.v1.CardService/ListCards",
     &New<v1::ListCardsRequest>, &New<v1::ListCardsResponse>, &FillList, &NoId,
     /*idempotent=*/true, &NeverExpected, /*recorded=*/true, &RecordNothing,
     &RecordNothingUnsettled},
    {OpKind::kCreateLink, "create-link",
     "/devcard.card.v1.CardService/CreatePlatformLink",
     &New<v1::CreatePlatformLinkRequest>, &New<v1::PlatformLink>, &FillCreateLink,
     &LinkId, /*idempotent=*/false,  // no idempotency key
     &NeverExpected, /*recorded=*/true, &RecordLinkOk, &RecordNothingUnsettled},
    {OpKind::kHealth, "health", "/grpc.health.v1.Health/Check",
     &New<health::HealthCheckRequest>, &New<health::HealthCheckResponse>, &FillHealth,
     &NoId, /*idempotent=*/true, &NeverExpected,
     /*recorded=*/false,  // writes nothing: no history
     &RecordNothing, &RecordNothingUnsettled},
};

}  // namespace

const Operation& OperationOf(OpKind kind) { return kOperations[static_cast<int>(kind)]; }

const char* OpName(OpKind kind) { return OperationOf(kind).name; }

}  // namespace card::stress
