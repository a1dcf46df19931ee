// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Counts and logs every call of every served service exactly once: the gRPC
// metrics of server/observability/server_metrics.h and, with --access_log, one log line
// per call (every error, a sample of the OK ones).
//
// Messages received and sent (grpc_server_msg_*_total) are counted at the
// POST_RECV_MESSAGE and POST_SEND_MESSAGE hook points, only when a message
// really arrived or its send succeeded.
//
// Mechanism: a server interceptor (gRPC's ServerInterceptorFactoryInterface),
// so the same code sees CardService's raw callback methods and gRPC's
// built-in health and reflection services. A call is started when its
// interceptor is created, handled when its status is sent (or, if it never
// is, when the call is destroyed: counted as Canceled). A call the
// authorization policy denies never reaches an interceptor (the auth filter
// answers it); the AuthzEnforcer reports it through CountDenied instead.
//
// Calls to methods the server does not serve are logged but not counted: their
// names come from the caller and would make the series unbounded.
//
// An access log line holds the method, the gRPC code, the duration, the peer
// address and, over TLS, the caller's certificate identity (behind a trusted
// proxy, the certificate it forwarded: server/security/forwarded_identity.h). Never the
// request or response: neither is read here.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/support/server_interceptor.h"
#include "server/observability/server_metrics.h"
#include "server/security/forwarded_identity.h"

namespace card::observability {

struct AccessLogOptions {
  bool enabled = false;
  // Fraction of OK calls logged (0..1); every error is logged.
  double ok_sample_rate = 1.0;
};

class GrpcCallObserver {
 public:
  // `metrics` may be null (no metrics served); outlives this. `proxies`: whose
  // forwarded client certificates name the caller in the access log (null: none).
  GrpcCallObserver(ServerMetrics* metrics, AccessLogOptions access_log,
                   std::shared_ptr<const security::ProxyTrust> proxies = nullptr);

  // For ServerBuilder::experimental().SetInterceptorCreators; the factory
  // refers to this observer, which must outlive the server.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  InterceptorFactory();

  // A call to `path` was refused by the authorization policy; `caller` is its
  // certificate identity.
  void CountDenied(absl::string_view path, absl::string_view caller);

  // Who made a call, for its access log line.
  struct CallParty {
    std::string peer;    // e.g. "ipv4:10.0.0.7:51234"
    std::string caller;  // certificate identity; "" without TLS
  };
  // Counts one finished call (`metrics` null: a method not served) and logs it
  // if `logged_party` is set (decided by ShouldLog).
  void Finished(const std::string& path, const MethodMetrics* metrics,
                grpc::StatusCode code, absl::Duration took,
                const CallParty* logged_party);

  // Whether this finished call gets an access log line.
  bool ShouldLog(grpc::StatusCode code);

  bool counting() const { return metrics_ != nullptr; }
  bool logging() const { return access_log_.enabled; }
  const security::ProxyTrust* proxies() const { return proxies_.get(); }
  const MethodMetrics* Find(const std::string& path) const {
    return metrics_ == nullptr ? nullptr : metrics_->Find(path);
  }

 private:
  ServerMetrics* const metrics_;
  const AccessLogOptions access_log_;
  const std::shared_ptr<const security::ProxyTrust> proxies_;
  std::atomic<uint64_t> ok_calls_{0};
};

}  // namespace card::observability
