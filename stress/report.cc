// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "stress/report.h"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/card_client.h"
#include "client/proto_json.h"
#include "google/protobuf/util/time_util.h"

namespace card::stress {
namespace {

namespace pb = devcard::cardstress::v1;
using google::protobuf::util::TimeUtil;

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

// The JSON mapping would print NaN and Infinity as strings (report.proto).
double Finite(double value) { return std::isfinite(value) ? value : 0; }

// Counts are 32-bit in the report (report.proto says why): saturate, never wrap.
uint32_t Count(uint64_t n) {
  return static_cast<uint32_t>(
      std::min<uint64_t>(n, std::numeric_limits<uint32_t>::max()));
}

struct Totals {
  uint64_t operations = 0, ok = 0, expected = 0, failed = 0, indeterminate = 0,
           retries = 0;
  uint64_t codes[kStatusCodes] = {};
};

Totals Sum(const Stats& stats) {
  Totals totals;
  for (OpKind kind : kAllOpKinds) {
    const OpStats& op = stats.op(kind);
    for (int c = 0; c < kStatusCodes; ++c) {
      totals.codes[c] += op.codes[c].load();
      totals.operations += op.codes[c].load();
    }
    totals.failed += op.failed.load();
    totals.indeterminate += op.indeterminate.load();
    totals.retries += op.retries.load();
  }
  totals.ok = totals.codes[0];
  totals.expected = totals.operations - totals.ok - totals.failed - totals.indeterminate;
  return totals;
}

// What Judge and BuildReport derive from the stats, computed in one place.
struct Digest {
  Totals totals;
  double seconds;          // elapsed, never zero
  Histogram::Summary all;  // latency of the successful operations
};

Digest DigestOf(const RunResult& result) {
  return {Sum(*result.stats),
          std::max(absl::ToDoubleSeconds(result.elapsed - result.warmup), 1e-9),
          result.stats->all_ok().Summarize()};
}

void SetSchedule(const Schedule& schedule, pb::Schedule* out) {
  out->set_kind(ScheduleKindName(schedule.kind));
  out->set_start(Finite(schedule.start));
  out->set_step(Finite(schedule.step));
  out->set_end(Finite(schedule.end));
  out->set_step_duration_s(Finite(absl::ToDoubleSeconds(schedule.step_duration)));
  out->set_max_duration_s(Finite(absl::ToDoubleSeconds(schedule.max_duration)));
}

void SetLatency(const Histogram::Summary& s, pb::Latency* latency) {
  latency->set_count(Count(s.count));
  latency->set_min(Ms(s.min));
  latency->set_mean(Ms(s.mean));
  latency->set_p50(Ms(s.Percentile(0.50)));
  latency->set_p90(Ms(s.Percentile(0.90)));
  latency->set_p95(Ms(s.Percentile(0.95)));
  latency->set_p99(Ms(s.Percentile(0.99)));
  latency->set_p999(Ms(s.Percentile(0.999)));
  latency->set_max(Ms(s.max));
  latency->set_p9999(Ms(s.Percentile(0.9999)));
}

// The codes seen, by name.
void SetCodes(const uint64_t (&codes)[kStatusCodes],
              google::protobuf::Map<std::string, uint32_t>* names) {
  for (int c = 0; c < kStatusCodes; ++c) {
    if (codes[c] == 0) continue;
    (*names)[client::StatusCodeName(static_cast<grpc::StatusCode>(c))] = Count(codes[c]);
  }
}

void SetConfig(const Config& config, pb::Config* out) {
  out->set_scenario(ScenarioName(config.scenario));
  for (const std::string& target : config.targets) out->add_targets(target);
  out->set_connections(config.connections);
  out->set_concurrency(config.concurrency);
  out->set_requests(Count(static_cast<uint64_t>(std::max<int64_t>(config.requests, 0))));
  out->set_duration_s(Finite(absl::ToDoubleSeconds(config.duration)));
  out->set_rps(Finite(config.rps));
  out->set_timeout_s(Finite(absl::ToDoubleSeconds(config.timeout)));
  out->set_max_retries(config.max_retries);
  out->set_users(config.users);
  out->set_burst(config.burst);
  out->set_user_prefix(config.user_prefix);
  out->set_seed(config.seed);
  out->set_verify(config.verify);
  out->set_sql_verify(!config.database_url.empty());
  out->set_max_error_rate(Finite(config.max_error_rate));
  SetSchedule(config.rate, out->mutable_load_schedule());
  SetSchedule(config.window, out->mutable_concurrency_schedule());
  out->set_warmup_s(Finite(absl::ToDoubleSeconds(config.warmup)));
  out->set_warmup_requests(
      Count(static_cast<uint64_t>(std::max<int64_t>(config.warmup_requests, 0))));
  out->set_interval_s(Finite(absl::ToDoubleSeconds(config.interval)));
}

void SetOperation(const OpStats& op, double seconds, pb::Operation* out) {
  uint64_t codes[kStatusCodes];
  uint64_t count = 0;
  for (int c = 0; c < kStatusCodes; ++c) count += codes[c] = op.codes[c].load();
  out->set_count(Count(count));
  out->set_ops_per_second(Finite(count / seconds));
  out->set_failed(Count(op.failed.load()));
  out->set_indeterminate(Count(op.indeterminate.load()));
  out->set_retries(Count(op.retries.load()));
  SetLatency(op.ok_latency.Summarize(), out->mutable_latency_ms());
  SetLatency(op.error_latency.Summarize(), out->mutable_error_latency_ms());
  SetCodes(codes, out->mutable_status_codes());
}

void SetVerification(const Verification& verification, pb::Verification* out) {
  out->set_ran(verification.ran);
  out->set_not_run_reason(verification.not_run_reason);
  out->set_verdict(VerdictName(verification.verdict));
  for (const Check& check : verification.checks) {
    pb::Check* checked = out->add_checks();
    checked->set_name(check.name);
    checked->set_description(check.description);
    checked->set_verdict(VerdictName(check.verdict));
    checked->set_users(check.users);
    checked->set_violation_count(check.violation_count);
    for (const std::string& violation : check.violations)
      checked->add_violations(violation);
  }
}

}  // namespace

ClientCost MeasureClientCost() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  ClientCost cost;
  cost.user_cpu_seconds = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6;
  cost.system_cpu_seconds = usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
  cost.peak_rss_mb = usage.ru_maxrss / 1024.0;  // Linux reports KiB
  return cost;
}

void Judge(RunResult& result) {
  const Config& config = *result.config;
  const Digest digest = DigestOf(result);
  const Totals& totals = digest.totals;
  result.error_rate = totals.operations == 0
                          ? 0
                          : static_cast<double>(totals.failed + totals.indeterminate) /
                                static_cast<double>(totals.operations);
  const Histogram::Summary& latency = digest.all;
  double rps = totals.operations / digest.seconds;
  result.thresholds.clear();
  result.breached.clear();
  auto hold = [&result](std::string name, std::string limit, std::string observed,
                        bool breached) {
    result.thresholds.push_back(
        {std::move(name), std::move(limit), std::move(observed), breached});
  };
  hold("max_error_rate", absl::StrFormat("%.4f%%", 100 * config.max_error_rate),
       absl::StrFormat("%.4f%%", 100 * result.error_rate),
       result.error_rate > config.max_error_rate);
  if (config.max_p99 > absl::ZeroDuration()) {
    if (latency.Percentile(0.99) > config.max_p99) {
      result.breached.push_back(
          absl::StrCat("p99 ", absl::FormatDuration(latency.Percentile(0.99)),
                       " > --max_p99 ", absl::FormatDuration(config.max_p99)));
    }
    hold("max_p99", absl::FormatDuration(config.max_p99),
         absl::FormatDuration(latency.Percentile(0.99)),
         latency.Percentile(0.99) > config.max_p99);
  }
  if (config.min_rps > 0) {
    if (rps < config.min_rps) {
      result.breached.push_back(
          absl::StrFormat("%.1f rps < --min_rps %.1f", rps, config.min_rps));
    }
    hold("min_rps", absl::StrFormat("%.1f/s", config.min_rps),
         absl::StrFormat("%.1f/s", rps), rps < config.min_rps);
  }
  // The error rate has an exit code of its own (2); the others exit 3.
  const bool threshold_breached = !result.breached.empty();
  if (result.verification.verdict == Verdict::kFalse) {
    result.exit_code = kExitViolation;
  } else if (result.error_rate > config.max_error_rate ||
             result.verification.verdict == Verdict::kUnknown) {
    result.exit_code = kExitErrors;
  } else if (threshold_breached) {
    result.exit_code = kExitThreshold;
  } else {
    result.exit_code = kExitPass;
  }
}

pb::Report BuildReport(const RunResult& result) {
  const Stats& stats = *result.stats;
  const Digest digest = DigestOf(result);
  const Totals& totals = digest.totals;
  const double seconds = digest.seconds;

  pb::Report report;
  report.set_schema(kReportSchema);
  SetConfig(*result.config, report.mutable_config());
  *report.mutable_started_at() =
      TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(result.started));
  report.set_elapsed_s(Finite(absl::ToDoubleSeconds(result.elapsed)));
  report.set_measured_s(seconds);

  pb::Totals* sums = report.mutable_totals();
  sums->set_operations(Count(totals.operations));
  sums->set_ok(Count(totals.ok));
  sums->set_expected_errors(Count(totals.expected));
  sums->set_failed(Count(totals.failed));
  sums->set_indeterminate(Count(totals.indeterminate));
  sums->set_retries(Count(totals.retries));
  sums->set_ops_per_second(Finite(totals.operations / seconds));
  sums->set_error_rate(Finite(result.error_rate));
  sums->set_warmup_operations(Count(stats.warmup_operations()));

  SetLatency(digest.all, report.mutable_latency_ms());
  for (const auto& [upper, n] : digest.all.buckets) {
    pb::HistogramBucket* bucket = report.add_histogram();
    bucket->set_le_ms(Ms(upper));
    bucket->set_count(Count(n));
  }
  SetCodes(totals.codes, report.mutable_status_codes());
  for (OpKind kind : kAllOpKinds) {
    const OpStats& op = stats.op(kind);
    bool ran = std::any_of(op.codes.begin(), op.codes.end(),
                           [](const std::atomic<uint64_t>& n) { return n.load() > 0; });
    if (ran) SetOperation(op, seconds, &(*report.mutable_operations())[OpName(kind)]);
  }
  for (const auto& [message, n] : stats.ErrorMessages()) {
    pb::ErrorMessage* error = report.add_errors();
    error->set_message(message);
    error->set_count(Count(n));
  }

  pb::ClientCost* client = report.mutable_client();
  const double cpu = result.cost.user_cpu_seconds + result.cost.system_cpu_seconds;
  client->set_user_cpu_s(Finite(result.cost.user_cpu_seconds));
  client->set_system_cpu_s(Finite(result.cost.system_cpu_seconds));
  client->set_ops_per_cpu_second(Finite(totals.operations / std::max(cpu, 1e-9)));
  client->set_peak_rss_mb(Finite(result.cost.peak_rss_mb));

  SetVerification(result.verification, report.mutable_verification());
  for (const std::string& breach : result.breached)
    report.add_thresholds_breached(breach);
  for (const ThresholdResult& threshold : result.thresholds) {
    pb::Threshold* out = report.add_thresholds();
    out->set_name(threshold.name);
    out->set_limit(threshold.limit);
    out->set_observed(threshold.observed);
    out->set_breached(threshold.breached);
  }
  for (const Interval& interval : stats.Series()) {
    pb::Interval* out = report.add_series();
    out->set_end_s(Finite(interval.end_s));
    out->set_seconds(Finite(interval.seconds));
    out->set_operations(Count(interval.operations));
    out->set_errors(Count(interval.errors));
    out->set_ops_per_second(Finite(interval.ops_per_second));
    out->set_p50_ms(Finite(interval.p50_ms));
    out->set_p99_ms(Finite(interval.p99_ms));
    out->set_target_rps(Finite(interval.target_rps));
    out->set_target_concurrency(interval.target_concurrency);
    out->set_in_flight(interval.in_flight);
    out->set_warmup(interval.warmup);
    out->set_started(Count(interval.started));
    out->set_started_per_second(Finite(interval.started_per_second));
  }
  report.set_exit_code(result.exit_code);
  return report;
}

absl::StatusOr<std::string> RenderReport(const pb::Report& report,
                                         const std::string& format) {
  if (format == "json") return JsonReport(report);
  if (format == "junit") return JunitReport(report);
  if (format == "html") return HtmlReport(report);
  if (format == "csv") return CsvReport(report);
  if (format == "prometheus") return PrometheusReport(report);
  if (format == "text") return TextReport(report);
  return absl::InvalidArgumentError(absl::StrCat("unknown report format ", format));
}

absl::StatusOr<std::string> JsonReport(const pb::Report& report) {
  absl::StatusOr<std::string> json = client::ToProtoJson(report);
  if (!json.ok()) return json.status();
  return absl::StrCat(*json, "\n");
}

}  // namespace card::stress
