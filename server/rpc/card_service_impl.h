// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The gRPC face of CardService: parse the request, queue it on its user's
// queue, run it through service::CardService, map the result. Rules live in
// the service.
//
// Registered through the generated service's raw (ByteBuffer) callback methods
// so that a request that does not parse gets INVALID_ARGUMENT naming the field
// (see rpc/request_parsing.h); the service, its methods and its descriptors
// (reflection) are the generated ones.
#pragma once

#include "devcard/card/v1/card_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/exec/per_user_scheduler.h"
#include "server/service/card_service.h"

namespace card::rpc {

namespace generated = devcard::card::v1;

using RawCardService = generated::CardService::WithRawCallbackMethod_CreateCard<
    generated::CardService::WithRawCallbackMethod_GetCard<
        generated::CardService::WithRawCallbackMethod_ListCards<
            generated::CardService::WithRawCallbackMethod_UpdateCard<
                generated::CardService::WithRawCallbackMethod_DeleteCard<
                    generated::CardService::WithRawCallbackMethod_SetDefaultCard<
                        generated::CardService::WithRawCallbackMethod_GetDefaultCard<
                            generated::CardService::WithRawCallbackMethod_GetSharedCard<
                                generated::CardService::
                                    WithRawCallbackMethod_CreatePlatformLink<
                                        generated::CardService::
                                            WithRawCallbackMethod_ListPlatformLinks<
                                                generated::CardService::
                                                    WithRawCallbackMethod_DeletePlatformLink<
                                                        generated::CardService::
                                                            Service>>>>>>>>>>>;

class CardServiceImpl final : public RawCardService {
 public:
  CardServiceImpl(service::CardService* service, PerUserScheduler* scheduler)
      : service_(service), scheduler_(scheduler) {}

  using Reactor = grpc::ServerUnaryReactor;
  using Context = grpc::CallbackServerContext;
  using Bytes = grpc::ByteBuffer;

  Reactor* CreateCard(Context* context, const Bytes* request, Bytes* response) override;
  Reactor* GetCard(Context* context, const Bytes* request, Bytes* response) override;
  Reactor* ListCards(Context* context, const Bytes* request, Bytes* response) override;
  Reactor* UpdateCard(Context* context, const Bytes* request, Bytes* response) override;
  Reactor* DeleteCard(Context* context, const Bytes* request, Bytes* response) override;
  Reactor* SetDefaultCard(Context* context, const Bytes* request,
                          Bytes* response) override;
  Reactor* GetDefaultCard(Context* context, const Bytes* request,
                          Bytes* response) override;
  Reactor* GetSharedCard(Context* context, const Bytes* request,
                         Bytes* response) override;
  Reactor* CreatePlatformLink(Context* context, const Bytes* request,
                              Bytes* response) override;
  Reactor* ListPlatformLinks(Context* context, const Bytes* request,
                             Bytes* response) override;
  Reactor* DeletePlatformLink(Context* context, const Bytes* request,
                              Bytes* response) override;

 private:
  // Parses the request, queues it on its user's queue and runs `work` there:
  // a handler of one call, or of several (group commit; rpc/unary_call.h).
  template <class Request, class Response, class Work>
  Reactor* Serve(Context* context, const Bytes* request, Bytes* response, Work work);

  service::CardService* service_;
  PerUserScheduler* scheduler_;
};

}  // namespace card::rpc
