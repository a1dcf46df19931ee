// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "stress/grpc_engine.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/card_client.h"
#include "grpcpp/support/client_callback.h"

namespace card::stress {

absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> ConnectChannels(
    const Config& config) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int c = 0; c < config.connections; ++c) {
    for (const std::string& target : config.targets) {
      client::ClientOptions options;
      options.target = target;
      options.tls = config.tls;
      options.tls_ca_file = config.tls_ca_file;
      options.tls_server_name = config.tls_server_name;
      options.tls_cert_file = config.tls_cert_file;
      options.tls_key_file = config.tls_key_file;
      // card-stress retries itself (same request_id, counted in the report).
      options.retries = false;
      grpc::ChannelArguments args;
      // Distinct arguments and a local subchannel pool: one TCP connection each.
      args.SetInt("card.stress.channel", static_cast<int>(channels.size()));
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetMaxReceiveMessageSize(64 << 20);
      absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
          client::CreateChannel(options, args);
      if (!channel.ok()) return channel.status();
      channels.push_back(*std::move(channel));
    }
  }
  auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(10);
  for (size_t i = 0; i < channels.size(); ++i) {
    if (!channels[i]->WaitForConnected(deadline)) {
      return absl::UnavailableError(
          absl::StrCat("cannot connect to ", config.targets[i % config.targets.size()]));
    }
  }
  return channels;
}

// One call in flight: gRPC wants a ClientContext per attempt, alive until the
// completion runs.
struct GrpcEngine::Call {
  grpc::ClientContext context;
  GrpcEngine* engine = nullptr;
  size_t channel = 0;
  DoneFn done = nullptr;
  void* arg = nullptr;
};

GrpcEngine::GrpcEngine(std::vector<std::shared_ptr<grpc::Channel>> channels)
    : channels_(std::move(channels)) {
  suspect_ = std::make_unique<std::atomic<bool>[]>(channels_.size());
  for (const auto& channel : channels_) {
    std::vector<grpc::internal::RpcMethod> methods;
    for (OpKind kind : kAllOpKinds) {
      methods.emplace_back(OperationOf(kind).method,
                           grpc::internal::RpcMethod::NORMAL_RPC, channel);
    }
    methods_.push_back(std::move(methods));
  }
}

void GrpcEngine::Send(const Operation& operation,
                      const google::protobuf::Message& request,
                      google::protobuf::Message* response, absl::Duration timeout,
                      DoneFn done, void* arg) {
  auto* call = new Call;
  call->engine = this;
  call->channel = PickChannel();
  call->done = done;
  call->arg = arg;
  call->context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  // The call the generated stubs make, on the message base classes, so one
  // path serves every operation of the table.
  grpc::internal::CallbackUnaryCall<google::protobuf::Message, google::protobuf::Message,
                                    google::protobuf::MessageLite,
                                    google::protobuf::MessageLite>(
      channels_[call->channel].get(),
      methods_[call->channel][static_cast<int>(operation.kind)], &call->context, &request,
      response, [call](grpc::Status status) {
        if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
          call->engine->suspect_[call->channel].store(true, std::memory_order_relaxed);
        }
        DoneFn call_done = call->done;
        void* call_arg = call->arg;
        delete call;
        call_done(call_arg, status);
      });
}

// Whether to send on channel `index` now. Only a suspect channel pays for a
// connectivity-state lookup (a channel lock); it is trusted again once READY.
bool GrpcEngine::Usable(size_t index) {
  if (!suspect_[index].load(std::memory_order_relaxed)) return true;
  if (channels_[index]->GetState(/*try_to_connect=*/true) != GRPC_CHANNEL_READY) {
    return false;
  }
  suspect_[index].store(false, std::memory_order_relaxed);
  return true;
}

// Round robin over the channels, passing over any whose connection is down
// (a killed replica), so calls land on a live one.
size_t GrpcEngine::PickChannel() {
  const size_t count = channels_.size();
  const size_t start = next_channel_.fetch_add(1, std::memory_order_relaxed);
  for (size_t i = 0; i < count; ++i) {
    size_t index = (start + i) % count;
    if (Usable(index)) return index;
  }
  return start % count;
}

}  // namespace card::stress
