// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "stress/verifier.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/card_client.h"

namespace card::stress {
namespace {

namespace v1 = devcard::card::v1;

constexpr int kMaxExamples = 20;

constexpr absl::Duration kReadBackTimeout = absl::Seconds(30);
constexpr int kReadBackPageSize = 1000;

// One user's cards as read back.
struct Observed {
  bool ok = false;                                    // could we list them?
  grpc::StatusCode list_code = grpc::StatusCode::OK;  // why not, if not
  std::string error;
  std::vector<v1::Card> cards;
  bool has_default_card = false;  // GetDefaultCard answered with a card
  v1::Card default_card;
  // GetDefaultCard's failure other than NOT_FOUND (OK: none).
  grpc::StatusCode default_code = grpc::StatusCode::OK;
  std::string default_error;

  // The replica did not answer; another may.
  bool Unavailable() const {
    return list_code == grpc::StatusCode::UNAVAILABLE ||
           default_code == grpc::StatusCode::UNAVAILABLE;
  }
};

Observed ReadBackOnce(client::CardClient& client, const std::string& user_id) {
  Observed observed;
  grpc::Status status = client.ListAllCards(user_id, kReadBackPageSize, &observed.cards);
  if (!status.ok()) {
    observed.list_code = status.error_code();
    observed.error =
        absl::StrCat("ListCards: ", client::StatusCodeName(status.error_code()), " ",
                     status.error_message());
    return observed;
  }

  v1::GetDefaultCardRequest request;
  request.set_user_id(user_id);
  status = client.GetDefaultCard(request, &observed.default_card);
  if (status.ok()) {
    observed.has_default_card = true;
  } else if (status.error_code() != grpc::StatusCode::NOT_FOUND) {
    observed.default_code = status.error_code();
    observed.default_error =
        absl::StrCat("GetDefaultCard: ", client::StatusCodeName(status.error_code()), " ",
                     status.error_message());
  }
  observed.ok = true;
  return observed;
}

// Reads through the first channel that answers: a replica may be down (the
// replica-kill run), and any replica serves the same data.
Observed ReadBack(const std::vector<std::unique_ptr<client::CardClient>>& clients,
                  size_t first, const std::string& user_id) {
  Observed observed;
  for (size_t i = 0; i < clients.size(); ++i) {
    observed = ReadBackOnce(*clients[(first + i) % clients.size()], user_id);
    if (!observed.Unavailable()) break;
  }
  return observed;
}

class CheckBuilder {
 public:
  CheckBuilder(std::string name, std::string description) {
    check_.name = std::move(name);
    check_.description = std::move(description);
  }
  void Pass() { ++check_.users; }
  void Fail(const std::string& user, const std::string& what) {
    ++check_.users;
    ++check_.violation_count;
    check_.verdict = Verdict::kFalse;
    if (check_.violations.size() < kMaxExamples)
      check_.violations.push_back(user + ": " + what);
  }
  void Unknown(const std::string& user, const std::string& why) {
    if (check_.verdict == Verdict::kTrue) check_.verdict = Verdict::kUnknown;
    if (check_.violations.size() < kMaxExamples) {
      check_.violations.push_back(user + ": unknown (" + why + ")");
    }
  }
  Check Take() { return std::move(check_); }

 private:
  Check check_;
};

// The checks made from the API's answers, by name, in report order.
struct ApiChecks {
  CheckBuilder one_default{"exactly_one_default",
                           "each user with cards has exactly one default (none without)"};
  CheckBuilder acked_found{
      "acknowledged_creates_found",
      "every acknowledged create is listed unless acknowledged deleted"};
  CheckBuilder count{"card_count",
                     "cards listed = acknowledged creates - acknowledged deletes "
                     "(a range when some outcomes are indeterminate)"};
  CheckBuilder no_duplicates{"no_duplicate_request",
                             "no request_id made two cards; retries got the first card"};
  CheckBuilder only_attempted{"nothing_unattempted",
                              "every listed card comes from a create this run attempted"};
  CheckBuilder default_exists{"default_exists",
                              "GetDefaultCard returns a listed card marked default"};

  std::vector<CheckBuilder*> All() {
    return {&one_default,   &acked_found,    &count,
            &no_duplicates, &only_attempted, &default_exists};
  }
};

// The ids in `ids`, each once.
std::vector<CompactId> Distinct(std::vector<CompactId> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

bool Contains(const std::vector<CompactId>& sorted, const CompactId& id) {
  return std::binary_search(sorted.begin(), sorted.end(), id);
}

void CheckUser(uint32_t user, const History& history, const Observed& seen,
               ApiChecks& checks) {
  const std::string user_id = history.UserId(user);
  const UserSummary& summary = history.users[user];
  CheckBuilder& one_default = checks.one_default;
  CheckBuilder& acked_found = checks.acked_found;
  CheckBuilder& count = checks.count;
  CheckBuilder& no_duplicates = checks.no_duplicates;
  CheckBuilder& only_attempted = checks.only_attempted;
  CheckBuilder& default_exists = checks.default_exists;
  if (!seen.ok) {
    for (CheckBuilder* check : checks.All()) check->Unknown(user_id, seen.error);
    return;
  }
  // Each listed card leads back to its create through its description.
  std::vector<CompactId> listed;
  std::map<uint64_t, int> per_request;
  int defaults = 0, unattempted = 0, acked_listed = 0, acked_other_card = 0;
  for (const v1::Card& card : seen.cards) {
    std::optional<CompactId> id = CompactId::Parse(card.id());
    if (id) listed.push_back(*id);
    defaults += card.is_default();
    std::optional<uint64_t> request = history.RequestNumber(card.description());
    if (!request || history.creates[*request].user != user) {
      ++unattempted;
      continue;
    }
    ++per_request[*request];
    const CreateRecord& create = history.creates[*request];
    if (create.state != CreateState::kAcknowledged) continue;
    if (id && *id == create.card) {
      ++acked_listed;
    } else {
      ++acked_other_card;  // the create was acknowledged with another card
    }
  }
  std::sort(listed.begin(), listed.end());
  int found = static_cast<int>(seen.cards.size());

  if (found > 0 ? defaults == 1 : defaults == 0) {
    one_default.Pass();
  } else {
    one_default.Fail(user_id,
                     absl::StrCat(defaults, " defaults among ", found, " cards"));
  }

  // Acknowledged cards not listed, less those this run deleted (or may have).
  const std::vector<CompactId> deleted = Distinct(summary.acknowledged_deleted);
  const std::vector<CompactId> maybe_deleted = Distinct(summary.indeterminate_deleted);
  std::vector<CompactId> gone = deleted;
  gone.insert(gone.end(), maybe_deleted.begin(), maybe_deleted.end());
  gone = Distinct(std::move(gone));
  int gone_unlisted = 0;
  for (const CompactId& id : gone) gone_unlisted += !Contains(listed, id);
  int missing =
      static_cast<int>(summary.acknowledged_creates) - acked_listed - gone_unlisted;
  if (missing <= 0) {
    acked_found.Pass();
  } else {
    acked_found.Fail(user_id, absl::StrCat(missing, " acknowledged card(s) missing"));
  }

  int expected =
      static_cast<int>(summary.acknowledged_creates) - static_cast<int>(deleted.size());
  int low = expected - static_cast<int>(maybe_deleted.size());
  int high = expected + static_cast<int>(summary.indeterminate_creates);
  if (found >= low && found <= high) {
    count.Pass();
  } else {
    count.Fail(
        user_id,
        absl::StrCat(found, " cards, expected ",
                     low == high ? absl::StrCat(expected) : absl::StrCat(low, "..", high),
                     " (acknowledged creates ", summary.acknowledged_creates,
                     " - deletes ", deleted.size(), ")"));
  }

  int duplicated = 0;
  for (const auto& [request, n] : per_request) duplicated += n > 1;
  if (duplicated == 0 && acked_other_card == 0) {
    no_duplicates.Pass();
  } else {
    no_duplicates.Fail(
        user_id,
        absl::StrCat(
            duplicated, " request_id(s) made several cards",
            acked_other_card > 0 ? "; a create was acknowledged with another card" : ""));
  }

  if (unattempted == 0) {
    only_attempted.Pass();
  } else {
    only_attempted.Fail(user_id, absl::StrCat(unattempted, " card(s) nobody asked for"));
  }

  if (!seen.default_error.empty()) {
    default_exists.Unknown(user_id, seen.default_error);
    return;
  }
  std::optional<CompactId> default_id = CompactId::Parse(seen.default_card.id());
  bool default_ok = found == 0
                        ? !seen.has_default_card
                        : seen.has_default_card && seen.default_card.is_default() &&
                              default_id && Contains(listed, *default_id);
  if (default_ok) {
    default_exists.Pass();
  } else {
    default_exists.Fail(
        user_id, seen.has_default_card
                     ? absl::StrCat("GetDefaultCard returned ", seen.default_card.id(),
                                    ", not a listed default")
                     : "GetDefaultCard found no default");
  }
}

// By SQL: defaults and counts per user straight from the tables, compared with
// what the API listed (`listed[user]`, -1 where the API could not list).
Check CheckBySql(const Config& config, const History& history,
                 const std::vector<uint32_t>& users, const std::vector<int>& listed) {
  CheckBuilder check("sql_exactly_one_default",
                     "by SQL: each user with cards has exactly one default, and the API "
                     "listed exactly the cards the table holds");
  try {
    pqxx::connection conn(config.database_url);
    pqxx::read_transaction txn(conn);
    std::map<std::string, std::pair<int, int>> rows;  // user -> (cards, defaults)
    for (const pqxx::row& row : txn.exec_params(
             "SELECT user_id, count(*), count(*) FILTER (WHERE is_default) FROM cards "
             "WHERE starts_with(user_id, $1) GROUP BY user_id",
             config.user_prefix + "-")) {
      rows[row[0].c_str()] = {row[1].as<int>(), row[2].as<int>()};
    }
    for (uint32_t user : users) {
      const std::string user_id = history.UserId(user);
      auto found = rows.find(user_id);
      auto [cards, defaults] = found != rows.end() ? found->second : std::make_pair(0, 0);
      if (cards > 0 ? defaults != 1 : defaults != 0) {
        check.Fail(user_id, absl::StrCat("table holds ", defaults, " defaults among ",
                                         cards, " cards"));
      } else if (listed[user] >= 0 && listed[user] != cards) {
        check.Fail(user_id, absl::StrCat("API listed ", listed[user],
                                         " cards, table holds ", cards));
      } else {
        check.Pass();
      }
    }
  } catch (const pqxx::broken_connection&) {
    // libpq's message may quote the URL, password included.
    check.Unknown("(database)", "cannot connect with --database_url");
  } catch (const std::exception& e) {
    check.Unknown("(database)", e.what());
  }
  return check.Take();
}

}  // namespace

Verification Verify(const Config& config,
                    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                    const History& history) {
  Verification verification;
  verification.ran = true;
  std::vector<uint32_t> users;
  for (uint32_t user = 0; user < history.users.size(); ++user) {
    if (history.users[user].touched) users.push_back(user);
  }

  // Read every user back, a few at a time; check each as soon as it is read
  // and keep only its card count (for the SQL check), not its cards.
  ApiChecks checks;
  std::vector<int> listed(history.users.size(), -1);
  absl::Mutex mu;  // guards checks and listed
  std::atomic<size_t> next{0};
  std::vector<std::thread> readers;
  for (size_t t = 0; t < std::min<size_t>(8, channels.size()); ++t) {
    readers.emplace_back([&, t] {
      std::vector<std::unique_ptr<client::CardClient>> clients;
      for (const auto& channel : channels) {
        clients.push_back(
            std::make_unique<client::CardClient>(channel, kReadBackTimeout));
      }
      for (size_t i; (i = next++) < users.size();) {
        const uint32_t user = users[i];
        Observed seen = ReadBack(clients, t, history.UserId(user));
        absl::MutexLock lock(&mu);
        CheckUser(user, history, seen, checks);
        if (seen.ok) listed[user] = static_cast<int>(seen.cards.size());
      }
    });
  }
  for (std::thread& reader : readers) reader.join();

  for (CheckBuilder* check : checks.All()) verification.checks.push_back(check->Take());
  if (!config.database_url.empty())
    verification.checks.push_back(CheckBySql(config, history, users, listed));

  for (const Check& check : verification.checks) {
    verification.verdict = std::max(verification.verdict, check.verdict);
  }
  return verification;
}

}  // namespace card::stress
