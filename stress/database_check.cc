// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "stress/database_check.h"

#include <libpq-fe.h>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace card::stress {

std::string WithoutPassword(std::string message, const std::string& database_url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(database_url.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  if (options == nullptr) return message;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (std::string(option->keyword) == "password" && option->val != nullptr &&
        option->val[0] != '\0') {
      message = absl::StrReplaceAll(message, {{option->val, "***"}});
    }
  }
  PQconninfoFree(options);
  return message;
}

absl::Status CheckDatabase(const std::string& database_url) {
  try {
    pqxx::connection conn(database_url);
    pqxx::read_transaction txn(conn);
    txn.exec("SELECT 1 FROM cards LIMIT 1");
    return absl::OkStatus();
  } catch (const std::exception& e) {
    std::string reason(absl::StripTrailingAsciiWhitespace(e.what()));
    return absl::FailedPreconditionError(
        absl::StrCat("--database_url: ", WithoutPassword(reason, database_url)));
  }
}

}  // namespace card::stress
