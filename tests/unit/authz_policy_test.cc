// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The gRFC A43 policy evaluator (server/security/authz_policy.h) on its own: what
// a policy file may say, and which calls each kind of rule lets through. The
// enforcement around it (handshakes, reloads, PERMISSION_DENIED, nothing
// written) is tests/tls_authz_pgtest.cc.
#include "server/security/authz_policy.h"

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace card::security {
namespace {

constexpr char kCards[] = "/devcard.card.v1.CardService/";

AuthzPolicy MustParse(const std::string& json) {
  absl::StatusOr<AuthzPolicy> policy = AuthzPolicy::Parse(json);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *std::move(policy)
                     : *AuthzPolicy::Parse(R"({"name":"x","allow_rules":[]})");
}

std::string ParseError(const std::string& json) {
  absl::StatusOr<AuthzPolicy> policy = AuthzPolicy::Parse(json);
  EXPECT_FALSE(policy.ok()) << json;
  return policy.ok() ? "" : std::string(policy.status().message());
}

// A caller over mutual TLS with a certificate carrying these names.
struct Caller {
  std::vector<std::string> uris;
  std::vector<std::string> dns;
  std::string subject = "CN=someone,O=cards";
  bool tls = true;
  bool certificate = true;
  std::vector<std::pair<std::string, std::string>> headers;

  AuthzRequest Calling(const std::string& path) const {
    AuthzRequest request;
    request.tls = tls;
    request.has_certificate = certificate;
    for (const std::string& uri : uris) request.uri_sans.push_back(uri);
    for (const std::string& name : dns) request.dns_sans.push_back(name);
    request.subject = subject;
    request.path = path;
    for (const auto& [key, value] : headers) request.headers.emplace_back(key, value);
    return request;
  }
};

Caller Spiffe(const std::string& id) {
  Caller caller;
  caller.uris = {id};
  return caller;
}

bool Allowed(const AuthzPolicy& policy, const Caller& caller, const std::string& path) {
  return policy.Evaluate(caller.Calling(path)).allowed;
}

TEST(AuthzPolicyParse, AcceptsTheA43Example) {
  // The example policy of gRFC A43 itself, unchanged.
  AuthzPolicy policy = MustParse(R"({
    "name": "example-policy",
    "allow_rules": [
      {"name": "admin-access",
       "source": {"principals": ["spiffe://foo.com/sa/admin1", "spiffe://foo.com/sa/admin2"]},
       "request": {"paths": ["/pkg.service/*"]}},
      {"name": "dev-access",
       "source": {"principals": ["*", ""]},
       "request": {"paths": ["/pkg.service/foo", "/pkg.service/bar"],
                   "headers": [{"key": "dev-path", "values": ["/dev/path/*"]}]}}
    ],
    "deny_rules": [{"name": "deny-access", "request": {"paths": ["*/secret"]}}]
  })");
  EXPECT_EQ(policy.name(), "example-policy");
  EXPECT_EQ(policy.deny_rule_count(), 1u);
  EXPECT_EQ(policy.allow_rule_count(), 2u);
  Caller admin = Spiffe("spiffe://foo.com/sa/admin1");
  EXPECT_TRUE(Allowed(policy, admin, "/pkg.service/anything"));
  EXPECT_FALSE(Allowed(policy, admin, "/pkg.service/secret"));  // Deny rules first.
  Caller dev = Spiffe("spiffe://foo.com/sa/dev");
  EXPECT_FALSE(Allowed(policy, dev, "/pkg.service/foo"));  // Header missing.
  dev.headers = {{"dev-path", "/dev/path/x"}};
  EXPECT_TRUE(Allowed(policy, dev, "/pkg.service/foo"));
  EXPECT_FALSE(Allowed(policy, dev, "/pkg.service/baz"));
}

TEST(AuthzPolicyParse, ErrorsNameTheField) {
  EXPECT_NE(ParseError("{").find("not a JSON object"), std::string::npos);
  EXPECT_NE(ParseError("[]").find("not a JSON object"), std::string::npos);
  EXPECT_EQ(ParseError(R"({"allow_rules": []})"), "name: missing");
  EXPECT_EQ(ParseError(R"({"name": 7, "allow_rules": []})"), "name: not a string");
  EXPECT_EQ(ParseError(R"({"name": "p"})"), "allow_rules: missing");
  EXPECT_EQ(ParseError(R"({"name": "p", "allow_rules": {}})"),
            "allow_rules: not an array");
  EXPECT_EQ(ParseError(R"({"name": "p", "allow_rules": [], "deny_rules": "x"})"),
            "deny_rules: not an array");
  EXPECT_EQ(ParseError(R"({"name": "p", "allow_rules": ["x"]})"),
            "allow_rules[0]: not an object");
  EXPECT_EQ(ParseError(R"({"name": "p", "allow_rules": [{}]})"),
            "allow_rules[0].name: missing");
  EXPECT_EQ(ParseError(R"({"name": "p", "allow_rules": [{"name": "a", "source": []}]})"),
            "allow_rules[0].source: not an object");
  EXPECT_EQ(ParseError(R"({"name": "p", "allow_rules": [
                {"name": "a"}, {"name": "b", "source": {"principals": ["x", 3]}}]})"),
            "allow_rules[1].source.principals[1]: not a string");
  EXPECT_EQ(ParseError(R"({"name": "p", "allow_rules": [
                {"name": "a", "request": {"paths": "/x"}}]})"),
            "allow_rules[0].request.paths: not an array");
  EXPECT_EQ(ParseError(R"({"name": "p", "allow_rules": [], "deny_rules": [
                {"name": "a", "request": {"headers": [{"key": "x"}]}}]})"),
            "deny_rules[0].request.headers[0].values: missing");
  EXPECT_EQ(ParseError(R"({"name": "p", "allow_rules": [
                {"name": "a", "request": {"headers": [{"key": "x", "values": []}]}}]})"),
            "allow_rules[0].request.headers[0].values: empty");
}

TEST(AuthzPolicyParse, RejectsHeadersA43CannotMatch) {
  for (const char* key : {":path", "grpc-timeout", "host", "Host", "connection", "te"}) {
    std::string json = std::string(R"({"name": "p", "allow_rules": [{"name": "a",
        "request": {"headers": [{"key": ")") +
                       key + R"(", "values": ["*"]}]}}]})";
    EXPECT_NE(ParseError(json).find("cannot be matched"), std::string::npos) << key;
  }
}

TEST(AuthzPolicyParse, RejectsUnknownFieldsInsteadOfIgnoringThem) {
  // A misspelt "principals" must not turn a restricted rule into an open one.
  EXPECT_EQ(ParseError(R"({"name": "p", "allow_rules": [
                {"name": "a", "source": {"principal": ["spiffe://x/sa/admin"]}}]})"),
            "allow_rules[0].source.principal: unknown field (a gRFC A43 policy has no "
            "such field here)");
  EXPECT_NE(ParseError(R"({"name": "p", "allow_rules": [], "audit_logging_options": {}})")
                .find("audit_logging_options: unknown field"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"name": "p", "allow_rules": [{"name": "a", "methods": []}]})")
                .find("allow_rules[0].methods: unknown field"),
            std::string::npos);
}

TEST(AuthzPolicyParse, RejectsDuplicateRuleNames) {
  // gRPC's translator keys rules by name, so a duplicate would silently drop one.
  EXPECT_EQ(ParseError(R"({"name": "p", "allow_rules": [{"name": "a"}, {"name": "a"}]})"),
            "allow_rules[1].name: \"a\" is used by an earlier rule");
}

TEST(AuthzPolicyEvaluate, NoAllowRuleMatchingMeansDenied) {
  AuthzPolicy nothing = MustParse(R"({"name": "p", "allow_rules": []})");
  AuthzDecision decision = nothing.Evaluate(Spiffe("spiffe://x/sa/a").Calling("/a/b"));
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.Reason(), "no allow rule matched");
}

TEST(AuthzPolicyEvaluate, DenyRulesWinOverAllowRules) {
  AuthzPolicy policy = MustParse(R"({"name": "p",
      "deny_rules": [{"name": "no-deletes", "request": {"paths": ["*Delete*", "*/DeleteCard"]}}],
      "allow_rules": [{"name": "everything"}]})");
  AuthzDecision decision = policy.Evaluate(
      Spiffe("spiffe://x/sa/a").Calling(std::string(kCards) + "DeleteCard"));
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.Reason(), "deny rule no-deletes");
  decision =
      policy.Evaluate(Spiffe("spiffe://x/sa/a").Calling(std::string(kCards) + "GetCard"));
  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.Reason(), "allow rule everything");
}

TEST(AuthzPolicyEvaluate, PatternsAreExactPrefixSuffixOrPresence) {
  AuthzPolicy policy = MustParse(R"({"name": "p", "allow_rules": [
      {"name": "exact", "source": {"principals": ["spiffe://x/sa/exact"]}},
      {"name": "prefix", "source": {"principals": ["spiffe://x/ns/team/*"]}},
      {"name": "suffix", "source": {"principals": ["*/sa/suffix"]}}]})");
  EXPECT_TRUE(Allowed(policy, Spiffe("spiffe://x/sa/exact"), "/a/b"));
  EXPECT_FALSE(Allowed(policy, Spiffe("spiffe://x/sa/exact2"), "/a/b"));
  EXPECT_FALSE(Allowed(policy, Spiffe("spiffe://x/sa/exac"), "/a/b"));
  EXPECT_TRUE(Allowed(policy, Spiffe("spiffe://x/ns/team/sa/any"), "/a/b"));
  EXPECT_FALSE(Allowed(policy, Spiffe("spiffe://x/ns/teams/sa/any"), "/a/b"));
  EXPECT_TRUE(Allowed(policy, Spiffe("spiffe://y/sa/suffix"), "/a/b"));
  EXPECT_FALSE(Allowed(policy, Spiffe("spiffe://y/sa/suffix/not"), "/a/b"));

  AuthzPolicy presence = MustParse(R"({"name": "p", "allow_rules": [
      {"name": "any-identity", "source": {"principals": ["*"]}}]})");
  EXPECT_TRUE(Allowed(presence, Spiffe("spiffe://anything"), "/a/b"));
  Caller no_certificate;
  no_certificate.certificate = false;
  EXPECT_FALSE(Allowed(presence, no_certificate, "/a/b"));
}

TEST(AuthzPolicyEvaluate, PrincipalsTryUriSansThenDnsSansThenSubject) {
  AuthzPolicy policy = MustParse(R"({"name": "p", "allow_rules": [
      {"name": "by-dns", "source": {"principals": ["worker.cards.internal"]},
       "request": {"paths": ["/dns"]}},
      {"name": "by-subject", "source": {"principals": ["CN=legacy,O=cards"]},
       "request": {"paths": ["/subject"]}}]})");
  Caller caller = Spiffe("spiffe://x/sa/worker");
  caller.dns = {"other.cards.internal", "worker.cards.internal"};
  caller.subject = "CN=legacy,O=cards";
  EXPECT_TRUE(Allowed(policy, caller, "/dns"));
  EXPECT_TRUE(Allowed(policy, caller, "/subject"));
  caller.dns.clear();
  caller.subject = "CN=other";
  EXPECT_FALSE(Allowed(policy, caller, "/dns"));
  EXPECT_FALSE(Allowed(policy, caller, "/subject"));
}

TEST(AuthzPolicyEvaluate, PrincipalsNeedTlsAndOnlyTheEmptyOneMatchesNoCertificate) {
  AuthzPolicy policy = MustParse(R"({"name": "p", "allow_rules": [
      {"name": "anonymous-tls", "source": {"principals": [""]}, "request": {"paths": ["/anon"]}},
      {"name": "open", "request": {"paths": ["/open"]}}]})");
  Caller anonymous;
  anonymous.certificate = false;
  anonymous.subject = "";
  EXPECT_TRUE(Allowed(policy, anonymous, "/anon"));
  EXPECT_FALSE(Allowed(policy, Spiffe("spiffe://x/sa/a"), "/anon"));
  Caller plaintext;
  plaintext.tls = false;
  plaintext.certificate = false;
  EXPECT_FALSE(Allowed(policy, plaintext, "/anon"));
  // A rule without a source applies to everyone, plaintext included.
  EXPECT_TRUE(Allowed(policy, plaintext, "/open"));
}

TEST(AuthzPolicyEvaluate, HeadersAreAndedTheirValuesOredRepeatsJoinedWithCommas) {
  AuthzPolicy policy = MustParse(R"({"name": "p", "allow_rules": [{"name": "h",
      "request": {"headers": [{"key": "X-Tenant", "values": ["blue", "green"]},
                              {"key": "x-env", "values": ["prod,canary"]}]}}]})");
  Caller caller = Spiffe("spiffe://x/sa/a");
  caller.headers = {{"x-tenant", "green"}, {"x-env", "prod"}, {"x-env", "canary"}};
  EXPECT_TRUE(Allowed(policy, caller, "/a/b"));
  caller.headers = {{"x-tenant", "red"}, {"x-env", "prod"}, {"x-env", "canary"}};
  EXPECT_FALSE(Allowed(policy, caller, "/a/b"));
  caller.headers = {{"x-tenant", "blue"}};
  EXPECT_FALSE(Allowed(policy, caller, "/a/b"));  // x-env missing.
}

// The policy the deployment files ship (deploy/authz/policy.json), as README's
// "Security" section describes it.
TEST(ShippedPolicy, GatewayWritesRendererReadsEveryWorkloadProbes) {
  std::ifstream file(std::string(CARD_SOURCE_DIR) + "/deploy/authz/policy.json");
  ASSERT_TRUE(file) << "deploy/authz/policy.json";
  std::stringstream json;
  json << file.rdbuf();
  AuthzPolicy policy = MustParse(json.str());
  Caller gateway = Spiffe("spiffe://cards.example/ns/gateway/sa/api-gateway");
  Caller renderer = Spiffe("spiffe://cards.example/ns/profiles/sa/profile-renderer");
  Caller prober = Spiffe("spiffe://cards.example/ns/monitoring/sa/prober");
  const std::string cards = kCards;
  for (const char* method :
       {"CreateCard", "GetCard", "ListCards", "UpdateCard", "DeleteCard",
        "SetDefaultCard", "GetDefaultCard", "GetSharedCard", "CreatePlatformLink",
        "ListPlatformLinks", "DeletePlatformLink"}) {
    EXPECT_TRUE(Allowed(policy, gateway, cards + method)) << method;
    EXPECT_FALSE(Allowed(policy, prober, cards + method)) << method;
  }
  for (const char* method :
       {"GetCard", "ListCards", "GetDefaultCard", "GetSharedCard", "ListPlatformLinks"}) {
    EXPECT_TRUE(Allowed(policy, renderer, cards + method)) << method;
  }
  for (const char* method : {"CreateCard", "UpdateCard", "DeleteCard", "SetDefaultCard",
                             "CreatePlatformLink", "DeletePlatformLink"}) {
    EXPECT_FALSE(Allowed(policy, renderer, cards + method)) << method;
  }
  for (const Caller& caller : {gateway, renderer, prober}) {
    EXPECT_TRUE(Allowed(policy, caller, "/grpc.health.v1.Health/Check"));
    EXPECT_TRUE(
        Allowed(policy, caller,
                "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"));
    EXPECT_TRUE(Allowed(policy, caller,
                        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"));
  }
  Caller anonymous;
  anonymous.certificate = false;
  EXPECT_FALSE(Allowed(policy, anonymous, "/grpc.health.v1.Health/Check"));
}

}  // namespace
}  // namespace card::security
