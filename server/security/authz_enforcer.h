// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Enforces --authz_policy_file (a gRFC A43 policy, server/security/authz_policy.h) on
// every call to every service on the port: CardService, health, reflection,
// and any method name a caller makes up.
//
// It is a grpc::AuthMetadataProcessor, gRPC's public hook that runs in the
// server's auth filter before a call reaches any service: it sees the
// caller's verified TLS identity (AuthContext), the method (":path") and the
// headers, never the request message, and a non-OK status it returns is what
// the caller gets. A denied call is answered PERMISSION_DENIED and never
// reaches a handler, so it cannot write anything. gRPC attaches processors to
// secure credentials only, which suits the policy: without TLS there is no
// caller identity to authorize.
//
// The file is re-read every reload interval; a valid new policy replaces the
// old one at once, an invalid or unreadable one is logged and ignored (the
// last valid policy stays in force), as A43 prescribes for its file watcher.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/auth_metadata_processor.h"
#include "server/common/rate_limited_log.h"
#include "server/exec/periodic_task.h"
#include "server/security/authz_policy.h"
#include "server/security/forwarded_identity.h"

namespace card::security {

// Hears every denied call: its path and the caller's identity (CallerName).
// Such a call never reaches a service or an interceptor, so this is where the
// metrics and the access log learn of it. Called on gRPC's thread; must not block.
using DenialObserver =
    std::function<void(absl::string_view path, absl::string_view caller)>;

class AuthzEnforcer : public grpc::AuthMetadataProcessor {
 public:
  // Reads and parses `path`. INVALID_ARGUMENT naming the file and the field if
  // it cannot be read or is not a valid policy (start-up must stop then).
  static absl::StatusOr<std::shared_ptr<AuthzEnforcer>> Create(
      const std::string& path, absl::Duration reload_interval,
      DenialObserver on_denied = nullptr,
      std::shared_ptr<const ProxyTrust> proxies = nullptr);
  ~AuthzEnforcer() override;

  // Evaluation takes microseconds and takes no lock a call could wait on for
  // long, so it runs inline on gRPC's thread instead of a thread pool hop.
  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed, OutputMetadata* response) override;

  // Re-reads the file now (the reload task calls this). Public for tests.
  void Reload() ABSL_LOCKS_EXCLUDED(reload_mu_, mu_);

  std::string policy_name() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  AuthzEnforcer(std::string path, std::string contents,
                std::shared_ptr<const AuthzPolicy> policy);
  std::shared_ptr<const AuthzPolicy> policy() const ABSL_LOCKS_EXCLUDED(mu_);

  const std::string path_;
  // Held only to swap or copy the pointer: calls evaluate their own copy.
  mutable absl::Mutex mu_;
  std::shared_ptr<const AuthzPolicy> policy_ ABSL_GUARDED_BY(mu_);
  std::string policy_loaded_at_ ABSL_GUARDED_BY(mu_);
  // One Reload at a time (the reload task's, or a test's). Taken before mu_.
  absl::Mutex reload_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // The file as last read (valid or not) and the last read error, so each
  // change is logged once.
  std::string last_contents_ ABSL_GUARDED_BY(reload_mu_);
  std::string last_read_error_ ABSL_GUARDED_BY(reload_mu_);
  RateLimitedLog denials_{"denied calls", 10, absl::Seconds(1)};
  DenialObserver on_denied_;                   // Set once, before the first call.
  std::shared_ptr<const ProxyTrust> proxies_;  // Set once; null: no proxy is trusted.
  std::unique_ptr<PeriodicTask> reloader_;     // Last: stops before the rest goes.
};

}  // namespace card::security
