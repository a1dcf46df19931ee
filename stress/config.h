// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// card-stress's configuration: what load to send, how to verify, when to fail.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "stress/schedule.h"

namespace card::stress {

enum class Scenario { kFirstCard, kHotUser, kSpread, kMixed, kHealth };

enum class OpKind {
  kCreate,
  kSetDefault,
  kDelete,
  kUpdateLinks,
  kGet,
  kList,
  kCreateLink,
  kHealth
};
inline constexpr int kOpKinds = 8;
// Every kind, in the order reports list them.
inline constexpr OpKind kAllOpKinds[kOpKinds] = {
    OpKind::kCreate, OpKind::kSetDefault, OpKind::kDelete,     OpKind::kUpdateLinks,
    OpKind::kGet,    OpKind::kList,       OpKind::kCreateLink, OpKind::kHealth};
const char* OpName(OpKind kind);  // the operation table's name (operations.h)
const char* ScenarioName(Scenario scenario);

// Relative weights of the mixed scenario's operations.
struct Mix {
  int create = 40, set_default = 20, del = 10, update_links = 10, get = 10, list = 10;
};

// --progress: off; a line per interval; or auto (in place on a terminal, a
// line per interval otherwise).
enum class Progress { kOff, kLines, kAuto };

// How the load's calls reach the server (--engine): gRPC's C++ client, or
// card-stress's own plaintext HTTP/2 client over libnghttp2 (h2c_transport.h).
enum class Engine { kGrpc, kH2c };

// Report formats (--format, and the extra --*_output files).
inline constexpr const char* kFormats[] = {"text", "json", "junit",
                                           "html", "csv",  "prometheus"};

struct Config {
  std::vector<std::string> targets;
  int connections = 8;
  int concurrency = 64;
  int64_t requests = 0;                            // 0: no count limit
  absl::Duration duration = absl::ZeroDuration();  // zero: no time limit
  double rps = 0;                                  // 0: as fast as the window allows
  // Open loop when rate.start > 0 or the schedule is not const (rate.start = --rps
  // for const); the concurrency window, closed loop or open.
  Schedule rate;
  Schedule window;
  absl::Duration warmup = absl::ZeroDuration();  // left out of the statistics
  int64_t warmup_requests = 0;                   // or: the first N operations
  absl::Duration interval = absl::Seconds(1);    // of the time series and progress
  absl::Duration timeout = absl::Seconds(20);    // per-RPC deadline
  int max_retries = 5;

  Scenario scenario = Scenario::kSpread;
  int users = 100;
  int burst = 20;
  Mix mix;
  std::string user_prefix;  // distinguishes this run's users from earlier runs'
  uint64_t seed = 1;

  bool verify = true;
  std::string database_url;
  double max_error_rate = 0;
  absl::Duration max_p99 = absl::ZeroDuration();  // zero: no threshold
  double min_rps = 0;

  bool tls = false;
  std::string tls_ca_file;
  std::string tls_server_name;
  std::string tls_cert_file;  // This client's identity, for mutual TLS.
  std::string tls_key_file;

  std::string output;
  std::string format = "text";
  std::string json_output, junit_output, html_output;  // extra reports
  Progress progress = Progress::kAuto;
  Engine engine = Engine::kGrpc;

  bool open_loop() const { return rate.start > 0 || !rate.constant(); }
};

// The parsers of the command line's values (stress/flags.cc reads the flags);
// errors name the flag.
absl::StatusOr<Scenario> ParseScenario(const std::string& name);
absl::StatusOr<Mix> ParseMix(const std::string& text);
absl::StatusOr<Progress> ParseProgress(const std::string& text);
// A rate or concurrency schedule from its flags' values (`flag` names it).
absl::StatusOr<Schedule> MakeSchedule(const char* flag, const std::string& kind_name,
                                      double start, double step, double end,
                                      absl::Duration step_duration,
                                      absl::Duration max_duration);

}  // namespace card::stress
