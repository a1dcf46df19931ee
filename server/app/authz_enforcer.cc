#include "server/app/authz_enforcer.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/grpc_security_constants.h"
#include "server/common/log.h"
#include "server/common/read_file.h"

namespace card::app {
namespace {

// A policy is a few kilobytes; anything near this is a mistake.
constexpr size_t kMaxPolicyBytes = 1 << 20;
// Log lines quote at most this much of an identity or a method name.
constexpr size_t kMaxQuoted = 200;

// The status C-core's own A43 filter answers with, so callers see the same
// thing whichever enforces the policy.
const grpc::Status& Denied() {
  static const grpc::Status* const kDenied = new grpc::Status(
      grpc::StatusCode::PERMISSION_DENIED, "Unauthorized RPC request rejected.");
  return *kDenied;
}

absl::string_view View(const grpc::string_ref& ref) { return {ref.data(), ref.size()}; }

std::vector<absl::string_view> Values(const grpc::AuthContext& context,
                                      const char* name) {
  std::vector<absl::string_view> values;
  for (const grpc::string_ref& value : context.FindPropertyValues(name)) {
    values.push_back(View(value));
  }
  return values;
}

// Caller-controlled text in a log line: printable, one line, bounded.
std::string Quoted(absl::string_view text) {
  std::string escaped = absl::CHexEscape(text.substr(0, kMaxQuoted));
  if (text.size() > kMaxQuoted) escaped += "...";
  return escaped;
}

std::string Now() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
}

}  // namespace

AuthzRequest CallerOf(const grpc::AuthContext& context) {
  AuthzRequest caller;
  for (absl::string_view type :
       Values(context, GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME)) {
    // "ssl" from SslServerCredentials, "tls" from TlsServerCredentials.
    caller.tls = type == GRPC_SSL_TRANSPORT_SECURITY_TYPE || type == "tls";
  }
  if (!caller.tls) return caller;
  std::vector<absl::string_view> subject =
      Values(context, GRPC_X509_SUBJECT_PROPERTY_NAME);
  caller.has_certificate =
      !subject.empty() || !Values(context, GRPC_X509_PEM_CERT_PROPERTY_NAME).empty();
  if (!subject.empty()) caller.subject = subject.front();
  caller.uri_sans = Values(context, GRPC_PEER_URI_PROPERTY_NAME);
  caller.dns_sans = Values(context, GRPC_PEER_DNS_PROPERTY_NAME);
  return caller;
}

std::string CallerName(const AuthzRequest& caller) {
  if (!caller.tls) return "(plaintext caller)";
  if (!caller.has_certificate) return "(TLS caller without a certificate)";
  if (!caller.uri_sans.empty()) return Quoted(caller.uri_sans.front());
  if (!caller.dns_sans.empty()) return Quoted(caller.dns_sans.front());
  return Quoted(caller.subject);
}

absl::StatusOr<std::shared_ptr<AuthzEnforcer>> AuthzEnforcer::Create(
    const std::string& path, absl::Duration reload_interval, DenialObserver on_denied) {
  absl::StatusOr<std::string> contents = ReadFileUpTo(path, kMaxPolicyBytes);
  if (!contents.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--authz_policy_file: ", contents.status().message()));
  }
  absl::StatusOr<AuthzPolicy> policy = AuthzPolicy::Parse(*contents);
  if (!policy.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--authz_policy_file ", path,
        " is not a valid gRPC authorization policy: ", policy.status().message()));
  }
  std::shared_ptr<AuthzEnforcer> enforcer(
      new AuthzEnforcer(path, *std::move(contents),
                        std::make_shared<const AuthzPolicy>(*std::move(policy))));
  enforcer->on_denied_ = std::move(on_denied);
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
  std::lock_guard<std::mutex> lock(mu_);
  return policy_;
}

std::string AuthzEnforcer::policy_name() const { return policy()->name(); }

grpc::Status AuthzEnforcer::Process(const InputMetadata& metadata,
                                    grpc::AuthContext* context, OutputMetadata* consumed,
                                    OutputMetadata* response) {
  (void)consumed;
  (void)response;
  AuthzRequest request = CallerOf(*context);
  request.headers.reserve(metadata.size());
  for (const auto& [key, value] : metadata) {
    if (key == ":path") request.path = View(value);
    request.headers.emplace_back(View(key), View(value));
  }
  std::shared_ptr<const AuthzPolicy> policy = this->policy();
  AuthzDecision decision = policy->Evaluate(request);
  if (decision.allowed) return grpc::Status::OK;
  if (on_denied_) on_denied_(request.path, CallerName(request));
  // Who and what, never the request: the message has not even been read.
  denials_.Warning(absl::StrCat("authz: denied ", CallerName(request), " calling ",
                                Quoted(request.path), " (policy \"", policy->name(),
                                "\": ", decision.Reason(), ")"));
  return Denied();
}

void AuthzEnforcer::Reload() {
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
    std::lock_guard<std::mutex> lock(mu_);
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
  std::lock_guard<std::mutex> lock(mu_);
  policy_ = std::move(policy);
  policy_loaded_at_ = Now();
}

}  // namespace card::app
