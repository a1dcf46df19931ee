// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/storage/database_url.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace card::storage {
namespace {

// Dead-peer detection: about 5 s idle, then 3 probes 2 s apart; unacknowledged
// data is given up after 15 s.
const std::map<std::string, std::string> kDefaults = {
    {"keepalives", "1"},           {"keepalives_idle", "5"},
    {"keepalives_interval", "2"},  {"keepalives_count", "3"},
    {"tcp_user_timeout", "15000"},
};

// libpq's quoting for key=value values: single quotes, backslash escapes.
std::string Quote(const char* value) {
  std::string quoted = "'";
  for (const char* c = value; *c != '\0'; ++c) {
    if (*c == '\'' || *c == '\\') quoted.push_back('\\');
    quoted.push_back(*c);
  }
  quoted.push_back('\'');
  return quoted;
}

std::string PercentDecoded(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(text[i + 1]) &&
        std::isxdigit(text[i + 2])) {
      out.push_back(static_cast<char>(
          std::strtol(std::string(text.substr(i + 1, 2)).c_str(), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Every piece of `url` that may be (part of) the password, raw and decoded:
// the URI's user:password@, a password= parameter and, in key=value form,
// every word after it (an unquoted password with a space is two words).
// Over-generous on purpose: redacting too much only shortens a message.
std::vector<std::string> PasswordCandidates(const std::string& url) {
  std::vector<std::string> found;
  auto add = [&found](absl::string_view piece) {
    piece = absl::StripAsciiWhitespace(piece);
    for (const std::string& candidate : {std::string(piece), PercentDecoded(piece)}) {
      if (!candidate.empty()) found.push_back(candidate);
    }
  };
  const size_t scheme = url.find("://");
  if (scheme != std::string::npos) {
    absl::string_view rest = absl::string_view(url).substr(scheme + 3);
    // libpq: the userinfo ends at the first '@' that comes before any '/'.
    const size_t end = rest.find_first_of("@/");
    if (end != absl::string_view::npos && rest[end] == '@') {
      absl::string_view userinfo = rest.substr(0, end);
      const size_t colon = userinfo.find(':');
      if (colon != absl::string_view::npos) add(userinfo.substr(colon + 1));
    }
    // A password with an unencoded '/' or '@' ("u:pa/ss@h", "u:p@ss@h") ends
    // libpq's userinfo early, and libpq then quotes a piece of it as a host
    // or port: every piece between the first ':' and the last '@' is a
    // candidate too.
    const size_t last_at = rest.rfind('@');
    const size_t colon = rest.find(':');
    if (last_at != absl::string_view::npos && colon != absl::string_view::npos &&
        colon < last_at) {
      absl::string_view tail = rest.substr(colon + 1, last_at - colon - 1);
      add(tail);
      for (absl::string_view piece : absl::StrSplit(tail, absl::ByAnyChar("/@:")))
        add(piece);
    }
  }
  for (size_t at = url.find("password"); at != std::string::npos;
       at = url.find("password", at + 1)) {
    absl::string_view after = absl::string_view(url).substr(at + 8);
    const size_t equals = after.find('=');
    if (equals == absl::string_view::npos) continue;
    absl::string_view value = after.substr(equals + 1);
    if (scheme != std::string::npos) value = value.substr(0, value.find('&'));
    add(value);
    for (absl::string_view word :
         absl::StrSplit(value, absl::ByAnyChar(" \t\n'="), absl::SkipWhitespace())) {
      add(word);
    }
  }
  return found;
}

// `message` without any of `secrets` (libpq's message quotes the URL or the
// offending part of it, which may be the password).
std::string Redacted(std::string message, std::vector<std::string> secrets) {
  // Longest first, so that a piece of a longer candidate is never left over.
  std::sort(
      secrets.begin(), secrets.end(),
      [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& candidate : secrets) {
    if (candidate.empty()) continue;
    absl::StrReplaceAll({{candidate, "********"}}, &message);
  }
  return std::string(absl::StripTrailingAsciiWhitespace(message));
}

// libpq's parse_int_param: an int, surrounding whitespace allowed after.
bool IsLibpqInt(const std::string& value) {
  errno = 0;
  char* end = nullptr;
  const long number = std::strtol(value.c_str(), &end, 10);
  if (end == value.c_str() || errno != 0 || number < INT_MIN || number > INT_MAX) {
    return false;
  }
  while (*end != '\0' && std::isspace(static_cast<unsigned char>(*end))) ++end;
  return *end == '\0';
}

// What libpq checks only when it connects, and would then report as a failure
// to connect (retried until --startup_timeout): a port, a number or a mode
// that can never work. Checked here, before any connection, and reported in
// libpq's words. Returns "" when `keyword`=`value` is fine.
std::string OptionProblem(const std::string& keyword, const std::string& value) {
  static const std::set<std::string> kIntegers = {
      "connect_timeout",     "keepalives",       "keepalives_idle",
      "keepalives_interval", "keepalives_count", "tcp_user_timeout"};
  static const std::map<std::string, std::set<std::string>> kModes = {
      {"sslmode", {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}},
      {"gssencmode", {"disable", "prefer", "require"}},
      {"channel_binding", {"disable", "prefer", "require"}},
      {"target_session_attrs",
       {"any", "read-write", "read-only", "primary", "standby", "prefer-standby"}},
  };
  if (keyword == "port") {
    // One port, or one per host; an empty one means the default.
    for (const std::string& port : std::vector<std::string>(absl::StrSplit(value, ','))) {
      if (port.empty()) continue;
      if (!IsLibpqInt(port)) {
        return absl::StrCat("invalid integer value \"", port,
                            "\" for connection option \"port\"");
      }
      const long number = std::strtol(port.c_str(), nullptr, 10);
      if (number < 1 || number > 65535) {
        return absl::StrCat("invalid port number: \"", port, "\"");
      }
    }
  } else if (kIntegers.count(keyword) != 0 && !value.empty() && !IsLibpqInt(value)) {
    return absl::StrCat("invalid integer value \"", value, "\" for connection option \"",
                        keyword, "\"");
  } else if (auto modes = kModes.find(keyword);
             modes != kModes.end() && modes->second.count(value) == 0) {
    return absl::StrCat("invalid ", keyword, " value: \"", value, "\"");
  }
  return "";
}

}  // namespace

absl::StatusOr<std::string> ConnectionString(const std::string& database_url) {
  if (database_url.empty()) {
    return absl::InvalidArgumentError("no database URL (--database_url or DATABASE_URL)");
  }
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(database_url.c_str(), &error);
  if (options == nullptr) {
    std::string reason = error != nullptr ? error : "out of memory";
    if (error != nullptr) PQfreemem(error);
    return absl::InvalidArgumentError(
        absl::StrCat("the database URL is invalid: ",
                     Redacted(reason, PasswordCandidates(database_url))));
  }
  // Parsed: the password is known exactly (a URL's, percent-decoded), unless
  // an unencoded '/' or '@' in it made libpq read part of it as a host, port
  // or database: so the guessed candidates are withheld too.
  std::vector<std::string> password = PasswordCandidates(database_url);
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val != nullptr && std::string(option->keyword) == "password") {
      password.push_back(option->val);
    }
  }
  std::string connection;
  std::map<std::string, std::string> missing = kDefaults;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr) continue;
    // Never the password's value: the message would print it.
    const std::string problem = std::string(option->keyword) == "password"
                                    ? ""
                                    : OptionProblem(option->keyword, option->val);
    if (!problem.empty()) {
      PQconninfoFree(options);
      return absl::InvalidArgumentError(
          absl::StrCat("the database URL is invalid: ", Redacted(problem, password)));
    }
    missing.erase(option->keyword);
    absl::StrAppend(&connection, connection.empty() ? "" : " ", option->keyword, "=",
                    Quote(option->val));
  }
  PQconninfoFree(options);
  for (const auto& [keyword, value] : missing) {
    absl::StrAppend(&connection, connection.empty() ? "" : " ", keyword, "=", value);
  }
  return connection;
}

std::string WithParameter(const std::string& connection_string, const char* keyword,
                          const std::string& value) {
  return absl::StrCat(connection_string, connection_string.empty() ? "" : " ", keyword,
                      "=", Quote(value.c_str()));
}

}  // namespace card::storage
