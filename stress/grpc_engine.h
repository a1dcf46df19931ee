// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The default load engine (--engine=grpc): gRPC's C++ callback API, no thread
// per request, over --connections channels per target.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/rpc_method.h"
#include "stress/config.h"
#include "stress/load_engine.h"

namespace card::stress {

// Channels to every target, `connections` each, all connected before return:
// the client library's CreateChannel (TLS as flagged) with gRPC's own retries
// off, each channel on a TCP connection of its own. The verifier reads back
// through them whichever engine sent the load.
absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> ConnectChannels(
    const Config& config);

class GrpcEngine : public LoadEngine {
 public:
  explicit GrpcEngine(std::vector<std::shared_ptr<grpc::Channel>> channels);

  void Send(const Operation& operation, const google::protobuf::Message& request,
            google::protobuf::Message* response, absl::Duration timeout, DoneFn done,
            void* arg) override;

 private:
  struct Call;
  size_t PickChannel();
  bool Usable(size_t index);

  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  // methods_[channel][kind]: each method registered once per channel, as the
  // generated stubs do, keyed by the operation table's path.
  std::vector<std::vector<grpc::internal::RpcMethod>> methods_;
  std::atomic<uint64_t> next_channel_{0};
  // Channels whose last call ended UNAVAILABLE (a killed replica): skipped
  // until they are READY again, so healthy ones cost no state lookup per call.
  std::unique_ptr<std::atomic<bool>[]> suspect_;
};

}  // namespace card::stress
