// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Client side of devcard.card.v1.CardService, shared by cardctl and
// card-stress so that both reach a server the same way: a channel factory that
// declares the retry policy in the channel's service config (and sets up TLS),
// a small synchronous CardClient whose every call carries a deadline, and the
// one table of status-code names both print.
//
// card-stress builds its load channels with CreateChannel (it drives the async
// callback API itself) and reads back through CardClient; cardctl uses
// CardClient for everything.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "devcard/card/v1/card_service.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace card::client {

namespace v1 = devcard::card::v1;

struct ClientOptions {
  std::string target = "127.0.0.1:50051";      // host:port or any gRPC target URI.
  absl::Duration timeout = absl::Seconds(10);  // Deadline of each call.
  bool tls = false;
  std::string tls_ca_file;      // PEM roots; empty: the system's roots.
  std::string tls_server_name;  // Name checked against the certificate, if not the host.
  // The client's own certificate chain and key (PEM), for servers that require
  // one (mutual TLS): its URI SAN is the identity the server's policy sees.
  std::string tls_cert_file;
  std::string tls_key_file;
  // gRPC's retry policy (ServiceConfigJson) on the channel. card-stress turns it
  // off: it retries on its own with the same request_id and counts each retry,
  // and gRPC's retries would only add per-call buffering and hide attempts.
  bool retries = true;
};

// The channel's service config (JSON): retries on UNAVAILABLE, with backoff,
// for the methods that are safe to resend (see the .cc for which and why).
const std::string& ServiceConfigJson();

// A channel to options.target with TLS or plaintext credentials and, if
// options.retries, the service config above (otherwise gRPC's retries are
// off). `args` lets callers add channel arguments (e.g. to keep several
// channels on separate connections). Fails only if a TLS file cannot be read
// or the TLS options contradict each other (a certificate without --tls, a
// certificate without its key).
absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateChannel(
    const ClientOptions& options, grpc::ChannelArguments args = {});

// "INVALID_ARGUMENT", "NOT_FOUND", ...; "UNKNOWN" for a number outside 0..16.
// gRPC and Abseil number their codes alike, so Abseil's names serve both.
std::string StatusCodeName(grpc::StatusCode code);

// Typed, blocking calls. Each sets the deadline now + timeout; errors come back
// as grpc::Status with the server's error details intact.
class CardClient {
 public:
  CardClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);

  // CreateChannel + CardClient.
  static absl::StatusOr<std::unique_ptr<CardClient>> Connect(
      const ClientOptions& options);

  grpc::Status CreateCard(const v1::CreateCardRequest& request, v1::Card* card);
  grpc::Status GetCard(const v1::GetCardRequest& request, v1::Card* card);
  grpc::Status ListCards(const v1::ListCardsRequest& request,
                         v1::ListCardsResponse* response);
  grpc::Status UpdateCard(const v1::UpdateCardRequest& request, v1::Card* card);
  grpc::Status DeleteCard(const v1::DeleteCardRequest& request);
  grpc::Status SetDefaultCard(const v1::SetDefaultCardRequest& request, v1::Card* card);
  grpc::Status GetDefaultCard(const v1::GetDefaultCardRequest& request, v1::Card* card);
  grpc::Status GetSharedCard(const v1::GetSharedCardRequest& request,
                             v1::SharedCard* card);
  grpc::Status CreatePlatformLink(const v1::CreatePlatformLinkRequest& request,
                                  v1::PlatformLink* link);
  grpc::Status ListPlatformLinks(const v1::ListPlatformLinksRequest& request,
                                 v1::ListPlatformLinksResponse* response);
  grpc::Status DeletePlatformLink(const v1::DeletePlatformLinkRequest& request);

  // Every page, in order (page_size 0 leaves the page size to the server),
  // through ReadAllPages (client/paging.h).
  grpc::Status ListAllCards(const std::string& user_id, int page_size,
                            std::vector<v1::Card>* cards);
  grpc::Status ListAllPlatformLinks(const std::string& user_id, int page_size,
                                    std::vector<v1::PlatformLink>* links);

  // grpc.health.v1.Health/Check; "" is the server as a whole.
  grpc::Status CheckHealth(const std::string& service,
                           grpc::health::v1::HealthCheckResponse* response);

 private:
  std::unique_ptr<grpc::ClientContext> NewContext() const;

  absl::Duration timeout_;
  std::unique_ptr<v1::CardService::Stub> stub_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

}  // namespace card::client
