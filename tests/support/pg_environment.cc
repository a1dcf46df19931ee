// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "tests/support/pg_environment.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace card::testing {
namespace {

PostgresEnvironment* g_environment = nullptr;

std::string ThrowawayScript() {
  return absl::StrCat(CARD_SOURCE_DIR, "/scripts/throwaway-pg.sh");
}

std::string WithDatabase(const std::string& url, const std::string& database) {
  return absl::StrCat(url, url.find('?') == std::string::npos ? "?" : "&",
                      "dbname=", database);
}

}  // namespace

std::string RunCommand(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen failed: " << command;
    return output;
  }
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    output.append(buffer.data(), n);
  int rc = pclose(pipe);
  if (rc != 0) ADD_FAILURE() << "command failed (" << rc << "): " << command;
  return std::string(absl::StripAsciiWhitespace(output));
}

PostgresEnvironment& PostgresEnvironment::Get() { return *g_environment; }

void PostgresEnvironment::SetUp() {
  g_environment = this;
  if (const char* url = std::getenv("CARD_TEST_DATABASE_URL");
      url != nullptr && *url != '\0') {
    admin_url_ = url;
    return;
  }
  char dir_template[] = "/tmp/card-test-pg-XXXXXX";
  cluster_dir_ = mkdtemp(dir_template);
  // The socket's name carries the port; any number works as nothing listens on TCP.
  port_ = std::to_string(20000 + getpid() % 20000);
  admin_url_ =
      RunCommand(absl::StrCat(ThrowawayScript(), " start ", cluster_dir_, " ", port_));
  ASSERT_FALSE(admin_url_.empty()) << "could not start a throwaway PostgreSQL";
}

void PostgresEnvironment::TearDown() {
  if (owns_cluster()) RunCommand(absl::StrCat(ThrowawayScript(), " stop ", cluster_dir_));
}

void PostgresEnvironment::StopServer() {
  RunCommand(absl::StrCat(ThrowawayScript(), " crash ", cluster_dir_));
}

void PostgresEnvironment::StartServer() {
  RunCommand(absl::StrCat(ThrowawayScript(), " start ", cluster_dir_, " ", port_));
}

void PostgresEnvironment::FreezeServer() {
  RunCommand(absl::StrCat(ThrowawayScript(), " freeze ", cluster_dir_));
}

void PostgresEnvironment::ThawServer() {
  RunCommand(absl::StrCat(ThrowawayScript(), " thaw ", cluster_dir_));
}

std::string PostgresEnvironment::CreateDatabase() {
  std::string name = absl::StrCat("card_test_", getpid(), "_", next_database_++);
  pqxx::connection admin(admin_url_);
  pqxx::nontransaction txn(admin);
  txn.exec0(absl::StrCat("DROP DATABASE IF EXISTS ", txn.quote_name(name)));
  txn.exec0(absl::StrCat("CREATE DATABASE ", txn.quote_name(name)));
  return WithDatabase(admin_url_, name);
}

}  // namespace card::testing
