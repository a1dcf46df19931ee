// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The machine-readable exports besides JSON: the time series as CSV (one row
// per interval) and the run's summary in Prometheus' text exposition format,
// for a pushgateway or node-exporter's textfile collector. Every metric but
// the latency summary is a gauge: a run's values, not a process's counters.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "stress/report.h"

namespace card::stress {
namespace {

namespace pb = devcard::cardstress::v1;

std::string Label(absl::string_view value) {
  return absl::StrReplaceAll(value, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
}

class Exposition {
 public:
  explicit Exposition(const pb::Report& report)
      : scenario_(absl::StrCat("scenario=\"", Label(report.config().scenario()), "\"")) {}

  void Metric(absl::string_view name, absl::string_view help,
              absl::string_view type = "gauge") {
    absl::StrAppend(&out_, "# HELP card_stress_", name, " ", help,
                    "\n# TYPE card_stress_", name, " ", type, "\n");
    name_ = std::string(name);
  }
  // A sample of the last metric (`suffix` e.g. "_sum" for a summary's);
  // `labels` like `code="OK"` (or empty).
  void Sample(double value, absl::string_view labels = "",
              absl::string_view suffix = "") {
    absl::StrAppendFormat(&out_, "card_stress_%s%s{%s%s%s} %.17g\n", name_, suffix,
                          scenario_, labels.empty() ? "" : ",", labels, value);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string scenario_, name_, out_;
};

}  // namespace

std::string CsvReport(const pb::Report& report) {
  std::string out =
      "end_s,seconds,operations,errors,ops_per_second,p50_ms,p99_ms,target_rps,"
      "target_concurrency,in_flight,warmup,started,started_per_second\n";
  for (const pb::Interval& i : report.series()) {
    absl::StrAppendFormat(&out, "%.3f,%.3f,%d,%d,%.3f,%.3f,%.3f,%.3f,%d,%d,%d,%d,%.3f\n",
                          i.end_s(), i.seconds(), i.operations(), i.errors(),
                          i.ops_per_second(), i.p50_ms(), i.p99_ms(), i.target_rps(),
                          i.target_concurrency(), i.in_flight(), i.warmup() ? 1 : 0,
                          i.started(), i.started_per_second());
  }
  return out;
}

std::string PrometheusReport(const pb::Report& report) {
  Exposition e(report);
  const pb::Totals& totals = report.totals();
  e.Metric(
      "operations",
      "Operations the run finished (warm-up excluded), by operation and status code.");
  for (const auto& [name, op] : report.operations()) {
    for (const auto& [code, n] : op.status_codes()) {
      e.Sample(
          n, absl::StrCat("operation=\"", Label(name), "\",code=\"", Label(code), "\""));
    }
  }
  e.Metric("outcomes",
           "Operations by outcome: ok, expected_error, failed, indeterminate.");
  e.Sample(totals.ok(), "outcome=\"ok\"");
  e.Sample(totals.expected_errors(), "outcome=\"expected_error\"");
  e.Sample(totals.failed(), "outcome=\"failed\"");
  e.Sample(totals.indeterminate(), "outcome=\"indeterminate\"");
  e.Metric("retries", "Attempts repeated after a retryable failure.");
  e.Sample(totals.retries());
  e.Metric("throughput_ops_per_second", "Operations per second over the measured part.");
  e.Sample(totals.ops_per_second());
  e.Metric("error_rate", "(failed + indeterminate) / operations.");
  e.Sample(totals.error_rate());
  e.Metric("latency_seconds",
           "Latency of successful operations from their intended start.", "summary");
  const pb::Latency& ms = report.latency_ms();
  const std::pair<const char*, double> quantiles[] = {
      {"0", ms.min()},        {"0.5", ms.p50()},  {"0.9", ms.p90()},
      {"0.95", ms.p95()},     {"0.99", ms.p99()}, {"0.999", ms.p999()},
      {"0.9999", ms.p9999()}, {"1", ms.max()}};
  for (const auto& [quantile, value] : quantiles) {
    e.Sample(value / 1000, absl::StrCat("quantile=\"", quantile, "\""));
  }
  e.Sample(ms.mean() * ms.count() / 1000, "", "_sum");
  e.Sample(ms.count(), "", "_count");
  e.Metric("elapsed_seconds", "Length of the load (verification excluded).");
  e.Sample(report.elapsed_s());
  e.Metric("client_cpu_seconds", "CPU card-stress spent on the load.");
  e.Sample(report.client().user_cpu_s(), "mode=\"user\"");
  e.Sample(report.client().system_cpu_s(), "mode=\"system\"");
  e.Metric("client_peak_rss_bytes", "card-stress's peak resident memory.");
  e.Sample(report.client().peak_rss_mb() * 1024 * 1024);
  e.Metric("check_passed",
           "1 if the verification check passed, 0 if it failed or could not tell.");
  for (const pb::Check& check : report.verification().checks()) {
    e.Sample(check.verdict() == "pass" ? 1 : 0,
             absl::StrCat("check=\"", Label(check.name()), "\",verdict=\"",
                          Label(check.verdict()), "\""));
  }
  e.Metric("check_violations", "Users found violating the check.");
  for (const pb::Check& check : report.verification().checks()) {
    e.Sample(check.violation_count(),
             absl::StrCat("check=\"", Label(check.name()), "\""));
  }
  e.Metric("verification_ran", "1 if the data was verified after the load.");
  e.Sample(report.verification().ran() ? 1 : 0);
  e.Metric("threshold_breached", "1 if the run breached the threshold.");
  for (const pb::Threshold& threshold : report.thresholds()) {
    e.Sample(threshold.breached() ? 1 : 0,
             absl::StrCat("threshold=\"", Label(threshold.name()), "\""));
  }
  e.Metric("exit_code",
           "0 pass, 1 invariant violated, 2 errors or unknown, 3 threshold.");
  e.Sample(report.exit_code());
  e.Metric("started_timestamp_seconds", "When the run started (Unix time).");
  e.Sample(static_cast<double>(report.started_at().seconds()));
  return e.Take();
}

}  // namespace card::stress
