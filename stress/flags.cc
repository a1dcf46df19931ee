// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "stress/flags.h"

#include <algorithm>
#include <iterator>
#include <random>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "client/client_flags.h"
#include "stress/stats.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051",
          "Server address(es), comma-separated; calls go round robin over them.");
ABSL_FLAG(int, connections, 8, "gRPC channels (TCP connections) per target.");
ABSL_FLAG(int, concurrency, 64, "Requests in flight at once (up to 10000s).");
ABSL_FLAG(int64_t, requests, 0, "Stop after this many operations (0: no limit).");
ABSL_FLAG(absl::Duration, duration, absl::ZeroDuration(),
          "Stop starting operations after this long (0: no limit).");
ABSL_FLAG(double, rps, 0,
          "Open-loop rate limit in operations per second (0: none). Latency is "
          "measured from each operation's intended start, so a stalled server "
          "cannot hide its stall.");
ABSL_FLAG(std::string, load_schedule, "const",
          "Rate schedule (open loop): const (--rps), step (--load_start, plus "
          "--load_step every --load_step_duration, up to --load_end) or line (rising "
          "by --load_step per --load_step_duration, continuously).");
ABSL_FLAG(double, load_start, 0, "Rate at the start of a step or line schedule.");
ABSL_FLAG(double, load_step, 0, "Rate change per step (may be negative).");
ABSL_FLAG(double, load_end, 0, "Rate the schedule stops at (0: no bound).");
ABSL_FLAG(absl::Duration, load_step_duration, absl::Seconds(1),
          "Length of each step (line: the slope's time unit).");
ABSL_FLAG(absl::Duration, load_max_duration, absl::ZeroDuration(),
          "After this long the rate holds where it is (0: no limit).");
ABSL_FLAG(
    std::string, concurrency_schedule, "const",
    "Concurrency schedule: const (--concurrency), step or line, like --load_schedule.");
ABSL_FLAG(int, concurrency_start, 0,
          "Concurrency at the start of a step or line schedule.");
ABSL_FLAG(int, concurrency_step, 0, "Concurrency change per step (may be negative).");
ABSL_FLAG(int, concurrency_end, 0, "Concurrency the schedule stops at (0: no bound).");
ABSL_FLAG(absl::Duration, concurrency_step_duration, absl::Seconds(1),
          "Length of each concurrency step.");
ABSL_FLAG(absl::Duration, concurrency_max_duration, absl::ZeroDuration(),
          "After this long the concurrency holds where it is (0: no limit).");
ABSL_FLAG(std::string, warmup, "",
          "Leave the start out of the statistics: a duration (10s) or a count of "
          "operations (1000). Verification still covers every operation.");
ABSL_FLAG(absl::Duration, interval, absl::ZeroDuration(),
          "Length of the time series' intervals (reports, progress lines); at least "
          "100ms. 0 (the default): 1s, or finer (50ms-500ms) for a run whose length "
          "is known and under 20s, so every chart has at least 20 points.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(20), "Deadline of each RPC attempt.");
ABSL_FLAG(int, max_retries, 5,
          "Retries of a create (same request_id) or set-default after UNAVAILABLE, "
          "DEADLINE_EXCEEDED or a dropped connection, with exponential backoff.");
ABSL_FLAG(std::string, scenario, "spread",
          "first-card: --users new users, --burst creates each, all released at once; "
          "hot-user: every create for one user; spread: creates over --users users; "
          "mixed: create/set-default/delete/update-links/get/list by --mix; "
          "health: grpc.health.v1.Health/Check (client-overhead yardstick).");
ABSL_FLAG(int, users, 100, "Users for first-card, spread and mixed.");
ABSL_FLAG(int, burst, 20, "Parallel creates per user in first-card.");
ABSL_FLAG(std::string, mix,
          "create:40,set-default:20,delete:10,update-links:10,get:10,list:10",
          "Weights of the mixed scenario's operations.");
ABSL_FLAG(std::string, user_prefix, "",
          "Prefix of this run's user ids (default: a random one, so runs don't mix).");
ABSL_FLAG(uint64_t, seed, 0, "Random seed (0: random); echoed in the report.");
ABSL_FLAG(bool, verify, true,
          "Check the promise after the load (exit 1 on a violation).");
ABSL_FLAG(std::string, database_url, "",
          "Also verify by SQL straight from PostgreSQL (read-only queries).");
ABSL_FLAG(double, max_error_rate, 0,
          "Highest tolerated fraction of failed operations (exit 2 above it).");
ABSL_FLAG(absl::Duration, max_p99, absl::ZeroDuration(),
          "Fail (exit 3) if p99 latency is above this (0: no threshold).");
ABSL_FLAG(double, min_rps, 0, "Fail (exit 3) if throughput is below this (0: none).");
ABSL_FLAG(std::string, output, "", "Write the report to this file (default: stdout).");
ABSL_FLAG(std::string, format, "text",
          "Report format: text, json, junit (JUnit XML: each check and threshold a "
          "test case), html (one self-contained page), csv (the time series) or "
          "prometheus (text exposition).");
ABSL_FLAG(std::string, json_output, "", "Also write the JSON report to this file.");
ABSL_FLAG(std::string, junit_output, "", "Also write the JUnit XML report to this file.");
ABSL_FLAG(std::string, html_output, "", "Also write the HTML report to this file.");
ABSL_FLAG(
    std::string, engine, "grpc",
    "How the load's calls are sent: grpc (gRPC's C++ client; TLS and mutual TLS) or "
    "h2c (card-stress's own HTTP/2 client over libnghttp2 speaking gRPC's wire "
    "format: cheaper per call, plaintext only, refuses the --tls flags). "
    "Verification reads back through gRPC either way.");
ABSL_FLAG(std::string, progress, "auto",
          "Progress on stderr: true (a line per --interval), false, or auto (in place "
          "on a terminal, a line per interval otherwise).");

namespace card::stress {

absl::StatusOr<Config> ConfigFromFlags() {
  Config config;
  config.targets = absl::StrSplit(absl::GetFlag(FLAGS_target), ',', absl::SkipEmpty());
  if (config.targets.empty()) return absl::InvalidArgumentError("--target: required");
  config.connections = absl::GetFlag(FLAGS_connections);
  config.concurrency = absl::GetFlag(FLAGS_concurrency);
  config.requests = absl::GetFlag(FLAGS_requests);
  config.duration = absl::GetFlag(FLAGS_duration);
  config.rps = absl::GetFlag(FLAGS_rps);
  const bool rate_schedule = absl::GetFlag(FLAGS_load_schedule) != "const";
  absl::StatusOr<Schedule> rate = MakeSchedule(
      "load_schedule", absl::GetFlag(FLAGS_load_schedule),
      rate_schedule ? absl::GetFlag(FLAGS_load_start) : config.rps,
      absl::GetFlag(FLAGS_load_step), absl::GetFlag(FLAGS_load_end),
      absl::GetFlag(FLAGS_load_step_duration), absl::GetFlag(FLAGS_load_max_duration));
  if (!rate.ok()) return rate.status();
  config.rate = *rate;
  const bool window_schedule = absl::GetFlag(FLAGS_concurrency_schedule) != "const";
  absl::StatusOr<Schedule> window = MakeSchedule(
      "concurrency_schedule", absl::GetFlag(FLAGS_concurrency_schedule),
      window_schedule ? absl::GetFlag(FLAGS_concurrency_start)
                      : absl::GetFlag(FLAGS_concurrency),
      absl::GetFlag(FLAGS_concurrency_step), absl::GetFlag(FLAGS_concurrency_end),
      absl::GetFlag(FLAGS_concurrency_step_duration),
      absl::GetFlag(FLAGS_concurrency_max_duration));
  if (!window.ok()) return window.status();
  config.window = *window;
  if (window_schedule) {
    if (window->step > 0 && window->end == 0) {
      return absl::InvalidArgumentError(
          "--concurrency_schedule: a rising schedule needs --concurrency_end");
    }
    // The most the schedule will ever want bounds the in-flight slots.
    config.concurrency = static_cast<int>(std::max({1.0, window->start, window->end}));
  }
  const std::string warmup = absl::GetFlag(FLAGS_warmup);
  if (!warmup.empty()) {
    absl::Duration duration;
    int64_t count = 0;
    if (absl::SimpleAtoi(warmup, &count) && count >= 0) {
      config.warmup_requests = count;
    } else if (absl::ParseDuration(warmup, &duration) &&
               duration >= absl::ZeroDuration()) {
      config.warmup = duration;
    } else {
      return absl::InvalidArgumentError(
          "--warmup: a duration (e.g. 10s) or a count of operations (e.g. 1000)");
    }
  }
  const absl::Duration interval = absl::GetFlag(FLAGS_interval);
  if (interval != absl::ZeroDuration()) {
    if (interval < absl::Milliseconds(100)) {
      return absl::InvalidArgumentError("--interval: at least 100ms (or 0: automatic)");
    }
    config.interval = interval;
  }
  config.timeout = absl::GetFlag(FLAGS_timeout);
  config.max_retries = absl::GetFlag(FLAGS_max_retries);
  absl::StatusOr<Scenario> scenario = ParseScenario(absl::GetFlag(FLAGS_scenario));
  if (!scenario.ok()) return scenario.status();
  config.scenario = *scenario;
  config.users = absl::GetFlag(FLAGS_users);
  config.burst = absl::GetFlag(FLAGS_burst);
  absl::StatusOr<Mix> mix = ParseMix(absl::GetFlag(FLAGS_mix));
  if (!mix.ok()) return mix.status();
  config.mix = *mix;
  config.seed = absl::GetFlag(FLAGS_seed);
  if (config.seed == 0) config.seed = std::random_device{}() | 1;
  config.user_prefix = absl::GetFlag(FLAGS_user_prefix);
  if (config.user_prefix.empty()) {
    config.user_prefix = absl::StrFormat("stress-%08x", std::random_device{}());
  }
  config.verify = absl::GetFlag(FLAGS_verify);
  config.database_url = absl::GetFlag(FLAGS_database_url);
  config.max_error_rate = absl::GetFlag(FLAGS_max_error_rate);
  config.max_p99 = absl::GetFlag(FLAGS_max_p99);
  config.min_rps = absl::GetFlag(FLAGS_min_rps);
  client::ClientOptions tls;
  client::ApplyTlsFlags(tls);
  config.tls = tls.tls;
  config.tls_ca_file = tls.tls_ca_file;
  config.tls_server_name = tls.tls_server_name;
  config.tls_cert_file = tls.tls_cert_file;
  config.tls_key_file = tls.tls_key_file;
  config.output = absl::GetFlag(FLAGS_output);
  config.format = absl::GetFlag(FLAGS_format);
  config.json_output = absl::GetFlag(FLAGS_json_output);
  config.junit_output = absl::GetFlag(FLAGS_junit_output);
  config.html_output = absl::GetFlag(FLAGS_html_output);
  const std::string engine = absl::GetFlag(FLAGS_engine);
  if (engine == "h2c") {
    config.engine = Engine::kH2c;
    if (config.tls || !config.tls_cert_file.empty() || !config.tls_key_file.empty() ||
        !config.tls_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--engine=h2c is plaintext only: it cannot take --tls, --tls_cert_file, "
          "--tls_key_file or --tls_ca_file (use --engine=grpc for TLS)");
    }
  } else if (engine != "grpc") {
    return absl::InvalidArgumentError("--engine: grpc or h2c");
  }
  absl::StatusOr<Progress> progress = ParseProgress(absl::GetFlag(FLAGS_progress));
  if (!progress.ok()) return progress.status();
  config.progress = *progress;

  if (config.connections < 1)
    return absl::InvalidArgumentError("--connections: at least 1");
  if (config.concurrency < 1)
    return absl::InvalidArgumentError("--concurrency: at least 1");
  if (config.users < 1) return absl::InvalidArgumentError("--users: at least 1");
  if (config.burst < 1) return absl::InvalidArgumentError("--burst: at least 1");
  if (std::find(std::begin(kFormats), std::end(kFormats), config.format) ==
      std::end(kFormats)) {
    return absl::InvalidArgumentError(
        "--format: text, json, junit, html, csv or prometheus");
  }
  if (config.rps < 0) return absl::InvalidArgumentError("--rps: at least 0");
  if (config.scenario != Scenario::kFirstCard && config.requests == 0 &&
      config.duration == absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "give --requests or --duration (first-card needs neither)");
  }
  if (config.user_prefix.size() > 60)
    return absl::InvalidArgumentError("--user_prefix: too long");
  // Unless --interval was given, a short run gets a finer series, so the
  // report's charts have points enough to show a shape (stats.h); the
  // report's settings show the one used.
  if (interval == absl::ZeroDuration()) config.interval = SeriesInterval(config);
  return config;
}

}  // namespace card::stress
