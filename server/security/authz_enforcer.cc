// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/security/authz_enforcer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/types/optional.h"
#include "server/common/log.h"
#include "server/common/read_file.h"

namespace card::security {
namespace {

// A policy is a few kilobytes; anything near this is a mistake.
constexpr size_t kMaxPolicyBytes = 1 << 20;

// The status C-core's own A43 filter answers with, so callers see the same
// thing whichever enforces the policy.
const grpc::Status& Denied() {
  static const grpc::Status* const kDenied = new grpc::Status(
      grpc::StatusCode::PERMISSION_DENIED, "Unauthorized RPC request rejected.");
  return *kDenied;
}

absl::string_view View(const grpc::string_ref& ref) { return {ref.data(), ref.size()}; }

std::string Now() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<std::shared_ptr<AuthzEnforcer>> AuthzEnforcer::Create(
    const std::string& path, absl::Duration reload_interval, DenialObserver on_denied,
    std::shared_ptr<const ProxyTrust> proxies) {
  absl::StatusOr<std::string> contents = ReadFileUpTo(path, kMaxPolicyBytes);
  if (!contents.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("security.authz_policy_file: ", contents.status().message()));
  }
  absl::StatusOr<AuthzPolicy> policy = AuthzPolicy::Parse(*contents);
  if (!policy.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "security.authz_policy_file ", path,
        " is not a valid gRPC authorization policy: ", policy.status().message()));
  }
  std::shared_ptr<AuthzEnforcer> enforcer(
      new AuthzEnforcer(path, *std::move(contents),
                        std::make_shared<const AuthzPolicy>(*std::move(policy))));
  enforcer->on_denied_ = std::move(on_denied);
  enforcer->proxies_ = std::move(proxies);
  AuthzEnforcer* self = enforcer.get();
  enforcer->reloader_ =
      std::make_unique<PeriodicTask>(reload_interval, [self] { self->Reload(); });
  return enforcer;
}

AuthzEnforcer::AuthzEnforcer(std::string path, std::string contents,
                             std::shared_ptr<const AuthzPolicy> policy)
    : path_(std::move(path)),
      policy_(std::move(policy)),
      policy_loaded_at_(Now()),
      last_contents_(std::move(contents)) {
  log::Info(absl::StrCat("authz: enforcing policy \"", policy_->name(), "\" from ", path_,
                         " (", policy_->deny_rule_count(), " deny, ",
                         policy_->allow_rule_count(), " allow rule(s))"));
}

AuthzEnforcer::~AuthzEnforcer() {
  if (reloader_) reloader_->Stop();
}

std::shared_ptr<const AuthzPolicy> AuthzEnforcer::policy() const {
  absl::MutexLock lock(&mu_);
  return policy_;
}

std::string AuthzEnforcer::policy_name() const { return policy()->name(); }

grpc::Status AuthzEnforcer::Process(const InputMetadata& metadata,
                                    grpc::AuthContext* context, OutputMetadata* consumed,
                                    OutputMetadata* response) {
  (void)response;
  AuthzRequest request;
  static_cast<PeerIdentity&>(request) = PeerIdentityOf(*context);
  request.headers.reserve(metadata.size());
  absl::optional<absl::string_view> forwarded_header;
  for (const auto& [key, value] : metadata) {
    if (key == ":path") request.path = View(value);
    if (key == kForwardedClientCertHeader) {
      forwarded_header = View(value);
      continue;  // Never a header a policy could match on.
    }
    request.headers.emplace_back(View(key), View(value));
  }
  // Keeps the views of a forwarded caller's names alive through the decision.
  std::shared_ptr<const ForwardedCertificate> forwarded;
  std::string refusal;
  if (proxies_ != nullptr && proxies_->IsProxy(request)) {
    absl::StatusOr<std::shared_ptr<const ForwardedCertificate>> parsed =
        forwarded_header.has_value()
            ? proxies_->Parse(*forwarded_header)
            : absl::InvalidArgumentError("the proxy forwarded no client certificate");
    if (parsed.ok()) {
      forwarded = *std::move(parsed);
      static_cast<PeerIdentity&>(request) = forwarded->View();
    } else {
      refusal = std::string(parsed.status().message());
    }
  } else if (forwarded_header.has_value()) {
    // Only a trusted proxy may speak for somebody else: drop the claim so no
    // later reader (the access log) mistakes it for the caller.
    consumed->emplace(kForwardedClientCertHeader, std::string(*forwarded_header));
  }
  std::shared_ptr<const AuthzPolicy> policy = this->policy();
  AuthzDecision decision;
  if (refusal.empty()) decision = policy->Evaluate(request);
  if (decision.allowed) return grpc::Status::OK;
  std::string caller = CallerName(request);
  if (!refusal.empty()) absl::StrAppend(&caller, " (proxy): ", refusal);
  if (on_denied_) on_denied_(request.path, caller);
  // Who and what, never the request: the message has not even been read.
  denials_.Warning(absl::StrCat(
      "authz: denied ", caller, " calling ", QuotedForLog(request.path), " (policy \"",
      policy->name(), "\": ", refusal.empty() ? decision.Reason() : "refused", ")"));
  return Denied();
}

void AuthzEnforcer::Reload() {
  absl::MutexLock reloading(&reload_mu_);
  denials_.Flush();
  absl::StatusOr<std::string> contents = ReadFileUpTo(path_, kMaxPolicyBytes);
  if (!contents.ok()) {
    std::string error(contents.status().message());
    if (error != last_read_error_) {
      log::Warning(absl::StrCat("authz: ", error, "; still enforcing policy \"",
                                policy_name(), "\""));
    }
    last_read_error_ = error;
    return;
  }
  last_read_error_.clear();
  if (*contents == last_contents_) return;
  last_contents_ = *contents;
  absl::StatusOr<AuthzPolicy> parsed = AuthzPolicy::Parse(*contents);
  if (!parsed.ok()) {
    absl::MutexLock lock(&mu_);
    log::Warning(absl::StrCat("authz: ", path_,
                              " changed but is not a valid gRPC authorization policy (",
                              parsed.status().message(), "); still enforcing policy \"",
                              policy_->name(), "\" loaded ", policy_loaded_at_));
    return;
  }
  auto policy = std::make_shared<const AuthzPolicy>(*std::move(parsed));
  log::Info(absl::StrCat("authz: policy \"", policy->name(), "\" reloaded from ", path_,
                         " (", policy->deny_rule_count(), " deny, ",
                         policy->allow_rule_count(), " allow rule(s))"));
  absl::MutexLock lock(&mu_);
  policy_ = std::move(policy);
  policy_loaded_at_ = Now();
}

}  // namespace card::security
