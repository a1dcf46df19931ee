// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// A user's lock held from outside the server, as a stuck writer or another
// replica would hold it: the advisory lock that card_lock_user takes
// (server/storage/definitions/10_card_lock_user.sql), so the server's next
// mutation for that user waits behind it.
#pragma once

#include <memory>
#include <pqxx/pqxx>
#include <string>

namespace card::testing {

// Takes `user_id`'s lock in a transaction on `conn` and returns that
// transaction: the lock is held until it commits, aborts or is destroyed.
std::unique_ptr<pqxx::work> HoldUserLock(pqxx::connection& conn,
                                         const std::string& user_id);

}  // namespace card::testing
