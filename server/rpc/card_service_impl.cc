// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/rpc/card_service_impl.h"

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/rpc/proto_convert.h"
#include "server/rpc/unary_call.h"
#include "server/service/validation.h"

namespace card::rpc {

namespace v1 = devcard::card::v1;
using google::protobuf::Empty;

namespace {

// A shared card's lookups queue by slug: no user is named, and the same slug
// asked for many times still takes one worker at a time.
absl::StatusOr<std::string> QueueOf(const v1::GetSharedCardRequest& request) {
  absl::Status valid = service::ValidateSlug(request.slug());
  if (!valid.ok()) return valid;
  return absl::StrCat(" slug ", request.slug());  // a user id has no spaces
}

template <class Request>
absl::StatusOr<std::string> QueueOf(const Request& request) {
  absl::Status valid = service::ValidateUserId(request.user_id());
  if (!valid.ok()) return valid;
  return request.user_id();
}

// A result that is one card or one link, into the response.
template <class Model, class Proto>
absl::Status Reply(absl::StatusOr<Model> result, Proto* response) {
  if (result.ok()) ToProto(*result, response);
  return result.status();
}

}  // namespace

template <class Request, class Response, class Work>
CardServiceImpl::Reactor* CardServiceImpl::Serve(Context* context, const Bytes* request,
                                                 Bytes* response, Work work) {
  // Taken at arrival, so that time queued here counts against the cap.
  absl::Time deadline = service_->RequestDeadline(absl::FromChrono(context->deadline()));
  return UnaryCall<Request, Response>::Start(
      request, response, scheduler_, deadline,
      [](const Request& parsed) { return QueueOf(parsed); }, std::move(work));
}

CardServiceImpl::Reactor* CardServiceImpl::CreateCard(Context* context,
                                                      const Bytes* request,
                                                      Bytes* response) {
  return Serve<v1::CreateCardRequest, v1::Card>(
      context, request, response,
      [this](const std::vector<const v1::CreateCardRequest*>& in,
             const std::vector<v1::Card*>& out, absl::Time deadline) {
        std::vector<model::NewCard> cards;
        cards.reserve(in.size());
        for (const v1::CreateCardRequest* one : in) cards.push_back(FromProto(*one));
        std::vector<absl::StatusOr<model::Card>> created =
            service_->CreateCards(std::move(cards), deadline);
        std::vector<absl::Status> statuses;
        statuses.reserve(created.size());
        for (size_t i = 0; i < created.size(); ++i) {
          statuses.push_back(Reply(std::move(created[i]), out[i]));
        }
        return statuses;
      });
}

CardServiceImpl::Reactor* CardServiceImpl::GetCard(Context* context, const Bytes* request,
                                                   Bytes* response) {
  return Serve<v1::GetCardRequest, v1::Card>(
      context, request, response,
      [this](const v1::GetCardRequest& in, v1::Card* out, absl::Time deadline) {
        return Reply(service_->GetCard(in.user_id(), in.card_id(), deadline), out);
      });
}

CardServiceImpl::Reactor* CardServiceImpl::ListCards(Context* context,
                                                     const Bytes* request,
                                                     Bytes* response) {
  return Serve<v1::ListCardsRequest, v1::ListCardsResponse>(
      context, request, response,
      [this](const v1::ListCardsRequest& in, v1::ListCardsResponse* out,
             absl::Time deadline) {
        absl::StatusOr<model::CardPage> page =
            service_->ListCards(in.user_id(), in.page_size(), in.page_token(), deadline);
        if (!page.ok()) return page.status();
        for (const model::Card& card : page->cards) ToProto(card, out->add_cards());
        out->set_next_page_token(page->next_page_token);
        return absl::OkStatus();
      });
}

CardServiceImpl::Reactor* CardServiceImpl::UpdateCard(Context* context,
                                                      const Bytes* request,
                                                      Bytes* response) {
  return Serve<v1::UpdateCardRequest, v1::Card>(
      context, request, response,
      [this](const v1::UpdateCardRequest& in, v1::Card* out, absl::Time deadline) {
        return Reply(service_->UpdateCard(FromProto(in), deadline), out);
      });
}

CardServiceImpl::Reactor* CardServiceImpl::DeleteCard(Context* context,
                                                      const Bytes* request,
                                                      Bytes* response) {
  return Serve<v1::DeleteCardRequest, Empty>(
      context, request, response,
      [this](const v1::DeleteCardRequest& in, Empty*, absl::Time deadline) {
        return service_->DeleteCard(in.user_id(), in.card_id(), in.etag(), deadline);
      });
}

CardServiceImpl::Reactor* CardServiceImpl::SetDefaultCard(Context* context,
                                                          const Bytes* request,
                                                          Bytes* response) {
  return Serve<v1::SetDefaultCardRequest, v1::Card>(
      context, request, response,
      [this](const v1::SetDefaultCardRequest& in, v1::Card* out, absl::Time deadline) {
        return Reply(service_->SetDefaultCard(in.user_id(), in.card_id(), deadline), out);
      });
}

CardServiceImpl::Reactor* CardServiceImpl::GetDefaultCard(Context* context,
                                                          const Bytes* request,
                                                          Bytes* response) {
  return Serve<v1::GetDefaultCardRequest, v1::Card>(
      context, request, response,
      [this](const v1::GetDefaultCardRequest& in, v1::Card* out, absl::Time deadline) {
        return Reply(service_->GetDefaultCard(in.user_id(), deadline), out);
      });
}

CardServiceImpl::Reactor* CardServiceImpl::GetSharedCard(Context* context,
                                                         const Bytes* request,
                                                         Bytes* response) {
  return Serve<v1::GetSharedCardRequest, v1::SharedCard>(
      context, request, response,
      [this](const v1::GetSharedCardRequest& in, v1::SharedCard* out,
             absl::Time deadline) {
        return Reply(service_->GetSharedCard(in.slug(), deadline), out);
      });
}

CardServiceImpl::Reactor* CardServiceImpl::CreatePlatformLink(Context* context,
                                                              const Bytes* request,
                                                              Bytes* response) {
  return Serve<v1::CreatePlatformLinkRequest, v1::PlatformLink>(
      context, request, response,
      [this](const v1::CreatePlatformLinkRequest& in, v1::PlatformLink* out,
             absl::Time deadline) {
        return Reply(service_->CreatePlatformLink(FromProto(in), deadline), out);
      });
}

CardServiceImpl::Reactor* CardServiceImpl::ListPlatformLinks(Context* context,
                                                             const Bytes* request,
                                                             Bytes* response) {
  return Serve<v1::ListPlatformLinksRequest, v1::ListPlatformLinksResponse>(
      context, request, response,
      [this](const v1::ListPlatformLinksRequest& in, v1::ListPlatformLinksResponse* out,
             absl::Time deadline) {
        absl::StatusOr<model::LinkPage> page = service_->ListPlatformLinks(
            in.user_id(), in.page_size(), in.page_token(), deadline);
        if (!page.ok()) return page.status();
        for (const model::PlatformLink& link : page->links)
          ToProto(link, out->add_links());
        out->set_next_page_token(page->next_page_token);
        return absl::OkStatus();
      });
}

CardServiceImpl::Reactor* CardServiceImpl::DeletePlatformLink(Context* context,
                                                              const Bytes* request,
                                                              Bytes* response) {
  return Serve<v1::DeletePlatformLinkRequest, Empty>(
      context, request, response,
      [this](const v1::DeletePlatformLinkRequest& in, Empty*, absl::Time deadline) {
        return service_->DeletePlatformLink(in.user_id(), in.link_id(), deadline);
      });
}

}  // namespace card::rpc
