// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/observability/grpc_call_observer.h"

#include <chrono>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "grpcpp/server_context.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "server/common/log.h"
#include "server/security/peer_identity.h"

namespace card::observability {
namespace {

using grpc::experimental::InterceptionHookPoints;

// The caller's certificate identity, or "" without TLS. Behind a trusted
// proxy, the certificate it forwarded (the enforcer already refused calls
// whose forwarded certificate does not parse, when a policy is enforced).
std::string CallerIdentity(grpc::ServerContextBase* context,
                           const security::ProxyTrust* proxies) {
  std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
  if (auth == nullptr) return "";
  security::PeerIdentity caller = security::PeerIdentityOf(*auth);
  if (!caller.tls) return "";
  if (proxies == nullptr || !proxies->IsProxy(caller))
    return security::CallerName(caller);
  const auto& metadata = context->client_metadata();
  auto header = metadata.find(security::kForwardedClientCertHeader);
  if (header == metadata.end())
    return security::CallerName(caller) + " (proxy, no caller)";
  auto forwarded = proxies->Parse({header->second.data(), header->second.size()});
  if (!forwarded.ok())
    return security::CallerName(caller) + " (proxy, unreadable caller)";
  return security::CallerName((*forwarded)->View());
}

// One call: created when the call arrives, destroyed with it.
class CallInterceptor final : public grpc::experimental::Interceptor {
 public:
  CallInterceptor(GrpcCallObserver* observer, grpc::experimental::ServerRpcInfo* info,
                  const MethodMetrics* metrics)
      : observer_(observer),
        context_(info->server_context()),
        path_(info->method() == nullptr ? "" : info->method()),
        metrics_(metrics),
        start_(std::chrono::steady_clock::now()) {
    if (metrics_ != nullptr) metrics_->started->Increment();
  }

  ~CallInterceptor() override {
    // Never sent a status (e.g. the transport went away first).
    if (!finished_) Finish(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (metrics_ != nullptr) CountMessages(methods);
    if (!finished_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Finish(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  // go-grpc-prometheus counts a message when RecvMsg or SendMsg returns no
  // error; the POST_ hook points are where gRPC C++ says the same. A unary
  // callback call sends its response in one batch with its status, so the
  // message is counted once that batch completed, after the status was
  // counted as handled: a scrape may see handled before sent. A send that
  // failed (the call was cancelled or the transport went away first) sent
  // nothing. A read that got no message (the stream ended), or a typed
  // method's message that did not parse, has GetRecvMessage() null. But
  // CardService's methods and gRPC's health service take raw ByteBuffers, and
  // gRPC hands them an (empty) buffer even for a unary request that arrived
  // with no message at all: seen with a python grpcio client half-closing at
  // once, counted received and answered InvalidArgument. Only a non-conforming
  // client does that; telling the cases apart here would mean guessing each
  // method's message type. Two branches and at most one atomic add per batch:
  // the labels were resolved at start-up.
  void CountMessages(grpc::experimental::InterceptorBatchMethods* methods) {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() != nullptr) {
      metrics_->msg_received->Increment();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_SEND_MESSAGE) &&
        methods->GetSendMessageStatus()) {
      metrics_->msg_sent->Increment();
    }
  }

  void Finish(grpc::StatusCode code) {
    finished_ = true;
    absl::Duration took = absl::FromChrono(std::chrono::steady_clock::now() - start_);
    if (!observer_->ShouldLog(code)) {
      observer_->Finished(path_, metrics_, code, took, nullptr);
      return;
    }
    GrpcCallObserver::CallParty party{context_->peer(),
                                      CallerIdentity(context_, observer_->proxies())};
    observer_->Finished(path_, metrics_, code, took, &party);
  }

  GrpcCallObserver* const observer_;
  grpc::ServerContextBase* const context_;
  const std::string path_;
  const MethodMetrics* const metrics_;
  const std::chrono::steady_clock::time_point start_;
  bool finished_ = false;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(GrpcCallObserver* observer) : observer_(observer) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    const MethodMetrics* metrics =
        info->method() == nullptr ? nullptr : observer_->Find(info->method());
    if (metrics == nullptr && !observer_->logging()) return nullptr;
    return new CallInterceptor(observer_, info, metrics);
  }

 private:
  GrpcCallObserver* const observer_;
};

}  // namespace

GrpcCallObserver::GrpcCallObserver(ServerMetrics* metrics, AccessLogOptions access_log,
                                   std::shared_ptr<const security::ProxyTrust> proxies)
    : metrics_(metrics), access_log_(access_log), proxies_(std::move(proxies)) {}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcCallObserver::InterceptorFactory() {
  return std::make_unique<Factory>(this);
}

bool GrpcCallObserver::ShouldLog(grpc::StatusCode code) {
  if (!access_log_.enabled) return false;
  if (code != grpc::StatusCode::OK) return true;
  // Exactly every 1/rate-th OK call: the n-th is logged when n * rate crosses
  // an integer. No randomness, no lock.
  uint64_t n = ok_calls_.fetch_add(1, std::memory_order_relaxed);
  double rate = access_log_.ok_sample_rate;
  return static_cast<uint64_t>((n + 1) * rate) > static_cast<uint64_t>(n * rate);
}

void GrpcCallObserver::Finished(const std::string& path, const MethodMetrics* metrics,
                                grpc::StatusCode code, absl::Duration took,
                                const CallParty* logged_party) {
  if (metrics != nullptr && IsKnownGrpcCode(code)) {
    metrics->handled[static_cast<size_t>(code)]->Increment();
    metrics->handling_seconds->Observe(absl::ToDoubleSeconds(took));
  }
  if (logged_party == nullptr) return;
  std::string code_name = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  double duration_ms = absl::ToDoubleMilliseconds(took);
  if (logged_party->caller.empty()) {
    log::Info("rpc", {{"method", path},
                      {"code", code_name},
                      {"duration_ms", duration_ms},
                      {"peer", logged_party->peer}});
  } else {
    log::Info("rpc", {{"method", path},
                      {"code", code_name},
                      {"duration_ms", duration_ms},
                      {"peer", logged_party->peer},
                      {"caller", logged_party->caller}});
  }
}

void GrpcCallObserver::CountDenied(absl::string_view path, absl::string_view caller) {
  std::string method(path);
  const MethodMetrics* metrics = Find(method);
  if (metrics != nullptr) metrics->started->Increment();
  // The auth filter does not tell the peer's address.
  CallParty party{"", std::string(caller)};
  Finished(method, metrics, grpc::StatusCode::PERMISSION_DENIED, absl::ZeroDuration(),
           ShouldLog(grpc::StatusCode::PERMISSION_DENIED) ? &party : nullptr);
}

}  // namespace card::observability
