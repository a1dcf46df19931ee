#include "stress/report.h"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace card::stress {
namespace {

constexpr const char* kCodeNames[kStatusCodes] = {
    "OK",           "CANCELLED",         "UNKNOWN",        "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED", "NOT_FOUND",    "ALREADY_EXISTS", "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL",         "UNAVAILABLE",    "DATA_LOSS",
    "UNAUTHENTICATED"};

constexpr OpKind kAllKinds[] = {OpKind::kCreate,      OpKind::kSetDefault, OpKind::kDelete,
                                OpKind::kUpdateLinks, OpKind::kGet,        OpKind::kList,
                                OpKind::kCreateLink,  OpKind::kHealth};

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "null";
  return absl::StrFormat("%.3f", value);
}

struct Totals {
  uint64_t operations = 0, ok = 0, expected = 0, failed = 0, indeterminate = 0, retries = 0;
  uint64_t codes[kStatusCodes] = {};
};

Totals Sum(const Stats& stats) {
  Totals totals;
  for (OpKind kind : kAllKinds) {
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

// What every report derives from the stats, computed in one place.
struct Digest {
  Totals totals;
  double seconds;          // elapsed, never zero
  Histogram::Summary all;  // latency of the successful operations
};

Digest DigestOf(const RunResult& result) {
  return {Sum(*result.stats), std::max(absl::ToDoubleSeconds(result.elapsed), 1e-9),
          result.stats->all_ok().Summarize()};
}

std::string LatencyJson(const Histogram::Summary& s) {
  return absl::StrCat("{\"count\":", s.count, ",\"min\":", JsonNumber(Ms(s.min)),
                      ",\"mean\":", JsonNumber(Ms(s.mean)),
                      ",\"p50\":", JsonNumber(Ms(s.Percentile(0.50))),
                      ",\"p90\":", JsonNumber(Ms(s.Percentile(0.90))),
                      ",\"p95\":", JsonNumber(Ms(s.Percentile(0.95))),
                      ",\"p99\":", JsonNumber(Ms(s.Percentile(0.99))),
                      ",\"p999\":", JsonNumber(Ms(s.Percentile(0.999))),
                      ",\"max\":", JsonNumber(Ms(s.max)), "}");
}

std::string CodesJson(const uint64_t* codes) {
  std::vector<std::string> items;
  for (int c = 0; c < kStatusCodes; ++c) {
    if (codes[c] > 0) items.push_back(absl::StrCat(JsonString(kCodeNames[c]), ":", codes[c]));
  }
  return absl::StrCat("{", absl::StrJoin(items, ","), "}");
}

std::string LatencyLine(const Histogram::Summary& s) {
  return absl::StrFormat(
      "min %.2f  mean %.2f  p50 %.2f  p90 %.2f  p95 %.2f  p99 %.2f  p99.9 %.2f  max %.2f ms",
      Ms(s.min), Ms(s.mean), Ms(s.Percentile(0.5)), Ms(s.Percentile(0.9)),
      Ms(s.Percentile(0.95)), Ms(s.Percentile(0.99)), Ms(s.Percentile(0.999)), Ms(s.max));
}

// Ten rows, like ghz: latency ranges between min and max, with bars.
std::string HistogramText(const Histogram::Summary& s) {
  if (s.count == 0) return "  (no samples)\n";
  std::string out;
  constexpr int kRows = 10;
  double low = Ms(s.min), high = Ms(s.max);
  double step = std::max((high - low) / kRows, 1e-3);
  uint64_t rows[kRows] = {};
  for (const auto& [upper, n] : s.buckets) {
    int row = std::clamp(static_cast<int>((Ms(std::min(upper, s.max)) - low) / step), 0, kRows - 1);
    rows[row] += n;
  }
  uint64_t most = *std::max_element(rows, rows + kRows);
  for (int r = 0; r < kRows; ++r) {
    int width = most == 0 ? 0 : static_cast<int>(40.0 * rows[r] / most + 0.5);
    absl::StrAppendFormat(&out, "  %9.2f ms [%8llu] |%s\n", low + step * (r + 1),
                          static_cast<unsigned long long>(rows[r]), std::string(width, '#'));
  }
  return out;
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
  if (config.max_p99 > absl::ZeroDuration() && latency.Percentile(0.99) > config.max_p99) {
    result.breached.push_back(absl::StrCat("p99 ", absl::FormatDuration(latency.Percentile(0.99)),
                                           " > --max_p99 ", absl::FormatDuration(config.max_p99)));
  }
  if (config.min_rps > 0 && rps < config.min_rps) {
    result.breached.push_back(absl::StrFormat("%.1f rps < --min_rps %.1f", rps, config.min_rps));
  }
  if (result.verification.verdict == Verdict::kFalse) {
    result.exit_code = kExitViolation;
  } else if (result.error_rate > config.max_error_rate ||
             result.verification.verdict == Verdict::kUnknown) {
    result.exit_code = kExitErrors;
  } else if (!result.breached.empty()) {
    result.exit_code = kExitThreshold;
  } else {
    result.exit_code = kExitPass;
  }
}

std::string TextReport(const RunResult& result) {
  const Config& config = *result.config;
  const Stats& stats = *result.stats;
  const Digest digest = DigestOf(result);
  const Totals& totals = digest.totals;
  const double seconds = digest.seconds;
  const Histogram::Summary& all = digest.all;
  std::string out;
  absl::StrAppendFormat(&out, "Summary:\n  Scenario:      %s (seed %d, users %s-*)\n",
                        ScenarioName(config.scenario), config.seed, config.user_prefix);
  absl::StrAppendFormat(&out, "  Targets:       %s  (%d connections each, concurrency %d%s)\n",
                        absl::StrJoin(config.targets, ","), config.connections,
                        config.concurrency,
                        config.rps > 0 ? absl::StrFormat(", rate %.0f/s", config.rps) : "");
  absl::StrAppendFormat(&out, "  Operations:    %d  (ok %d, expected errors %d, failed %d, "
                        "indeterminate %d; %d retries)\n",
                        totals.operations, totals.ok, totals.expected, totals.failed,
                        totals.indeterminate, totals.retries);
  absl::StrAppendFormat(&out, "  Duration:      %.3f s\n  Throughput:    %.1f ops/s\n", seconds,
                        totals.operations / seconds);
  absl::StrAppendFormat(&out, "  Error rate:    %.4f%% (max %.4f%%)\n\n", 100 * result.error_rate,
                        100 * config.max_error_rate);
  absl::StrAppend(&out, "Latency (successful operations, from intended start):\n  ",
                  LatencyLine(all), "\n\nHistogram:\n", HistogramText(all), "\n");

  absl::StrAppend(&out, "Per operation:\n");
  for (OpKind kind : kAllKinds) {
    const OpStats& op = stats.op(kind);
    Histogram::Summary ok = op.ok_latency.Summarize();
    Histogram::Summary errors = op.error_latency.Summarize();
    if (ok.count + errors.count == 0) continue;
    absl::StrAppendFormat(&out, "  %-13s %8d ops %9.1f/s  p50 %7.2f ms  p99 %7.2f ms  failed %d"
                          "  indeterminate %d  retries %d\n",
                          OpName(kind), ok.count + errors.count, (ok.count + errors.count) / seconds,
                          Ms(ok.Percentile(0.5)), Ms(ok.Percentile(0.99)), op.failed.load(),
                          op.indeterminate.load(), op.retries.load());
  }
  absl::StrAppend(&out, "\nStatus codes:\n");
  for (int c = 0; c < kStatusCodes; ++c) {
    if (totals.codes[c] > 0) absl::StrAppendFormat(&out, "  %-20s %d\n", kCodeNames[c], totals.codes[c]);
  }
  std::map<std::string, uint64_t> messages = stats.ErrorMessages();
  if (!messages.empty()) {
    absl::StrAppend(&out, "\nErrors:\n");
    for (const auto& [message, n] : messages) absl::StrAppendFormat(&out, "  [%d] %s\n", n, message);
  }
  absl::StrAppendFormat(&out, "\nClient: user %.2f s, system %.2f s CPU (%.0f operations per CPU-second), "
                        "peak RSS %.1f MB\n",
                        result.cost.user_cpu_seconds, result.cost.system_cpu_seconds,
                        totals.operations / std::max(result.cost.user_cpu_seconds +
                                                         result.cost.system_cpu_seconds, 1e-9),
                        result.cost.peak_rss_mb);
  absl::StrAppend(&out, "\nVerification:\n");
  if (!result.verification.ran) absl::StrAppend(&out, "  (not run)\n");
  for (const Check& check : result.verification.checks) {
    absl::StrAppendFormat(&out, "  %-28s %-7s %d users  — %s\n", check.name,
                          VerdictName(check.verdict), check.users, check.description);
    for (const std::string& violation : check.violations) {
      absl::StrAppend(&out, "      ", violation, "\n");
    }
    if (check.violation_count > static_cast<int>(check.violations.size())) {
      absl::StrAppendFormat(&out, "      ... %d in all\n", check.violation_count);
    }
  }
  for (const std::string& breach : result.breached) absl::StrAppend(&out, "Threshold: ", breach, "\n");
  absl::StrAppendFormat(&out, "\nVerdict: %s (exit %d)\n",
                        result.exit_code == kExitPass ? "PASS"
                        : result.exit_code == kExitViolation ? "FAIL: invariant violated"
                        : result.exit_code == kExitErrors ? "FAIL: errors or unknown verdict"
                                                          : "FAIL: threshold breached",
                        result.exit_code);
  return out;
}

std::string JsonReport(const RunResult& result) {
  const Config& config = *result.config;
  const Stats& stats = *result.stats;
  const Digest digest = DigestOf(result);
  const Totals& totals = digest.totals;
  const double seconds = digest.seconds;
  const Histogram::Summary& all = digest.all;

  std::vector<std::string> targets;
  for (const std::string& t : config.targets) targets.push_back(JsonString(t));
  std::string out = absl::StrCat(
      "{\"schema\":\"card-stress/v1\",\"config\":{\"scenario\":",
      JsonString(ScenarioName(config.scenario)), ",\"targets\":[", absl::StrJoin(targets, ","),
      "],\"connections\":", config.connections, ",\"concurrency\":", config.concurrency,
      ",\"requests\":", config.requests, ",\"duration_s\":",
      JsonNumber(absl::ToDoubleSeconds(config.duration)), ",\"rps\":", JsonNumber(config.rps),
      ",\"timeout_s\":", JsonNumber(absl::ToDoubleSeconds(config.timeout)),
      ",\"max_retries\":", config.max_retries, ",\"users\":", config.users,
      ",\"burst\":", config.burst, ",\"user_prefix\":", JsonString(config.user_prefix),
      ",\"seed\":", config.seed, ",\"verify\":", config.verify ? "true" : "false",
      ",\"sql_verify\":", config.database_url.empty() ? "false" : "true",
      ",\"max_error_rate\":", JsonNumber(config.max_error_rate), "}");
  absl::StrAppend(&out, ",\"started_at\":",
                  JsonString(absl::FormatTime(absl::RFC3339_sec, result.started,
                                              absl::UTCTimeZone())),
                  ",\"elapsed_s\":", JsonNumber(seconds));
  absl::StrAppend(&out, ",\"totals\":{\"operations\":", totals.operations, ",\"ok\":", totals.ok,
                  ",\"expected_errors\":", totals.expected, ",\"failed\":", totals.failed,
                  ",\"indeterminate\":", totals.indeterminate, ",\"retries\":", totals.retries,
                  ",\"ops_per_second\":", JsonNumber(totals.operations / seconds),
                  ",\"error_rate\":", absl::StrFormat("%.6f", result.error_rate), "}");
  absl::StrAppend(&out, ",\"latency_ms\":", LatencyJson(all), ",\"histogram\":[");
  std::vector<std::string> buckets;
  for (const auto& [upper, n] : all.buckets) {
    buckets.push_back(absl::StrCat("{\"le_ms\":", JsonNumber(Ms(upper)), ",\"count\":", n, "}"));
  }
  absl::StrAppend(&out, absl::StrJoin(buckets, ","), "],\"status_codes\":", CodesJson(totals.codes));
  std::vector<std::string> ops;
  for (OpKind kind : kAllKinds) {
    const OpStats& op = stats.op(kind);
    uint64_t codes[kStatusCodes];
    uint64_t count = 0;
    for (int c = 0; c < kStatusCodes; ++c) count += codes[c] = op.codes[c].load();
    if (count == 0) continue;
    ops.push_back(absl::StrCat(
        JsonString(OpName(kind)), ":{\"count\":", count, ",\"ops_per_second\":",
        JsonNumber(count / seconds), ",\"failed\":", op.failed.load(),
        ",\"indeterminate\":", op.indeterminate.load(), ",\"retries\":", op.retries.load(),
        ",\"latency_ms\":", LatencyJson(op.ok_latency.Summarize()),
        ",\"error_latency_ms\":", LatencyJson(op.error_latency.Summarize()),
        ",\"status_codes\":", CodesJson(codes), "}"));
  }
  absl::StrAppend(&out, ",\"operations\":{", absl::StrJoin(ops, ","), "},\"errors\":[");
  std::vector<std::string> errors;
  for (const auto& [message, n] : stats.ErrorMessages()) {
    errors.push_back(absl::StrCat("{\"message\":", JsonString(message), ",\"count\":", n, "}"));
  }
  double cpu = result.cost.user_cpu_seconds + result.cost.system_cpu_seconds;
  absl::StrAppend(&out, absl::StrJoin(errors, ","), "],\"client\":{\"user_cpu_s\":",
                  JsonNumber(result.cost.user_cpu_seconds), ",\"system_cpu_s\":",
                  JsonNumber(result.cost.system_cpu_seconds), ",\"ops_per_cpu_second\":",
                  JsonNumber(totals.operations / std::max(cpu, 1e-9)), ",\"peak_rss_mb\":",
                  JsonNumber(result.cost.peak_rss_mb), "}");
  std::vector<std::string> checks;
  for (const Check& check : result.verification.checks) {
    std::vector<std::string> violations;
    for (const std::string& v : check.violations) violations.push_back(JsonString(v));
    checks.push_back(absl::StrCat(
        "{\"name\":", JsonString(check.name), ",\"description\":", JsonString(check.description),
        ",\"verdict\":", JsonString(VerdictName(check.verdict)), ",\"users\":", check.users,
        ",\"violation_count\":", check.violation_count, ",\"violations\":[",
        absl::StrJoin(violations, ","), "]}"));
  }
  absl::StrAppend(&out, ",\"verification\":{\"ran\":", result.verification.ran ? "true" : "false",
                  ",\"verdict\":", JsonString(VerdictName(result.verification.verdict)),
                  ",\"checks\":[", absl::StrJoin(checks, ","), "]}");
  std::vector<std::string> breached;
  for (const std::string& b : result.breached) breached.push_back(JsonString(b));
  absl::StrAppend(&out, ",\"thresholds_breached\":[", absl::StrJoin(breached, ","),
                  "],\"exit_code\":", result.exit_code, "}\n");
  return out;
}

}  // namespace card::stress
