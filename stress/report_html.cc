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

constexpr int kWidth = 720, kHeight = 240;
constexpr int kLeft = 60, kRight = 20, kTop = 30, kBottom = 36;

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

std::string Axes(const std::string& title, const std::string& x_label,
                 const std::string& y_label, double x_max, double y_max) {
  std::string out;
  const int plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  absl::StrAppendFormat(&out, R"(<text x="%d" y="18" class="title">%s</text>)", kLeft,
                        XmlEscape(title));
  absl::StrAppendFormat(&out,
                        R"(<rect x="%d" y="%d" width="%d" height="%d" class="plot"/>)",
                        kLeft, kTop, plot_w, plot_h);
  double y_step = TickStep(y_max, 4);
  for (double y = 0; y <= y_max * 1.0001; y += y_step) {
    double py = kTop + plot_h - y / y_max * plot_h;
    absl::StrAppendFormat(
        &out,
        R"(<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="grid"/><text x="%d" y="%.1f" class="tick" text-anchor="end">%s</text>)",
        kLeft, py, kLeft + plot_w, py, kLeft - 4, py + 4, absl::StrFormat("%g", y));
  }
  double x_step = TickStep(x_max, 8);
  for (double x = 0; x <= x_max * 1.0001; x += x_step) {
    double px = kLeft + x / x_max * plot_w;
    absl::StrAppendFormat(
        &out, R"(<text x="%.1f" y="%d" class="tick" text-anchor="middle">%s</text>)", px,
        kTop + plot_h + 14, absl::StrFormat("%g", x));
  }
  absl::StrAppendFormat(
      &out, R"(<text x="%d" y="%d" class="label" text-anchor="middle">%s</text>)",
      kLeft + plot_w / 2, kHeight - 4, XmlEscape(x_label));
  absl::StrAppendFormat(
      &out,
      R"~(<text x="12" y="%d" class="label" text-anchor="middle" transform="rotate(-90 12 %d)">%s</text>)~",
      kTop + plot_h / 2, kTop + plot_h / 2, XmlEscape(y_label));
  return out;
}

std::string LineChart(const std::string& id, const std::string& title,
                      const std::string& y_label, const std::vector<Line>& lines,
                      double warmup_end) {
  double x_max = 1e-9, y_max = 1e-9;
  for (const Line& line : lines) {
    for (const auto& [x, y] : line.points) {
      x_max = std::max(x_max, x);
      y_max = std::max(y_max, y);
    }
  }
  y_max *= 1.1;
  const int plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  std::string out = absl::StrFormat(
      R"(<svg xmlns="http://www.w3.org/2000/svg" id="%s" class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img"><title>%s</title>)",
      id, kWidth, kHeight, kWidth, kHeight, XmlEscape(title));
  absl::StrAppend(&out, Axes(title, "seconds since the start", y_label, x_max, y_max));
  if (warmup_end > 0) {
    absl::StrAppendFormat(
        &out, R"(<rect x="%d" y="%d" width="%.1f" height="%d" class="warmup"/>)", kLeft,
        kTop, std::min(warmup_end / x_max, 1.0) * plot_w, plot_h);
  }
  int legend_x = kLeft + plot_w - 10;
  for (const Line& line : lines) {
    std::vector<std::string> points;
    for (const auto& [x, y] : line.points) {
      points.push_back(absl::StrFormat("%.1f,%.1f", kLeft + x / x_max * plot_w,
                                       kTop + plot_h - y / y_max * plot_h));
    }
    absl::StrAppendFormat(
        &out,
        R"(<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"><title>%s</title></polyline>)",
        line.color, line.dashed ? R"( stroke-dasharray="6 4")" : "",
        absl::StrJoin(points, " "), XmlEscape(line.name));
    absl::StrAppendFormat(
        &out,
        R"(<text x="%d" y="%d" class="legend" fill="%s" text-anchor="end">%s</text>)",
        legend_x, kTop + 14, line.color, XmlEscape(line.name));
    legend_x -= 12 + 8 * static_cast<int>(line.name.size());
  }
  return absl::StrCat(out, "</svg>");
}

// Bars per histogram bucket on a logarithmic latency axis.
std::string HistogramChart(const pb::Report& report) {
  const auto& buckets = report.histogram();
  std::string out = absl::StrFormat(
      R"(<svg xmlns="http://www.w3.org/2000/svg" id="latency-histogram" class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img"><title>Latency histogram</title>)",
      kWidth, kHeight, kWidth, kHeight);
  if (buckets.empty()) {
    return absl::StrCat(out,
                        R"(<text x="60" y="120" class="label">no samples</text></svg>)");
  }
  double lo = std::log10(std::max(buckets[0].le_ms(), 1e-3));
  double hi = std::log10(std::max(buckets[buckets.size() - 1].le_ms(), 1e-3));
  if (hi - lo < 0.5) hi = lo + 0.5;
  uint32_t most = 1;
  for (const pb::HistogramBucket& b : buckets) most = std::max(most, b.count());
  const int plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  absl::StrAppendFormat(&out, R"(<text x="%d" y="18" class="title">%s</text>)", kLeft,
                        "Latency histogram (successful operations)");
  absl::StrAppendFormat(&out,
                        R"(<rect x="%d" y="%d" width="%d" height="%d" class="plot"/>)",
                        kLeft, kTop, plot_w, plot_h);
  for (double decade = std::ceil(lo); decade <= hi; decade += 1) {
    double px = kLeft + (decade - lo) / (hi - lo) * plot_w;
    absl::StrAppendFormat(
        &out,
        R"(<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="grid"/><text x="%.1f" y="%d" class="tick" text-anchor="middle">%g ms</text>)",
        px, kTop, px, kTop + plot_h, px, kTop + plot_h + 14, std::pow(10, decade));
  }
  const double bar = std::max(2.0, plot_w / 120.0);
  for (const pb::HistogramBucket& b : buckets) {
    double px = kLeft + (std::log10(std::max(b.le_ms(), 1e-3)) - lo) / (hi - lo) * plot_w;
    double h = static_cast<double>(b.count()) / most * plot_h;
    absl::StrAppendFormat(
        &out,
        R"(<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="bar"><title>&#8804; %.3f ms: %d</title></rect>)",
        std::max<double>(kLeft, px - bar), kTop + plot_h - h, bar, h, b.le_ms(),
        b.count());
  }
  absl::StrAppendFormat(
      &out,
      R"(<text x="%d" y="%d" class="label" text-anchor="middle">latency (log scale)</text>)",
      kLeft + plot_w / 2, kHeight - 4);
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
  std::string out = "<table id=\"status-codes\">\n";
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
    absl::StrAppend(&out, Row({OpName(kind), absl::StrCat(op.count()),
                               absl::StrFormat("%.1f", op.ops_per_second()),
                               Ms(op.latency_ms().p50()), Ms(op.latency_ms().p99()),
                               Ms(op.latency_ms().p999()), absl::StrCat(op.failed()),
                               absl::StrCat(op.indeterminate()),
                               absl::StrCat(op.retries()), absl::StrJoin(codes, ", ")}));
  }
  return absl::StrCat(out, "</table>\n");
}

constexpr char kStyle[] = R"(
body{font:14px system-ui,sans-serif;margin:24px auto;max-width:780px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
tr.fail td{background:#fde2e2}tr.pass td:nth-child(2){color:#17702c}
.verdict{display:inline-block;padding:6px 12px;border-radius:4px;font-weight:bold}
.ok{background:#dff3e3;color:#17702c}.bad{background:#fde2e2;color:#a01818}.na{background:#eee}
.chart .title{font-weight:bold;font-size:13px}.chart .tick,.chart .legend{font-size:11px}
.chart .label{font-size:11px;fill:#555}.chart .plot{fill:#fafafa;stroke:#999}
.chart .grid{stroke:#e3e3e3}.chart .bar{fill:#3b6fb6}.chart .warmup{fill:#f2e8c9;opacity:.6}
)";

}  // namespace

std::string HtmlReport(const pb::Report& report) {
  const pb::Totals& totals = report.totals();
  double warmup_end = report.elapsed_s() - report.measured_s();
  std::vector<Line> rate{{"finished/s", "#3b6fb6", {}, false},
                         {"started/s", "#2e8b57", {}, false}};
  std::vector<Line> latency{{"p50", "#3b6fb6", {}, false}, {"p99", "#c0392b", {}, false}};
  Line target{"target", "#888", {}, true};
  for (const pb::Interval& i : report.series()) {
    rate[0].points.emplace_back(i.end_s(), i.ops_per_second());
    rate[1].points.emplace_back(i.end_s(), i.started_per_second());
    if (i.target_rps() > 0) target.points.emplace_back(i.end_s(), i.target_rps());
    latency[0].points.emplace_back(i.end_s(), i.p50_ms());
    latency[1].points.emplace_back(i.end_s(), i.p99_ms());
  }
  if (!target.points.empty()) rate.push_back(target);

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
  absl::StrAppend(
      &out, "<h2>Throughput over time</h2>\n",
      LineChart("throughput", "Operations per second", "operations/s", rate, warmup_end),
      "\n<h2>Latency over time</h2>\n",
      LineChart("latency", "p50 and p99 latency (successful operations)", "ms", latency,
                warmup_end),
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
