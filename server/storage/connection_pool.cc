#include "storage/connection_pool.h"

#include <algorithm>
#include <pqxx/pqxx>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/pg_errors.h"

namespace card::storage {

ConnectionPool::ConnectionPool(PostgresOptions options,
                               std::vector<PreparedStatement> statements)
    : options_(std::move(options)), statements_(std::move(statements)) {
  free_.resize(options_.pool_size);
}

ConnectionPool::~ConnectionPool() = default;

std::unique_ptr<pqxx::connection> ConnectionPool::Connect() const {
  auto conn = std::make_unique<pqxx::connection>(options_.connection_string);
  pqxx::nontransaction setup(*conn);
  // READ COMMITTED whatever the database's default: each statement after the
  // user's lock must see what the previous holder committed (under REPEATABLE
  // READ the snapshot would predate the lock).
  setup.exec_params(
      "SELECT set_config('statement_timeout', $1, false), "
      "set_config('application_name', $2, false), "
      "set_config('default_transaction_isolation', 'read committed', false)",
      std::to_string(absl::ToInt64Milliseconds(options_.statement_timeout)),
      options_.application_name);
  setup.commit();
  for (const PreparedStatement& statement : statements_) {
    conn->prepare(statement.name, statement.sql);
  }
  return conn;
}

absl::Status ConnectionPool::Run(absl::string_view operation, absl::Time deadline,
                                 const std::function<void(pqxx::connection&)>& work) {
  std::unique_ptr<pqxx::connection> conn;
  {
    std::unique_lock<std::mutex> lock(mu_);
    while (free_.empty()) {
      absl::Duration left = std::min(deadline - absl::Now(), absl::Hours(1));
      if (released_.wait_for(lock, absl::ToChronoNanoseconds(left)) ==
              std::cv_status::timeout &&
          free_.empty()) {
        return absl::DeadlineExceededError(
            "no database connection free before the deadline");
      }
    }
    conn = std::move(free_.back());
    free_.pop_back();
  }

  absl::Status status;
  try {
    if (conn == nullptr || !conn->is_open()) conn = Connect();
    work(*conn);
  } catch (const std::exception& e) {
    status = TranslateDatabaseError(e, operation);
    if (IsConnectionLoss(status) || conn == nullptr || !conn->is_open()) conn.reset();
  }

  {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(conn));
  }
  released_.notify_one();
  return status;
}

}  // namespace card::storage
