// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "tests/support/user_lock.h"

namespace card::testing {

std::unique_ptr<pqxx::work> HoldUserLock(pqxx::connection& conn,
                                         const std::string& user_id) {
  auto txn = std::make_unique<pqxx::work>(conn);
  // The same key as card_lock_user's: hashtextextended(user_id, 0).
  txn->exec_params("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", user_id);
  return txn;
}

}  // namespace card::testing
