// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The text report: a ghz-like summary rendered from the Report message alone
// (report.h), so what people read is what CI's JSON says. scripts/load-test.sh
// cuts it by its headings ("Summary:", "  Error rate", "Verification:"), so
// the layout stays as it is.
#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/card_client.h"
#include "stress/report.h"

namespace card::stress {
namespace {

namespace pb = devcard::cardstress::v1;

std::string LatencyLine(const pb::Latency& ms) {
  return absl::StrFormat(
      "min %.2f  mean %.2f  p50 %.2f  p90 %.2f  p95 %.2f  p99 %.2f  p99.9 %.2f  "
      "p99.99 %.2f  max %.2f ms",
      ms.min(), ms.mean(), ms.p50(), ms.p90(), ms.p95(), ms.p99(), ms.p999(), ms.p9999(),
      ms.max());
}

// Ten rows, like ghz: latency ranges between min and max, with bars.
std::string HistogramText(
    const pb::Latency& ms,
    const google::protobuf::RepeatedPtrField<pb::HistogramBucket>& buckets) {
  if (ms.count() == 0) return "  (no samples)\n";
  std::string out;
  constexpr int kRows = 10;
  double low = ms.min(), high = ms.max();
  double step = std::max((high - low) / kRows, 1e-3);
  uint64_t rows[kRows] = {};
  for (const pb::HistogramBucket& bucket : buckets) {
    int row = std::clamp(static_cast<int>((std::min(bucket.le_ms(), high) - low) / step),
                         0, kRows - 1);
    rows[row] += bucket.count();
  }
  uint64_t most = *std::max_element(rows, rows + kRows);
  for (int r = 0; r < kRows; ++r) {
    int width = most == 0 ? 0 : static_cast<int>(40.0 * rows[r] / most + 0.5);
    absl::StrAppendFormat(&out, "  %9.2f ms [%8llu] |%s\n", low + step * (r + 1),
                          static_cast<unsigned long long>(rows[r]),
                          std::string(width, '#'));
  }
  return out;
}

std::string PerOperation(
    const google::protobuf::Map<std::string, pb::Operation>& operations) {
  std::string out = "Per operation:\n";
  for (OpKind kind : kAllOpKinds) {
    auto found = operations.find(OpName(kind));
    if (found == operations.end()) continue;
    const pb::Operation& op = found->second;
    absl::StrAppendFormat(&out,
                          "  %-13s %8d ops %9.1f/s  p50 %7.2f ms  p99 %7.2f ms  failed %d"
                          "  indeterminate %d  retries %d\n",
                          OpName(kind), op.count(), op.ops_per_second(),
                          op.latency_ms().p50(), op.latency_ms().p99(), op.failed(),
                          op.indeterminate(), op.retries());
  }
  return out;
}

// In code order (OK first), as gRPC numbers them.
std::string StatusCodes(const google::protobuf::Map<std::string, uint32_t>& codes) {
  std::string out = "\nStatus codes:\n";
  for (int c = 0; c < kStatusCodes; ++c) {
    std::string name = client::StatusCodeName(static_cast<grpc::StatusCode>(c));
    auto found = codes.find(name);
    if (found != codes.end() && found->second > 0) {
      absl::StrAppendFormat(&out, "  %-20s %d\n", name, found->second);
    }
  }
  return out;
}

std::string VerificationText(const pb::Verification& verification) {
  std::string out = "\nVerification:\n";
  if (!verification.ran()) {
    absl::StrAppend(
        &out, "  ",
        verification.not_run_reason().empty() ? "not run" : verification.not_run_reason(),
        "\n");
  }
  for (const pb::Check& check : verification.checks()) {
    absl::StrAppendFormat(&out, "  %-28s %-7s %d users  — %s\n", check.name(),
                          check.verdict(), check.users(), check.description());
    for (const std::string& violation : check.violations()) {
      absl::StrAppend(&out, "      ", violation, "\n");
    }
    if (check.violation_count() > check.violations_size()) {
      absl::StrAppendFormat(&out, "      ... %d in all\n", check.violation_count());
    }
  }
  return out;
}

}  // namespace

std::string VerdictWords(const pb::Report& report) {
  switch (report.exit_code()) {
    case kExitPass:
      // Never a PASS for checks that did not run.
      return report.verification().ran()
                 ? "PASS"
                 : absl::StrCat("load OK; verification ",
                                report.verification().not_run_reason().empty()
                                    ? "not run"
                                    : report.verification().not_run_reason());
    case kExitViolation:
      return "FAIL: invariant violated";
    case kExitErrors:
      return "FAIL: errors or unknown verdict";
    default:
      return "FAIL: threshold breached";
  }
}

std::string TextReport(const pb::Report& report) {
  const pb::Config& config = report.config();
  const pb::Totals& totals = report.totals();
  std::string out;
  absl::StrAppendFormat(&out, "Summary:\n  Scenario:      %s (seed %d, users %s-*)\n",
                        config.scenario(), config.seed(), config.user_prefix());
  absl::StrAppendFormat(
      &out, "  Targets:       %s  (%d connections each, concurrency %d%s)\n",
      absl::StrJoin(config.targets(), ","), config.connections(), config.concurrency(),
      config.rps() > 0 ? absl::StrFormat(", rate %.0f/s", config.rps()) : "");
  absl::StrAppendFormat(&out,
                        "  Operations:    %d  (ok %d, expected errors %d, failed %d, "
                        "indeterminate %d; %d retries)\n",
                        totals.operations(), totals.ok(), totals.expected_errors(),
                        totals.failed(), totals.indeterminate(), totals.retries());
  absl::StrAppendFormat(&out, "  Duration:      %.3f s\n", report.elapsed_s());
  if (totals.warmup_operations() > 0) {
    absl::StrAppendFormat(&out,
                          "  Warm-up:       %d operations in the first %.3f s, left out "
                          "of the figures below\n",
                          totals.warmup_operations(),
                          report.elapsed_s() - report.measured_s());
  }
  absl::StrAppendFormat(&out, "  Throughput:    %.1f ops/s\n", totals.ops_per_second());
  absl::StrAppendFormat(&out, "  Error rate:    %.4f%% (max %.4f%%)\n\n",
                        100 * totals.error_rate(), 100 * config.max_error_rate());
  absl::StrAppend(&out, "Latency (successful operations, from intended start):\n  ",
                  LatencyLine(report.latency_ms()), "\n\nHistogram:\n",
                  HistogramText(report.latency_ms(), report.histogram()), "\n");
  absl::StrAppend(&out, PerOperation(report.operations()),
                  StatusCodes(report.status_codes()));
  if (report.errors_size() > 0) {
    absl::StrAppend(&out, "\nErrors:\n");
    for (const pb::ErrorMessage& error : report.errors()) {
      absl::StrAppendFormat(&out, "  [%d] %s\n", error.count(), error.message());
    }
  }
  const pb::ClientCost& client = report.client();
  absl::StrAppendFormat(&out,
                        "\nClient: user %.2f s, system %.2f s CPU (%.0f operations per "
                        "CPU-second), peak RSS %.1f MB\n",
                        client.user_cpu_s(), client.system_cpu_s(),
                        client.ops_per_cpu_second(), client.peak_rss_mb());
  absl::StrAppend(&out, VerificationText(report.verification()));
  for (const std::string& breach : report.thresholds_breached()) {
    absl::StrAppend(&out, "Threshold: ", breach, "\n");
  }
  absl::StrAppendFormat(&out, "\nVerdict: %s (exit %d)\n", VerdictWords(report),
                        report.exit_code());
  return out;
}

}  // namespace card::stress
