// The gRPC face of CardService: unpack the request, hand the blocking work to
// the executor, map the result. Rules live in service::CardService.
#pragma once

#include <functional>

#include "common/executor.h"
#include "devcard/card/v1/card_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "service/card_service.h"

namespace card::rpc {

class CardServiceImpl final : public devcard::card::v1::CardService::CallbackService {
 public:
  CardServiceImpl(service::CardService* service, Executor* executor)
      : service_(service), executor_(executor) {}

  grpc::ServerUnaryReactor* CreateCard(
      grpc::CallbackServerContext* context,
      const devcard::card::v1::CreateCardRequest* request,
      devcard::card::v1::Card* response) override;
  grpc::ServerUnaryReactor* GetCard(grpc::CallbackServerContext* context,
                                    const devcard::card::v1::GetCardRequest* request,
                                    devcard::card::v1::Card* response) override;
  grpc::ServerUnaryReactor* ListCards(
      grpc::CallbackServerContext* context,
      const devcard::card::v1::ListCardsRequest* request,
      devcard::card::v1::ListCardsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateCard(
      grpc::CallbackServerContext* context,
      const devcard::card::v1::UpdateCardRequest* request,
      devcard::card::v1::Card* response) override;
  grpc::ServerUnaryReactor* DeleteCard(
      grpc::CallbackServerContext* context,
      const devcard::card::v1::DeleteCardRequest* request,
      google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* SetDefaultCard(
      grpc::CallbackServerContext* context,
      const devcard::card::v1::SetDefaultCardRequest* request,
      devcard::card::v1::Card* response) override;
  grpc::ServerUnaryReactor* GetDefaultCard(
      grpc::CallbackServerContext* context,
      const devcard::card::v1::GetDefaultCardRequest* request,
      devcard::card::v1::Card* response) override;
  grpc::ServerUnaryReactor* GetSharedCard(
      grpc::CallbackServerContext* context,
      const devcard::card::v1::GetSharedCardRequest* request,
      devcard::card::v1::Card* response) override;
  grpc::ServerUnaryReactor* CreatePlatformLink(
      grpc::CallbackServerContext* context,
      const devcard::card::v1::CreatePlatformLinkRequest* request,
      devcard::card::v1::PlatformLink* response) override;
  grpc::ServerUnaryReactor* ListPlatformLinks(
      grpc::CallbackServerContext* context,
      const devcard::card::v1::ListPlatformLinksRequest* request,
      devcard::card::v1::ListPlatformLinksResponse* response) override;
  grpc::ServerUnaryReactor* DeletePlatformLink(
      grpc::CallbackServerContext* context,
      const devcard::card::v1::DeletePlatformLinkRequest* request,
      google::protobuf::Empty* response) override;

 private:
  // Dispatches a call whose result is one card.
  grpc::ServerUnaryReactor* CardCall(
      grpc::CallbackServerContext* context, devcard::card::v1::Card* response,
      std::function<absl::StatusOr<model::Card>(absl::Time deadline)> work);

  // Runs `work` on the executor with the call's deadline and finishes the call
  // with its status. RESOURCE_EXHAUSTED if the executor's queue is full.
  grpc::ServerUnaryReactor* Dispatch(
      grpc::CallbackServerContext* context,
      std::function<absl::Status(absl::Time deadline)> work);

  service::CardService* service_;
  Executor* executor_;
};

}  // namespace card::rpc
