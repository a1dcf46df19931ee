// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The run's report. main collects a RunResult; Judge decides the exit code;
// BuildReport turns the run into one devcard.cardstress.v1.Report (the schema,
// stress/proto/devcard/cardstress/v1/report.proto); TextReport renders that
// message as a ghz-like summary for people and JsonReport as proto JSON for CI
// (schema "card-stress/v1"). Both renderings read the same message, so they
// cannot disagree.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "devcard/cardstress/v1/report.pb.h"
#include "stress/config.h"
#include "stress/stats.h"
#include "stress/verification.h"

namespace card::stress {

// Exit codes, from worst to best.
inline constexpr int kExitPass = 0;
inline constexpr int kExitViolation = 1;
inline constexpr int kExitErrors =
    2;  // error rate above --max_error_rate, or verdict unknown
inline constexpr int kExitThreshold = 3;  // --max_p99 or --min_rps breached
inline constexpr int kExitSetup = 4;      // bad flags, cannot connect

// The report's "schema" field.
inline constexpr char kReportSchema[] = "card-stress/v1";

struct ClientCost {
  double user_cpu_seconds = 0;
  double system_cpu_seconds = 0;
  double peak_rss_mb = 0;
};
ClientCost MeasureClientCost();

// One threshold the run was held to.
struct ThresholdResult {
  std::string name;  // "max_error_rate", "max_p99", "min_rps"
  std::string limit, observed;
  bool breached = false;
};

struct RunResult {
  const Config* config = nullptr;
  absl::Time started;
  absl::Duration elapsed;
  absl::Duration warmup;  // of `elapsed`, before the measured part began
  const Stats* stats = nullptr;
  Verification verification;
  ClientCost cost;
  std::vector<ThresholdResult> thresholds;
  std::vector<std::string> breached;  // the breached thresholds, in words
  double error_rate = 0;
  int exit_code = kExitPass;
};

// Decides the exit code from the stats, the verdict and the thresholds.
void Judge(RunResult& result);

// The judged run as a message: every figure either rendering shows.
devcard::cardstress::v1::Report BuildReport(const RunResult& result);

std::string TextReport(const devcard::cardstress::v1::Report& report);
// JUnit XML (report_junit.cc): a test case per verification check and per
// threshold, violations in <failure>, an unknown verdict as <error>.
std::string JunitReport(const devcard::cardstress::v1::Report& report);
// One self-contained HTML page with inline SVG charts (report_html.cc).
std::string HtmlReport(const devcard::cardstress::v1::Report& report);
// The series as the HTML charts draw it. Every interval's figures are its own
// (operations / its actual seconds), but a last interval shorter than half of
// --interval holds too few operations for a rate or a p99 (a spike or a drop
// to 0 that never happened), so it is left out and `left_out_s` says how long
// it was; the chart says so.
struct ChartSeries {
  std::vector<const devcard::cardstress::v1::Interval*> intervals;
  double left_out_s = 0;  // 0: nothing left out
};
ChartSeries ChartIntervals(const devcard::cardstress::v1::Report& report);
// The time series, one CSV row per interval (report_export.cc).
std::string CsvReport(const devcard::cardstress::v1::Report& report);
// The summary in Prometheus' text exposition format (report_export.cc).
std::string PrometheusReport(const devcard::cardstress::v1::Report& report);
// The report in `format` (one of kFormats).
absl::StatusOr<std::string> RenderReport(const devcard::cardstress::v1::Report& report,
                                         const std::string& format);
// The verdict in a few words, as the text report's last line says it.
std::string VerdictWords(const devcard::cardstress::v1::Report& report);
// One JSON object and a newline (client/proto_json.h). Fails only if protobuf
// cannot express the message (never for a Report that BuildReport made).
absl::StatusOr<std::string> JsonReport(const devcard::cardstress::v1::Report& report);

}  // namespace card::stress
