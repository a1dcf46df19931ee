#include "rpc/card_service_impl.h"

#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "rpc/proto_convert.h"
#include "rpc/status_mapping.h"

namespace card::rpc {

namespace v1 = devcard::card::v1;

grpc::ServerUnaryReactor* CardServiceImpl::Dispatch(
    grpc::CallbackServerContext* context,
    std::function<absl::Status(absl::Time deadline)> work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Time deadline = absl::FromChrono(context->deadline());
  bool queued = executor_->Submit([reactor, context, deadline, work = std::move(work)] {
    if (context->IsCancelled()) {
      reactor->Finish(grpc::Status::CANCELLED);
      return;
    }
    if (absl::Now() >= deadline) {
      reactor->Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                   "deadline passed while queued in the server"));
      return;
    }
    absl::Status status;
    try {
      status = work(deadline);
    } catch (const std::exception& e) {
      // No exception escapes a handler; the caller gets a generic message.
      log::Error(absl::StrCat("unhandled exception in RPC: ", e.what()));
      status = absl::InternalError("internal error");
    }
    reactor->Finish(ToGrpcStatus(status));
  });
  if (!queued) {
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "server overloaded; retry with backoff"));
  }
  return reactor;
}

grpc::ServerUnaryReactor* CardServiceImpl::CreateCard(grpc::CallbackServerContext* context,
                                                      const v1::CreateCardRequest* request,
                                                      v1::Card* response) {
  return Dispatch(context, [this, request, response](absl::Time deadline) {
    absl::StatusOr<model::Card> card = service_->CreateCard(FromProto(*request), deadline);
    if (card.ok()) ToProto(*card, response);
    return card.status();
  });
}

grpc::ServerUnaryReactor* CardServiceImpl::GetCard(grpc::CallbackServerContext* context,
                                                   const v1::GetCardRequest* request,
                                                   v1::Card* response) {
  return Dispatch(context, [this, request, response](absl::Time deadline) {
    absl::StatusOr<model::Card> card =
        service_->GetCard(request->user_id(), request->card_id(), deadline);
    if (card.ok()) ToProto(*card, response);
    return card.status();
  });
}

grpc::ServerUnaryReactor* CardServiceImpl::ListCards(grpc::CallbackServerContext* context,
                                                     const v1::ListCardsRequest* request,
                                                     v1::ListCardsResponse* response) {
  return Dispatch(context, [this, request, response](absl::Time deadline) {
    absl::StatusOr<model::CardPage> page = service_->ListCards(
        request->user_id(), request->page_size(), request->page_token(), deadline);
    if (!page.ok()) return page.status();
    for (const model::Card& card : page->cards) ToProto(card, response->add_cards());
    response->set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
}

}  // namespace card::rpc
