// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// A throwaway PostgreSQL 15 for the whole test run, and a fresh database per
// test. Set CARD_TEST_DATABASE_URL to use an existing server instead (its
// user must be allowed to CREATE DATABASE).
#pragma once

#include <string>

#include "gtest/gtest.h"

namespace card::testing {

class PostgresEnvironment : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;

  // The running environment (registered by pg_test_main.cc).
  static PostgresEnvironment& Get();

  // Creates an empty database with a unique name and returns its URL.
  std::string CreateDatabase();

  // URL of the maintenance database.
  const std::string& admin_url() const { return admin_url_; }

  // Stops / restarts the throwaway cluster (for outage tests). Only for the
  // cluster this environment started.
  void StopServer();
  void StartServer();
  // SIGSTOP / SIGCONT the whole cluster: a database that stops answering
  // without closing a single connection.
  void FreezeServer();
  void ThawServer();
  bool owns_cluster() const { return !cluster_dir_.empty(); }

 private:
  std::string cluster_dir_;
  std::string port_;
  std::string admin_url_;
  int next_database_ = 0;
};

// Runs a shell command, returns its stdout; fails the test on a non-zero exit.
std::string RunCommand(const std::string& command);

}  // namespace card::testing
