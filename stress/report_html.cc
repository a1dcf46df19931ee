// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The HTML report: one self-contained page (inline CSS and SVG, no scripts, no
// downloads) with the verdict first, then throughput and p50/p99 over time,
// the latency histogram, status codes per operation, the verification table
// and the run's settings. It is XHTML-compatible (every element closed, every
// attribute quoted), so tests and tools can parse it as XML.
#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/time_util.h"
#include "stress/markup.h"
#include "stress/report.h"

namespace card::stress {
namespace {

namespace pb = devcard::cardstress::v1;

constexpr int kWidth = 720, kHeight = 260;
// The title and the legend get a row each above the plot, so neither sits on
// the data.
constexpr int kLeft = 60, kRight = 20, kTop = 44, kBottom = 36;
constexpr int kPlotW = kWidth - kLeft - kRight, kPlotH = kHeight - kTop - kBottom;

struct Line {
  std::string name, color;
  std::vector<std::pair<double, double>> points;  // (x, y)
  bool dashed = false;
};

// A round-ish step for axis ticks covering `range` in about `ticks` steps.
double TickStep(double range, int ticks) {
  double raw = range / ticks;
  double magnitude = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * magnitude) return m * magnitude;
  }
  return 10 * magnitude;
}

// A tick label short enough for the 60-pixel margin: 1500, 12k, 1.2M.
std::string Compact(double value) {
  if (value >= 1e6) return absl::StrFormat("%gM", value / 1e6);
  if (value >= 1e4) return absl::StrFormat("%gk", value / 1e3);
  return absl::StrFormat("%g", value);
}

std::string SvgOpen(const std::string& id, const std::string& title) {
  return absl::StrFormat(
      R"(<svg xmlns="http://www.w3.org/2000/svg" id="%s" class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img"><title>%s</title>)",
      id, kWidth, kHeight, kWidth, kHeight, XmlEscape(title));
}

// The title, the plot's frame, the y axis' grid and ticks and both axis labels.
std::string Frame(const std::string& title, const std::string& x_label,
                  const std::string& y_label, double y_max) {
  std::string out;
  absl::StrAppendFormat(&out, R"(<text x="%d" y="16" class="title">%s</text>)", kLeft,
                        XmlEscape(title));
  absl::StrAppendFormat(&out,
                        R"(<rect x="%d" y="%d" width="%d" height="%d" class="plot"/>)",
                        kLeft, kTop, kPlotW, kPlotH);
  double y_step = TickStep(y_max, 4);
  for (double y = 0; y <= y_max * 1.0001; y += y_step) {
    double py = kTop + kPlotH - y / y_max * kPlotH;
    absl::StrAppendFormat(
        &out,
        R"(<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="grid"/><text x="%d" y="%.1f" class="tick" text-anchor="end">%s</text>)",
        kLeft, py, kLeft + kPlotW, py, kLeft - 4, py + 4, Compact(y));
  }
  absl::StrAppendFormat(
      &out, R"(<text x="%d" y="%d" class="label" text-anchor="middle">%s</text>)",
      kLeft + kPlotW / 2, kHeight - 4, XmlEscape(x_label));
  absl::StrAppendFormat(
      &out,
      R"~(<text x="12" y="%d" class="label" text-anchor="middle" transform="rotate(-90 12 %d)">%s</text>)~",
      kTop + kPlotH / 2, kTop + kPlotH / 2, XmlEscape(y_label));
  return out;
}

// A note in the chart's top-right corner, e.g. what was left out.
std::string Note(const std::string& text) {
  return absl::StrFormat(
      R"(<text x="%d" y="16" class="note" text-anchor="end">%s</text>)", kLeft + kPlotW,
      XmlEscape(text));
}

// One legend entry per line in the row above the plot, right-aligned: a swatch
// drawn as the line is (dashed or not), then its name.
std::string Legend(const std::vector<Line>& lines) {
  constexpr int kSwatch = 20, kGap = 14;
  constexpr double kCharWidth = 6.5;  // at the legend's 11px
  double width = 0;
  for (const Line& line : lines)
    width += kSwatch + 4 + kCharWidth * line.name.size() + kGap;
  double x = kLeft + kPlotW - width + kGap;
  const int y = kTop - 10;
  std::string out;
  for (const Line& line : lines) {
    absl::StrAppendFormat(
        &out,
        R"(<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="2"%s class="swatch"/><text x="%.1f" y="%d" class="legend">%s</text>)",
        x, y - 4, x + kSwatch, y - 4, line.color,
        line.dashed ? R"( stroke-dasharray="6 4")" : "", x + kSwatch + 4, y,
        XmlEscape(line.name));
    x += kSwatch + 4 + kCharWidth * line.name.size() + kGap;
  }
  return out;
}

std::string LineChart(const std::string& id, const std::string& title,
                      const std::string& y_label, std::vector<Line> lines,
                      double warmup_end, const std::string& note) {
  double x_max = 1e-9, y_max = 1e-9;
  for (const Line& line : lines) {
    for (const auto& [x, y] : line.points) {
      x_max = std::max(x_max, x);
      y_max = std::max(y_max, y);
    }
  }
  y_max *= 1.1;
  std::string out = SvgOpen(id, title);
  absl::StrAppend(&out, Frame(title, "seconds since the start", y_label, y_max));
  double x_step = TickStep(x_max, 8);
  for (double x = 0; x <= x_max * 1.0001; x += x_step) {
    absl::StrAppendFormat(
        &out, R"(<text x="%.1f" y="%d" class="tick" text-anchor="middle">%s</text>)",
        kLeft + x / x_max * kPlotW, kTop + kPlotH + 14, absl::StrFormat("%g", x));
  }
  if (warmup_end > 0) {
    const double width = std::min(warmup_end / x_max, 1.0) * kPlotW;
    absl::StrAppendFormat(
        &out, R"(<rect x="%d" y="%d" width="%.1f" height="%d" class="warmup"/>)", kLeft,
        kTop, width, kPlotH);
    // At the top, where the 10% headroom above the highest point keeps it off
    // the lines; inside the shading when the word fits, else just after it.
    absl::StrAppendFormat(&out,
                          R"(<text x="%.1f" y="%d" class="warmup-label">warm-up</text>)",
                          width >= 56 ? kLeft + 4.0 : kLeft + width + 4, kTop + 12);
  }
  // Dashed lines (the target) last, so the measured lines cannot hide them.
  std::stable_sort(lines.begin(), lines.end(),
                   [](const Line& a, const Line& b) { return !a.dashed && b.dashed; });
  for (const Line& line : lines) {
    std::vector<std::string> points;
    for (const auto& [x, y] : line.points) {
      points.push_back(absl::StrFormat("%.1f,%.1f", kLeft + x / x_max * kPlotW,
                                       kTop + kPlotH - y / y_max * kPlotH));
    }
    absl::StrAppendFormat(
        &out,
        R"(<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"><title>%s</title></polyline>)",
        line.color, line.dashed ? R"( stroke-dasharray="6 4")" : "",
        absl::StrJoin(points, " "), XmlEscape(line.name));
  }
  absl::StrAppend(&out, Legend(lines));
  if (!note.empty()) absl::StrAppend(&out, Note(note));
  return absl::StrCat(out, "</svg>");
}

std::string LatencyLabel(double ms) {
  return ms >= 1000 ? absl::StrFormat("%g s", ms / 1000) : absl::StrFormat("%g ms", ms);
}

// Bars per histogram bucket on a logarithmic latency axis, with a count axis.
std::string HistogramChart(const pb::Report& report) {
  const auto& buckets = report.histogram();
  const std::string title = "Latency histogram (successful operations)";
  std::string out = SvgOpen("latency-histogram", "Latency histogram");
  if (buckets.empty()) {
    return absl::StrCat(out,
                        R"(<text x="60" y="120" class="label">no samples</text></svg>)");
  }
  double lo = std::log10(std::max(buckets[0].le_ms(), 1e-3));
  double hi = std::log10(std::max(buckets[buckets.size() - 1].le_ms(), 1e-3));
  if (hi - lo < 0.5) {
    const double middle = (lo + hi) / 2;
    lo = middle - 0.25;
    hi = middle + 0.25;
  }
  // A margin either side, so the first and last bars are not cut by the frame.
  const double pad = (hi - lo) * 0.04;
  lo -= pad;
  hi += pad;
  uint32_t most = 1;
  for (const pb::HistogramBucket& b : buckets) most = std::max(most, b.count());
  const double y_max = most * 1.1;
  absl::StrAppend(&out, Frame(title, "latency (log scale)", "operations", y_max));
  // x ticks at 1, 2 and 5 of every decade in range (finer when that gives
  // fewer than four, as in a range within one decade, say 1 to 6 ms); a label
  // only where it does not crowd the one before.
  std::vector<double> mantissas = {1, 2, 5};
  int in_range = 0;
  for (double decade = std::floor(lo); decade <= hi; decade += 1) {
    for (double m : mantissas) {
      const double at = decade + std::log10(m);
      in_range += at >= lo && at <= hi;
    }
  }
  if (in_range < 4) mantissas = {1, 1.5, 2, 3, 4, 5, 6, 8};
  double last_px = -1e9;
  for (double decade = std::floor(lo); decade <= hi; decade += 1) {
    for (double m : mantissas) {
      const double value = m * std::pow(10, decade);
      const double at = std::log10(value);
      if (at < lo || at > hi) continue;
      const double px = kLeft + (at - lo) / (hi - lo) * kPlotW;
      absl::StrAppendFormat(&out,
                            R"(<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="grid"/>)",
                            px, kTop, px, kTop + kPlotH);
      if (px - last_px < 44) continue;
      last_px = px;
      absl::StrAppendFormat(
          &out, R"(<text x="%.1f" y="%d" class="tick" text-anchor="middle">%s</text>)",
          px, kTop + kPlotH + 14, LatencyLabel(value));
    }
  }
  const double bar = std::max(2.0, kPlotW / 120.0);
  for (const pb::HistogramBucket& b : buckets) {
    double px = kLeft + (std::log10(std::max(b.le_ms(), 1e-3)) - lo) / (hi - lo) * kPlotW;
    double h = b.count() / y_max * kPlotH;
    absl::StrAppendFormat(
        &out,
        R"(<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="bar"><title>&#8804; %.3f ms: %d</title></rect>)",
        std::max<double>(kLeft, px - bar), kTop + kPlotH - h, bar, h, b.le_ms(),
        b.count());
  }
  return absl::StrCat(out, "</svg>");
}

std::string Row(const std::vector<std::string>& cells, const char* tag = "td") {
  std::string out = "<tr>";
  for (const std::string& cell : cells) {
    absl::StrAppend(&out, "<", tag, ">", XmlEscape(cell), "</", tag, ">");
  }
  return absl::StrCat(out, "</tr>\n");
}

std::string Ms(double ms) { return absl::StrFormat("%.2f", ms); }

std::string Settings(const pb::Report& report) {
  const pb::Config& c = report.config();
  auto schedule = [](const pb::Schedule& s) {
    return s.kind() == "const"
               ? absl::StrFormat("const %g", s.start())
               : absl::StrFormat(
                     "%s from %g, %+g per %gs, to %g%s", s.kind(), s.start(), s.step(),
                     s.step_duration_s(), s.end(),
                     s.max_duration_s() > 0
                         ? absl::StrFormat(", for at most %gs", s.max_duration_s())
                         : "");
  };
  std::vector<std::pair<std::string, std::string>> rows = {
      {"scenario", c.scenario()},
      {"targets", absl::StrJoin(c.targets(), ", ")},
      {"connections per target", absl::StrCat(c.connections())},
      {"concurrency", schedule(c.concurrency_schedule())},
      {"rate (operations/s)",
       c.load_schedule().start() > 0 || c.load_schedule().kind() != "const"
           ? schedule(c.load_schedule())
           : "closed loop"},
      {"requests", c.requests() > 0 ? absl::StrCat(c.requests()) : "no limit"},
      {"duration",
       c.duration_s() > 0 ? absl::StrFormat("%gs", c.duration_s()) : "no limit"},
      {"warm-up", c.warmup_requests() > 0
                      ? absl::StrCat(c.warmup_requests(), " operations")
                      : absl::StrFormat("%gs", c.warmup_s())},
      {"users", absl::StrCat(c.users(), " (", c.user_prefix(), "-*)")},
      {"burst", absl::StrCat(c.burst())},
      {"timeout", absl::StrFormat("%gs", c.timeout_s())},
      {"max retries", absl::StrCat(c.max_retries())},
      {"seed", absl::StrCat(c.seed())},
      {"verify", c.verify() ? (c.sql_verify() ? "API and SQL" : "API") : "off"},
      {"max error rate", absl::StrFormat("%g", c.max_error_rate())},
      {"interval", absl::StrFormat("%gs", c.interval_s())},
  };
  std::string out = "<table id=\"settings\">\n";
  for (const auto& [name, value] : rows) absl::StrAppend(&out, Row({name, value}));
  return absl::StrCat(out, "</table>\n");
}

std::string VerificationTable(const pb::Verification& verification) {
  std::string out = "<table id=\"verification\">\n";
  absl::StrAppend(
      &out, Row({"check", "verdict", "users", "violations", "what it checks"}, "th"));
  if (!verification.ran()) {
    absl::StrAppend(&out, Row({"verification", "—", "", "",
                               verification.not_run_reason().empty()
                                   ? "not run"
                                   : verification.not_run_reason()}));
  }
  for (const pb::Check& check : verification.checks()) {
    std::string examples = absl::StrJoin(check.violations(), "; ");
    absl::StrAppendFormat(
        &out,
        "<tr "
        "class=\"%s\"><td>%s</td><td>%s</td><td>%d</td><td>%d%s</td><td>%s</td></tr>\n",
        check.verdict() == "pass" ? "pass" : "fail", XmlEscape(check.name()),
        XmlEscape(check.verdict()), check.users(), check.violation_count(),
        examples.empty() ? "" : absl::StrCat(": ", XmlEscape(examples)),
        XmlEscape(check.description()));
  }
  return absl::StrCat(out, "</table>\n");
}

std::string StatusTable(const pb::Report& report) {
  // Scrolls sideways on a narrow window rather than squeezing the columns.
  std::string out = "<div class=\"wide\"><table id=\"status-codes\">\n";
  absl::StrAppend(&out,
                  Row({"operation", "operations", "ops/s", "p50 ms", "p99 ms", "p99.9 ms",
                       "failed", "indeterminate", "retries", "status codes"},
                      "th"));
  for (OpKind kind : kAllOpKinds) {
    auto found = report.operations().find(OpName(kind));
    if (found == report.operations().end()) continue;
    const pb::Operation& op = found->second;
    std::vector<std::string> codes;
    for (const auto& [code, n] : op.status_codes())
      codes.push_back(absl::StrCat(code, " ", n));
    std::sort(codes.begin(), codes.end());
    std::string row = Row({OpName(kind), absl::StrCat(op.count()),
                           absl::StrFormat("%.1f", op.ops_per_second()),
                           Ms(op.latency_ms().p50()), Ms(op.latency_ms().p99()),
                           Ms(op.latency_ms().p999()), absl::StrCat(op.failed()),
                           absl::StrCat(op.indeterminate()), absl::StrCat(op.retries())});
    // A code name (DEADLINE_EXCEEDED) broken across lines reads as two codes:
    // one code per line, none wrapped.
    for (std::string& code : codes) code = XmlEscape(code);
    row.insert(row.rfind("</tr>"),
               absl::StrCat("<td class=\"codes\"><span>",
                            absl::StrJoin(codes, "</span><br/><span>"), "</span></td>"));
    absl::StrAppend(&out, row);
  }
  return absl::StrCat(out, "</table></div>\n");
}

constexpr char kStyle[] = R"(
body{font:14px system-ui,sans-serif;margin:24px auto;max-width:900px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
tr.fail td{background:#fde2e2}tr.pass td:nth-child(2){color:#17702c}
.verdict{display:inline-block;padding:6px 12px;border-radius:4px;font-weight:bold}
.ok{background:#dff3e3;color:#17702c}.bad{background:#fde2e2;color:#a01818}.na{background:#eee}
.chart .title{font-weight:bold;font-size:13px}.chart .tick,.chart .legend{font-size:11px}
.chart .label{font-size:11px;fill:#555}.chart .plot{fill:#fafafa;stroke:#999}
.chart .grid{stroke:#e3e3e3}.chart .bar{fill:#3b6fb6}.chart .warmup{fill:#f2e8c9;opacity:.6}
.chart .warmup-label{font-size:11px;fill:#8a6d1f}.chart .note{font-size:11px;fill:#a05a00;font-style:italic}
.wide{overflow-x:auto}#status-codes td:first-child,td.codes span{white-space:nowrap}
)";

}  // namespace

ChartSeries ChartIntervals(const pb::Report& report) {
  ChartSeries out;
  const int n = report.series_size();
  for (int k = 0; k < n; ++k) out.intervals.push_back(&report.series(k));
  const double nominal = report.config().interval_s();
  if (n > 0 && nominal > 0 && report.series(n - 1).seconds() < nominal / 2) {
    out.left_out_s = report.series(n - 1).seconds();
    out.intervals.pop_back();
  }
  return out;
}

std::string HtmlReport(const pb::Report& report) {
  const pb::Totals& totals = report.totals();
  double warmup_end = report.elapsed_s() - report.measured_s();
  std::vector<Line> rate{{"finished/s", "#3b6fb6", {}, false},
                         {"started/s", "#2e8b57", {}, false}};
  std::vector<Line> latency{{"p50", "#3b6fb6", {}, false}, {"p99", "#c0392b", {}, false}};
  Line target{"target", "#555", {}, true};
  const ChartSeries series = ChartIntervals(report);
  for (const pb::Interval* i : series.intervals) {
    rate[0].points.emplace_back(i->end_s(), i->ops_per_second());
    rate[1].points.emplace_back(i->end_s(), i->started_per_second());
    if (i->target_rps() > 0) target.points.emplace_back(i->end_s(), i->target_rps());
    latency[0].points.emplace_back(i->end_s(), i->p50_ms());
    latency[1].points.emplace_back(i->end_s(), i->p99_ms());
  }
  if (!target.points.empty()) rate.push_back(target);
  const std::string note =
      series.left_out_s > 0
          ? absl::StrFormat("the last %s interval is left out: too short for a rate",
                            series.left_out_s < 1
                                ? absl::StrFormat("%.0f ms", series.left_out_s * 1000)
                                : absl::StrFormat("%.2f s", series.left_out_s))
          : "";

  const char* verdict_class = report.exit_code() != 0       ? "bad"
                              : report.verification().ran() ? "ok"
                                                            : "na";
  std::string out =
      "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" "
      "lang=\"en\">\n<head>\n"
      "<meta charset=\"utf-8\"/>\n";
  absl::StrAppend(
      &out, "<title>card-stress ", XmlEscape(report.config().scenario()), " ",
      XmlEscape(google::protobuf::util::TimeUtil::ToString(report.started_at())),
      "</title>\n<style>", kStyle, "</style>\n</head>\n<body>\n");
  absl::StrAppend(&out, "<h1>card-stress: ", XmlEscape(report.config().scenario()),
                  "</h1>\n");
  absl::StrAppendFormat(
      &out, "<p><span class=\"verdict %s\" id=\"verdict\">%s (exit %d)</span></p>\n",
      verdict_class, XmlEscape(VerdictWords(report)), report.exit_code());
  absl::StrAppendFormat(
      &out,
      "<p>%d operations in %.1f s (%.1f/s): ok %d, expected errors %d, failed %d, "
      "indeterminate %d; %d retries; error rate %.4f%%.%s</p>\n",
      totals.operations(), report.measured_s(), totals.ops_per_second(), totals.ok(),
      totals.expected_errors(), totals.failed(), totals.indeterminate(), totals.retries(),
      100 * totals.error_rate(),
      totals.warmup_operations() > 0
          ? absl::StrFormat(" Warm-up: %d operations, left out.",
                            totals.warmup_operations())
          : "");
  for (const std::string& breach : report.thresholds_breached()) {
    absl::StrAppend(&out, "<p class=\"verdict bad\">Threshold: ", XmlEscape(breach),
                    "</p>\n");
  }
  absl::StrAppend(&out, "<h2>Throughput over time</h2>\n",
                  LineChart("throughput", "Operations per second", "operations/s", rate,
                            warmup_end, note),
                  "\n<h2>Latency over time</h2>\n",
                  LineChart("latency", "p50 and p99 latency (successful operations)",
                            "ms", latency, warmup_end, note),
                  "\n<h2>Latency histogram</h2>\n", HistogramChart(report), "\n");
  const pb::Latency& ms = report.latency_ms();
  absl::StrAppend(
      &out, "<table id=\"percentiles\">\n",
      Row({"min", "mean", "p50", "p90", "p95", "p99", "p99.9", "p99.99", "max"}, "th"),
      Row({Ms(ms.min()), Ms(ms.mean()), Ms(ms.p50()), Ms(ms.p90()), Ms(ms.p95()),
           Ms(ms.p99()), Ms(ms.p999()), Ms(ms.p9999()), Ms(ms.max())}),
      "</table>\n");
  absl::StrAppend(&out, "<h2>Status codes per operation</h2>\n", StatusTable(report));
  if (report.errors_size() > 0) {
    absl::StrAppend(&out, "<h2>Errors</h2>\n<ul>\n");
    for (const pb::ErrorMessage& error : report.errors()) {
      absl::StrAppend(&out, "<li>[", error.count(), "] ", XmlEscape(error.message()),
                      "</li>\n");
    }
    absl::StrAppend(&out, "</ul>\n");
  }
  absl::StrAppend(&out, "<h2>Verification</h2>\n",
                  VerificationTable(report.verification()));
  if (report.thresholds_size() > 0) {
    absl::StrAppend(&out, "<h2>Thresholds</h2>\n<table id=\"thresholds\">\n",
                    Row({"threshold", "limit", "observed", "result"}, "th"));
    for (const pb::Threshold& t : report.thresholds()) {
      absl::StrAppend(&out, Row({t.name(), t.limit(), t.observed(),
                                 t.breached() ? "breached" : "met"}));
    }
    absl::StrAppend(&out, "</table>\n");
  }
  const pb::ClientCost& client = report.client();
  absl::StrAppendFormat(&out,
                        "<h2>Client</h2>\n<p>user %.2f s, system %.2f s CPU (%.0f "
                        "operations per CPU-second), peak RSS %.1f MB</p>\n",
                        client.user_cpu_s(), client.system_cpu_s(),
                        client.ops_per_cpu_second(), client.peak_rss_mb());
  absl::StrAppend(&out, "<h2>Settings</h2>\n", Settings(report), "</body>\n</html>\n");
  return out;
}

}  // namespace card::stress
