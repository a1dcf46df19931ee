// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// A gRPC authorization policy (gRFC A43, "gRPC authorization API"): which
// callers may call which methods. The file format is A43's JSON, unchanged,
// so a policy written for this server works as is with a gRPC build that
// ships the A43 provider (grpc::experimental::FileWatcherAuthorizationPolicyProvider).
//
// Why the evaluation lives here and not in gRPC: Debian bookworm's gRPC 1.51
// ships the provider's header but not the provider (no
// grpc_authorization_policy_provider_*_create, no rbac_translator in
// libgrpc), and its built-in RBAC engine is reachable only through internal
// channel arguments. README.md ("Security") has the details.
//
// Semantics, as A43 states them:
//  * Deny rules first: a call matching any deny rule is denied. Otherwise a
//    call matching any allow rule is allowed. Otherwise it is denied.
//  * A rule matches when its source and its request both match; a missing or
//    empty part matches everything.
//  * source.principals (ORed): without TLS nothing matches; without a client
//    certificate only "" matches; otherwise a principal matches any of the
//    certificate's URI SANs, then any DNS SAN, then the subject.
//  * request.paths (ORed) match "/package.Service/Method"; request.headers are
//    ANDed, each header's values ORed, a repeated header read as its values
//    joined with ",".
//  * Every string pattern is exact ("abc"), prefix ("abc*"), suffix ("*abc")
//    or presence ("*": any non-empty value).
// Stricter than the letter of A43 where that fails closed: unknown fields and
// duplicate rule names make the policy invalid (a field this server does not
// evaluate must not be silently ignored).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/security/peer_identity.h"

namespace card::security {

// The facts about one call that a policy looks at: who calls (PeerIdentity),
// what and with which headers. Views into the caller's data: valid while
// Evaluate runs.
struct AuthzRequest : PeerIdentity {
  absl::string_view path;  // "/devcard.card.v1.CardService/GetCard"
  // Request headers, names in lower case, repeated names in arrival order.
  std::vector<std::pair<absl::string_view, absl::string_view>> headers;
};

struct AuthzDecision {
  bool allowed = false;
  // The name of the rule that decided (owned by the policy); null when the
  // call was denied because no allow rule matched.
  const std::string* rule = nullptr;
  // "deny rule NAME", "allow rule NAME" or "no allow rule matched".
  std::string Reason() const;
};

class AuthzPolicy {
 public:
  // INVALID_ARGUMENT naming the offending field ("allow_rules[1].source.principals[0]:
  // ...").
  static absl::StatusOr<AuthzPolicy> Parse(absl::string_view json);

  AuthzDecision Evaluate(const AuthzRequest& request) const;

  const std::string& name() const { return name_; }
  size_t deny_rule_count() const { return deny_rules_.size(); }
  size_t allow_rule_count() const { return allow_rules_.size(); }

  // A43 string pattern: exact, prefix, suffix or presence.
  class Pattern {
   public:
    explicit Pattern(absl::string_view pattern);
    bool Matches(absl::string_view value) const;

   private:
    enum class Kind { kExact, kPrefix, kSuffix, kPresence };
    Kind kind_;
    std::string text_;
  };

  struct HeaderRule {
    std::string key;  // Lower case.
    std::vector<Pattern> values;
  };

  struct Rule {
    std::string name;
    std::vector<Pattern> principals;  // Empty: any caller.
    std::vector<Pattern> paths;       // Empty: any method.
    std::vector<HeaderRule> headers;  // Empty: no header condition.
    bool Matches(const AuthzRequest& request) const;
  };

 private:
  std::string name_;
  std::vector<Rule> deny_rules_;
  std::vector<Rule> allow_rules_;
};

}  // namespace card::security
