// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// How database errors reach callers, from the exceptions libpqxx throws, with
// the texts PostgreSQL and Citus send.
#include "server/storage/pg_errors.h"

#include <gtest/gtest.h>

#include <pqxx/except>

namespace card::storage {
namespace {

absl::Status Translate(const char* message, const char* sqlstate) {
  return TranslateDatabaseError(pqxx::sql_error(message, "SELECT 1", sqlstate), "test");
}

TEST(TranslateDatabaseError, CitusWorkerFailuresAreUnavailableAndKeepTheConnection) {
  // Texts as Citus 13.2 sends them (remote_commands.c, placement_connection.c,
  // adaptive_executor.c), with libpq's "ERROR:  " prefix and context lines.
  const std::pair<const char*, const char*> failures[] = {
      {"ERROR:  server closed the connection unexpectedly\n"
       "\tThis probably means the server terminated abnormally\n"
       "CONTEXT:  while executing command on 127.0.0.1:9702\n",
       "XX000"},
      {"ERROR:  could not commit transaction for shard 102008 on at least one active "
       "node\n",
       "XX000"},
      {"ERROR:  connection to the remote node postgres@127.0.0.1:9702 failed with the "
       "following error: Connection refused\n",
       "08006"},
      {"ERROR:  could not establish any connections to the node 127.0.0.1:9702 after "
       "5000 ms\n",
       "08006"},
  };
  for (const auto& [message, sqlstate] : failures) {
    absl::Status status = Translate(message, sqlstate);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << message;
    EXPECT_NE(status.message().find("same request_id"), absl::string_view::npos)
        << message;
    EXPECT_FALSE(IsConnectionLoss(status)) << message;
  }
}

TEST(TranslateDatabaseError, OtherInternalErrorsStayInternal) {
  absl::Status status = Translate("ERROR:  could not create distributed plan\n", "XX000");
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
}

TEST(TranslateDatabaseError, OurOwnConnectionClassErrorsStillReplaceTheConnection) {
  absl::Status status = Translate("ERROR:  terminating connection\n", "08006");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(IsConnectionLoss(status));
}

}  // namespace
}  // namespace card::storage
