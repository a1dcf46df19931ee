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
  // Taken at arrival, so that time queued here counts against the cap.
  absl::Time deadline = service_->RequestDeadline(absl::FromChrono(context->deadline()));
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

grpc::ServerUnaryReactor* CardServiceImpl::CardCall(
    grpc::CallbackServerContext* context, v1::Card* response,
    std::function<absl::StatusOr<model::Card>(absl::Time deadline)> work) {
  return Dispatch(context, [response, work = std::move(work)](absl::Time deadline) {
    absl::StatusOr<model::Card> card = work(deadline);
    if (card.ok()) ToProto(*card, response);
    return card.status();
  });
}

grpc::ServerUnaryReactor* CardServiceImpl::CreateCard(
    grpc::CallbackServerContext* context, const v1::CreateCardRequest* request,
    v1::Card* response) {
  return CardCall(context, response, [this, request](absl::Time deadline) {
    return service_->CreateCard(FromProto(*request), deadline);
  });
}

grpc::ServerUnaryReactor* CardServiceImpl::GetCard(grpc::CallbackServerContext* context,
                                                   const v1::GetCardRequest* request,
                                                   v1::Card* response) {
  return CardCall(context, response, [this, request](absl::Time deadline) {
    return service_->GetCard(request->user_id(), request->card_id(), deadline);
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

grpc::ServerUnaryReactor* CardServiceImpl::UpdateCard(
    grpc::CallbackServerContext* context, const v1::UpdateCardRequest* request,
    v1::Card* response) {
  return CardCall(context, response, [this, request](absl::Time deadline) {
    return service_->UpdateCard(FromProto(*request), deadline);
  });
}

grpc::ServerUnaryReactor* CardServiceImpl::DeleteCard(
    grpc::CallbackServerContext* context, const v1::DeleteCardRequest* request,
    google::protobuf::Empty* /*response*/) {
  return Dispatch(context, [this, request](absl::Time deadline) {
    return service_->DeleteCard(request->user_id(), request->card_id(), request->etag(),
                                deadline);
  });
}

grpc::ServerUnaryReactor* CardServiceImpl::SetDefaultCard(
    grpc::CallbackServerContext* context, const v1::SetDefaultCardRequest* request,
    v1::Card* response) {
  return CardCall(context, response, [this, request](absl::Time deadline) {
    return service_->SetDefaultCard(request->user_id(), request->card_id(), deadline);
  });
}

grpc::ServerUnaryReactor* CardServiceImpl::GetDefaultCard(
    grpc::CallbackServerContext* context, const v1::GetDefaultCardRequest* request,
    v1::Card* response) {
  return CardCall(context, response, [this, request](absl::Time deadline) {
    return service_->GetDefaultCard(request->user_id(), deadline);
  });
}

grpc::ServerUnaryReactor* CardServiceImpl::GetSharedCard(
    grpc::CallbackServerContext* context, const v1::GetSharedCardRequest* request,
    v1::Card* response) {
  return CardCall(context, response, [this, request](absl::Time deadline) {
    return service_->GetSharedCard(request->slug(), deadline);
  });
}

grpc::ServerUnaryReactor* CardServiceImpl::CreatePlatformLink(
    grpc::CallbackServerContext* context, const v1::CreatePlatformLinkRequest* request,
    v1::PlatformLink* response) {
  return Dispatch(context, [this, request, response](absl::Time deadline) {
    absl::StatusOr<model::PlatformLink> link =
        service_->CreatePlatformLink(FromProto(*request), deadline);
    if (link.ok()) ToProto(*link, response);
    return link.status();
  });
}

grpc::ServerUnaryReactor* CardServiceImpl::ListPlatformLinks(
    grpc::CallbackServerContext* context, const v1::ListPlatformLinksRequest* request,
    v1::ListPlatformLinksResponse* response) {
  return Dispatch(context, [this, request, response](absl::Time deadline) {
    absl::StatusOr<model::LinkPage> page = service_->ListPlatformLinks(
        request->user_id(), request->page_size(), request->page_token(), deadline);
    if (!page.ok()) return page.status();
    for (const model::PlatformLink& link : page->links)
      ToProto(link, response->add_links());
    response->set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CardServiceImpl::DeletePlatformLink(
    grpc::CallbackServerContext* context, const v1::DeletePlatformLinkRequest* request,
    google::protobuf::Empty* /*response*/) {
  return Dispatch(context, [this, request](absl::Time deadline) {
    return service_->DeletePlatformLink(request->user_id(), request->link_id(), deadline);
  });
}

}  // namespace card::rpc
