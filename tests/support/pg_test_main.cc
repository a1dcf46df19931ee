// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// main() of every *_pgtest binary: registers the throwaway PostgreSQL.
#include <cstdlib>

#include "gtest/gtest.h"
#include "tests/support/pg_environment.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  setenv("PGCONNECT_TIMEOUT", "5", /*overwrite=*/0);
  ::testing::AddGlobalTestEnvironment(new card::testing::PostgresEnvironment());
  return RUN_ALL_TESTS();
}
