// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/security/authz_policy.h"

#include <algorithm>
#include <initializer_list>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace card::security {
namespace {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;

absl::Status Invalid(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

std::string Field(absl::string_view where, absl::string_view key) {
  return where.empty() ? std::string(key) : absl::StrCat(where, ".", key);
}

// A field this server does not evaluate could be a condition the author relies
// on (a newer A43 field, a typo of "principals"): refuse rather than ignore it.
absl::Status CheckKnownFields(const Struct& object, absl::string_view where,
                              std::initializer_list<absl::string_view> known) {
  std::set<std::string> unknown;
  for (const auto& [key, unused] : object.fields()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) unknown.insert(key);
  }
  if (unknown.empty()) return absl::OkStatus();
  return Invalid(Field(where, *unknown.begin()),
                 "unknown field (a gRFC A43 policy has no such field here)");
}

// The list at object[key]; nullptr when absent.
absl::StatusOr<const ListValue*> OptionalList(const Struct& object, absl::string_view key,
                                              absl::string_view where) {
  auto it = object.fields().find(std::string(key));
  if (it == object.fields().end()) return nullptr;
  if (!it->second.has_list_value()) return Invalid(Field(where, key), "not an array");
  return &it->second.list_value();
}

absl::StatusOr<const Struct*> OptionalObject(const Struct& object, absl::string_view key,
                                             absl::string_view where) {
  auto it = object.fields().find(std::string(key));
  if (it == object.fields().end()) return nullptr;
  if (!it->second.has_struct_value()) return Invalid(Field(where, key), "not an object");
  return &it->second.struct_value();
}

absl::StatusOr<std::string> RequiredString(const Struct& object, absl::string_view key,
                                           absl::string_view where) {
  auto it = object.fields().find(std::string(key));
  if (it == object.fields().end()) return Invalid(Field(where, key), "missing");
  if (it->second.kind_case() != Value::kStringValue) {
    return Invalid(Field(where, key), "not a string");
  }
  return it->second.string_value();
}

absl::StatusOr<std::vector<AuthzPolicy::Pattern>> Patterns(const ListValue& list,
                                                           absl::string_view where) {
  std::vector<AuthzPolicy::Pattern> patterns;
  for (int i = 0; i < list.values_size(); ++i) {
    if (list.values(i).kind_case() != Value::kStringValue) {
      return Invalid(absl::StrCat(where, "[", i, "]"), "not a string");
    }
    patterns.emplace_back(list.values(i).string_value());
  }
  return patterns;
}

// A43 excludes these from header matching: the HTTP/2 pseudo-headers, gRPC's
// own headers, Host and the hop-by-hop headers.
absl::Status CheckHeaderKey(const std::string& key, absl::string_view where) {
  static constexpr absl::string_view kHopByHop[] = {
      "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
      "te",         "trailer",    "transfer-encoding",  "upgrade"};
  if (key.empty()) return Invalid(where, "empty header name");
  bool hop_by_hop =
      std::find(std::begin(kHopByHop), std::end(kHopByHop), key) != std::end(kHopByHop);
  if (key[0] == ':' || absl::StartsWith(key, "grpc-") || key == "host" || hop_by_hop) {
    return Invalid(where, absl::StrCat("header \"", key,
                                       "\" cannot be matched (pseudo-headers, grpc-*, "
                                       "host and hop-by-hop headers are excluded)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AuthzPolicy::HeaderRule>> Headers(const ListValue& list,
                                                             absl::string_view where) {
  std::vector<AuthzPolicy::HeaderRule> headers;
  for (int i = 0; i < list.values_size(); ++i) {
    std::string at = absl::StrCat(where, "[", i, "]");
    if (!list.values(i).has_struct_value()) return Invalid(at, "not an object");
    const Struct& header = list.values(i).struct_value();
    absl::Status known = CheckKnownFields(header, at, {"key", "values"});
    if (!known.ok()) return known;
    absl::StatusOr<std::string> key = RequiredString(header, "key", at);
    if (!key.ok()) return key.status();
    AuthzPolicy::HeaderRule rule;
    rule.key = absl::AsciiStrToLower(*key);
    absl::Status allowed_key = CheckHeaderKey(rule.key, Field(at, "key"));
    if (!allowed_key.ok()) return allowed_key;
    absl::StatusOr<const ListValue*> values = OptionalList(header, "values", at);
    if (!values.ok()) return values.status();
    if (*values == nullptr) return Invalid(Field(at, "values"), "missing");
    if ((*values)->values_size() == 0) return Invalid(Field(at, "values"), "empty");
    absl::StatusOr<std::vector<AuthzPolicy::Pattern>> patterns =
        Patterns(**values, Field(at, "values"));
    if (!patterns.ok()) return patterns.status();
    rule.values = *std::move(patterns);
    headers.push_back(std::move(rule));
  }
  return headers;
}

absl::Status ParseSource(const Struct& source, absl::string_view where,
                         AuthzPolicy::Rule* rule) {
  absl::Status known = CheckKnownFields(source, where, {"principals"});
  if (!known.ok()) return known;
  absl::StatusOr<const ListValue*> principals = OptionalList(source, "principals", where);
  if (!principals.ok()) return principals.status();
  if (*principals == nullptr) return absl::OkStatus();
  absl::StatusOr<std::vector<AuthzPolicy::Pattern>> patterns =
      Patterns(**principals, Field(where, "principals"));
  if (!patterns.ok()) return patterns.status();
  rule->principals = *std::move(patterns);
  return absl::OkStatus();
}

absl::Status ParseRequest(const Struct& request, absl::string_view where,
                          AuthzPolicy::Rule* rule) {
  absl::Status known = CheckKnownFields(request, where, {"paths", "headers"});
  if (!known.ok()) return known;
  absl::StatusOr<const ListValue*> paths = OptionalList(request, "paths", where);
  if (!paths.ok()) return paths.status();
  if (*paths != nullptr) {
    absl::StatusOr<std::vector<AuthzPolicy::Pattern>> patterns =
        Patterns(**paths, Field(where, "paths"));
    if (!patterns.ok()) return patterns.status();
    rule->paths = *std::move(patterns);
  }
  absl::StatusOr<const ListValue*> headers = OptionalList(request, "headers", where);
  if (!headers.ok()) return headers.status();
  if (*headers != nullptr) {
    absl::StatusOr<std::vector<AuthzPolicy::HeaderRule>> parsed =
        Headers(**headers, Field(where, "headers"));
    if (!parsed.ok()) return parsed.status();
    rule->headers = *std::move(parsed);
  }
  return absl::OkStatus();
}

absl::StatusOr<AuthzPolicy::Rule> ParseRule(const Value& value, absl::string_view where) {
  if (!value.has_struct_value()) return Invalid(where, "not an object");
  const Struct& object = value.struct_value();
  absl::Status known = CheckKnownFields(object, where, {"name", "source", "request"});
  if (!known.ok()) return known;
  AuthzPolicy::Rule rule;
  absl::StatusOr<std::string> name = RequiredString(object, "name", where);
  if (!name.ok()) return name.status();
  rule.name = *std::move(name);
  absl::StatusOr<const Struct*> source = OptionalObject(object, "source", where);
  if (!source.ok()) return source.status();
  if (*source != nullptr) {
    absl::Status parsed = ParseSource(**source, Field(where, "source"), &rule);
    if (!parsed.ok()) return parsed;
  }
  absl::StatusOr<const Struct*> request = OptionalObject(object, "request", where);
  if (!request.ok()) return request.status();
  if (*request != nullptr) {
    absl::Status parsed = ParseRequest(**request, Field(where, "request"), &rule);
    if (!parsed.ok()) return parsed;
  }
  return rule;
}

absl::StatusOr<std::vector<AuthzPolicy::Rule>> ParseRules(const ListValue& list,
                                                          absl::string_view where) {
  std::vector<AuthzPolicy::Rule> rules;
  std::set<std::string> names;
  for (int i = 0; i < list.values_size(); ++i) {
    std::string at = absl::StrCat(where, "[", i, "]");
    absl::StatusOr<AuthzPolicy::Rule> rule = ParseRule(list.values(i), at);
    if (!rule.ok()) return rule.status();
    if (!names.insert(rule->name).second) {
      return Invalid(Field(at, "name"),
                     absl::StrCat("\"", rule->name, "\" is used by an earlier rule"));
    }
    rules.push_back(*std::move(rule));
  }
  return rules;
}

bool AnyMatches(const std::vector<AuthzPolicy::Pattern>& patterns,
                absl::string_view value) {
  for (const AuthzPolicy::Pattern& pattern : patterns) {
    if (pattern.Matches(value)) return true;
  }
  return false;
}

bool PrincipalsMatch(const std::vector<AuthzPolicy::Pattern>& principals,
                     const AuthzRequest& request) {
  if (principals.empty()) return true;
  if (!request.tls) return false;
  if (!request.has_certificate) return AnyMatches(principals, "");
  for (const AuthzPolicy::Pattern& principal : principals) {
    for (absl::string_view uri : request.uri_sans) {
      if (principal.Matches(uri)) return true;
    }
    for (absl::string_view dns : request.dns_sans) {
      if (principal.Matches(dns)) return true;
    }
    if (principal.Matches(request.subject)) return true;
  }
  return false;
}

bool HeaderMatches(const AuthzPolicy::HeaderRule& rule, const AuthzRequest& request) {
  std::string joined;
  bool present = false;
  for (const auto& [key, value] : request.headers) {
    if (key != rule.key) continue;
    if (present) joined.push_back(',');
    joined.append(value.data(), value.size());
    present = true;
  }
  return present && AnyMatches(rule.values, joined);
}

}  // namespace

AuthzPolicy::Pattern::Pattern(absl::string_view pattern) {
  if (pattern == "*") {
    kind_ = Kind::kPresence;
  } else if (absl::StartsWith(pattern, "*")) {
    kind_ = Kind::kSuffix;
    text_ = std::string(pattern.substr(1));
  } else if (absl::EndsWith(pattern, "*")) {
    kind_ = Kind::kPrefix;
    text_ = std::string(pattern.substr(0, pattern.size() - 1));
  } else {
    kind_ = Kind::kExact;
    text_ = std::string(pattern);
  }
}

bool AuthzPolicy::Pattern::Matches(absl::string_view value) const {
  switch (kind_) {
    case Kind::kExact:
      return value == text_;
    case Kind::kPrefix:
      return absl::StartsWith(value, text_);
    case Kind::kSuffix:
      return absl::EndsWith(value, text_);
    case Kind::kPresence:
      return !value.empty();
  }
  return false;
}

bool AuthzPolicy::Rule::Matches(const AuthzRequest& request) const {
  if (!PrincipalsMatch(principals, request)) return false;
  if (!paths.empty() && !AnyMatches(paths, request.path)) return false;
  for (const HeaderRule& header : headers) {
    if (!HeaderMatches(header, request)) return false;
  }
  return true;
}

absl::StatusOr<AuthzPolicy> AuthzPolicy::Parse(absl::string_view json) {
  Struct root;
  google::protobuf::util::Status parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &root);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a JSON object: ", parsed.message().as_string()));
  }
  absl::Status known = CheckKnownFields(root, "", {"name", "deny_rules", "allow_rules"});
  if (!known.ok()) return known;
  AuthzPolicy policy;
  absl::StatusOr<std::string> name = RequiredString(root, "name", "");
  if (!name.ok()) return name.status();
  policy.name_ = *std::move(name);
  absl::StatusOr<const ListValue*> deny = OptionalList(root, "deny_rules", "");
  if (!deny.ok()) return deny.status();
  if (*deny != nullptr) {
    absl::StatusOr<std::vector<Rule>> rules = ParseRules(**deny, "deny_rules");
    if (!rules.ok()) return rules.status();
    policy.deny_rules_ = *std::move(rules);
  }
  // Required by A43: a policy that forgot its allow rules would deny everything
  // without saying why.
  absl::StatusOr<const ListValue*> allow = OptionalList(root, "allow_rules", "");
  if (!allow.ok()) return allow.status();
  if (*allow == nullptr) return Invalid("allow_rules", "missing");
  absl::StatusOr<std::vector<Rule>> rules = ParseRules(**allow, "allow_rules");
  if (!rules.ok()) return rules.status();
  policy.allow_rules_ = *std::move(rules);
  return policy;
}

std::string AuthzDecision::Reason() const {
  if (rule == nullptr) return "no allow rule matched";
  return absl::StrCat(allowed ? "allow rule " : "deny rule ", *rule);
}

AuthzDecision AuthzPolicy::Evaluate(const AuthzRequest& request) const {
  for (const Rule& rule : deny_rules_) {
    if (rule.Matches(request)) return {false, &rule.name};
  }
  for (const Rule& rule : allow_rules_) {
    if (rule.Matches(request)) return {true, &rule.name};
  }
  return {false, nullptr};
}

}  // namespace card::security
