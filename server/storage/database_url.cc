#include "server/storage/database_url.h"

#include <libpq-fe.h>

#include <map>

#include "absl/strings/str_cat.h"

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

}  // namespace

absl::StatusOr<std::string> ConnectionString(const std::string& database_url) {
  if (database_url.empty()) {
    return absl::InvalidArgumentError("no database URL (--database_url or DATABASE_URL)");
  }
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(database_url.c_str(), &error);
  if (options == nullptr) {
    if (error != nullptr) PQfreemem(error);  // may quote the URL: never shown
    return absl::InvalidArgumentError(
        "the database URL is malformed (libpq's message is withheld: it may contain the "
        "password)");
  }
  std::string connection;
  std::map<std::string, std::string> missing = kDefaults;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr) continue;
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
