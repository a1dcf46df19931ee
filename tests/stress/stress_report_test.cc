// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// card-stress's report (stress/report.h): one Report message per run, rendered
// as JSON for CI and as text for people. The JSON must parse back into the
// message, keep every key of the hand-written card-stress/v1 report that
// scripts read, and keep counts as JSON numbers; the text must show what the
// message says.
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "stress/report.h"

namespace card::stress {
namespace {

namespace pb = devcard::cardstress::v1;
using google::protobuf::Struct;
using google::protobuf::Value;

// A small mixed run: two creates (one retried, one indeterminate), a delete
// that raced its own kind (expected NOT_FOUND), and a failed verification.
class ReportTest : public ::testing::Test {
 protected:
  ReportTest() {
    config_.targets = {"127.0.0.1:50051", "127.0.0.1:50052"};
    config_.scenario = Scenario::kMixed;
    config_.requests = 4;
    config_.user_prefix = "stress-test";
    config_.seed = 42;
    config_.database_url = "postgresql:///cards";
    stats_.RecordAttemptRetried(OpKind::kCreate);
    stats_.RecordFinal(OpKind::kCreate, grpc::Status::OK, Workload::Outcome::kOk,
                       absl::Milliseconds(5));
    stats_.RecordFinal(OpKind::kCreate,
                       grpc::Status(grpc::StatusCode::UNAVAILABLE, "down"),
                       Workload::Outcome::kIndeterminate, absl::Milliseconds(40));
    stats_.RecordFinal(OpKind::kDelete, grpc::Status(grpc::StatusCode::NOT_FOUND, "gone"),
                       Workload::Outcome::kExpected, absl::Milliseconds(3));
    stats_.RecordFinal(OpKind::kGet, grpc::Status::OK, Workload::Outcome::kOk,
                       absl::Milliseconds(1));

    Check one_default;
    one_default.name = "exactly_one_default";
    one_default.description =
        "each user with cards has exactly one default (none without)";
    one_default.verdict = Verdict::kFalse;
    one_default.users = 3;
    one_default.violations = {"stress-test-1: 2 defaults among 2 cards"};
    one_default.violation_count = 2;
    Check count;
    count.name = "card_count";
    count.description = "cards listed = acknowledged creates - acknowledged deletes";
    count.users = 3;
    result_.verification.ran = true;
    result_.verification.checks = {one_default, count};
    result_.verification.verdict = Verdict::kFalse;

    result_.config = &config_;
    result_.stats = &stats_;
    result_.started = absl::FromUnixSeconds(1700000000) + absl::Milliseconds(250);
    result_.elapsed = absl::Seconds(2);
    result_.cost = {0.5, 0.25, 30.0};
    Judge(result_);
  }

  std::string Json(const pb::Report& report) {
    absl::StatusOr<std::string> json = JsonReport(report);
    EXPECT_TRUE(json.ok()) << json.status();
    return json.ok() ? *json : "";
  }

  // The JSON as generic JSON values, the way a script sees it.
  Struct ParsedAsJson(const pb::Report& report) {
    Struct parsed;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(Json(report), &parsed).ok());
    return parsed;
  }

  Config config_;
  Stats stats_;
  RunResult result_;
};

// Follows "a.b[0].c" through parsed JSON; nullptr where a key is missing.
const Value* Find(const Struct& root, const std::string& path) {
  const Struct* object = &root;
  const Value* value = nullptr;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    bool first_element = absl::ConsumeSuffix(&part, "[0]");
    if (object == nullptr) return nullptr;
    auto found = object->fields().find(std::string(part));
    if (found == object->fields().end()) return nullptr;
    value = &found->second;
    if (first_element) {
      if (!value->has_list_value() || value->list_value().values_size() == 0)
        return nullptr;
      value = &value->list_value().values(0);
    }
    object = value->has_struct_value() ? &value->struct_value() : nullptr;
  }
  return value;
}

TEST_F(ReportTest, JsonParsesBackIntoTheSameReport) {
  const pb::Report report = BuildReport(result_);
  pb::Report parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(Json(report), &parsed).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed, report))
      << parsed.DebugString();
  EXPECT_EQ(parsed.schema(), "card-stress/v1");
  EXPECT_EQ(parsed.totals().operations(), 4u);
}

TEST_F(ReportTest, JsonIsOneObjectOnOneLine) {
  std::string json = Json(BuildReport(result_));
  ASSERT_FALSE(json.empty());
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.find('\n'), json.size() - 1);
}

// Every key of the hand-written report that card-stress/v1 promised (taken
// from its output), "[0]" standing for the first element of a list.
TEST_F(ReportTest, JsonKeepsEveryKeyOfTheHandWrittenV1Report) {
  const std::vector<std::string> keys = {"schema",
                                         "started_at",
                                         "elapsed_s",
                                         "exit_code",
                                         "thresholds_breached",
                                         "config.scenario",
                                         "config.targets",
                                         "config.connections",
                                         "config.concurrency",
                                         "config.requests",
                                         "config.duration_s",
                                         "config.rps",
                                         "config.timeout_s",
                                         "config.max_retries",
                                         "config.users",
                                         "config.burst",
                                         "config.user_prefix",
                                         "config.seed",
                                         "config.verify",
                                         "config.sql_verify",
                                         "config.max_error_rate",
                                         "totals.operations",
                                         "totals.ok",
                                         "totals.expected_errors",
                                         "totals.failed",
                                         "totals.indeterminate",
                                         "totals.retries",
                                         "totals.ops_per_second",
                                         "totals.error_rate",
                                         "latency_ms.count",
                                         "latency_ms.min",
                                         "latency_ms.mean",
                                         "latency_ms.p50",
                                         "latency_ms.p90",
                                         "latency_ms.p95",
                                         "latency_ms.p99",
                                         "latency_ms.p999",
                                         "latency_ms.max",
                                         "latency_ms.p9999",
                                         "histogram[0].le_ms",
                                         "histogram[0].count",
                                         "status_codes.OK",
                                         "status_codes.UNAVAILABLE",
                                         "status_codes.NOT_FOUND",
                                         "operations.create.count",
                                         "operations.create.ops_per_second",
                                         "operations.create.failed",
                                         "operations.create.indeterminate",
                                         "operations.create.retries",
                                         "operations.create.latency_ms.p99",
                                         "operations.create.error_latency_ms.max",
                                         "operations.create.status_codes.UNAVAILABLE",
                                         "operations.delete.status_codes.NOT_FOUND",
                                         "errors[0].message",
                                         "errors[0].count",
                                         "client.user_cpu_s",
                                         "client.system_cpu_s",
                                         "client.ops_per_cpu_second",
                                         "client.peak_rss_mb",
                                         "verification.ran",
                                         "verification.verdict",
                                         "verification.checks[0].name",
                                         "verification.checks[0].description",
                                         "verification.checks[0].verdict",
                                         "verification.checks[0].users",
                                         "verification.checks[0].violation_count",
                                         "verification.checks[0].violations"};
  const Struct json = ParsedAsJson(BuildReport(result_));
  for (const std::string& key : keys) EXPECT_NE(Find(json, key), nullptr) << key;
  EXPECT_EQ(Find(json, "operations.list"), nullptr) << "only operations that ran";
}

// Scripts add counts up (stress/h2load-health: failed + indeterminate); proto3
// JSON would quote a 64-bit integer.
TEST_F(ReportTest, CountsAreJsonNumbers) {
  const std::vector<std::string> counts = {"totals.operations",
                                           "totals.ok",
                                           "totals.expected_errors",
                                           "totals.failed",
                                           "totals.indeterminate",
                                           "totals.retries",
                                           "latency_ms.count",
                                           "histogram[0].count",
                                           "status_codes.OK",
                                           "operations.create.count",
                                           "operations.create.retries",
                                           "operations.create.status_codes.UNAVAILABLE",
                                           "errors[0].count",
                                           "exit_code",
                                           "config.requests",
                                           "config.connections",
                                           "verification.checks[0].users",
                                           "verification.checks[0].violation_count"};
  const Struct json = ParsedAsJson(BuildReport(result_));
  for (const std::string& key : counts) {
    const Value* value = Find(json, key);
    ASSERT_NE(value, nullptr) << key;
    EXPECT_EQ(value->kind_case(), Value::kNumberValue) << key;
  }
  EXPECT_EQ(Find(json, "totals.operations")->number_value(), 4);
  EXPECT_EQ(Find(json, "totals.indeterminate")->number_value(), 1);
  EXPECT_EQ(Find(json, "totals.expected_errors")->number_value(), 1);
  EXPECT_EQ(Find(json, "operations.create.retries")->number_value(), 1);
  EXPECT_EQ(Find(json, "exit_code")->number_value(), kExitViolation);
}

TEST_F(ReportTest, StartedAtIsAnRfc3339StringInWholeSeconds) {
  const Struct json = ParsedAsJson(BuildReport(result_));
  EXPECT_EQ(Find(json, "started_at")->string_value(), "2023-11-14T22:13:20Z");
}

// The JSON mapping prints NaN and Infinity as strings: none may reach it.
TEST_F(ReportTest, AnEmptyRunHasOnlyFiniteNumbers) {
  Stats empty;
  config_.rps = INFINITY;
  config_.max_error_rate = NAN;
  result_.stats = &empty;
  result_.verification = {};
  const pb::Report report = BuildReport(result_);
  std::string json = Json(report);
  EXPECT_EQ(json.find("NaN"), std::string::npos) << json;
  EXPECT_EQ(json.find("Infinity"), std::string::npos) << json;
  EXPECT_EQ(report.latency_ms().p99(), 0);
  EXPECT_EQ(report.histogram_size(), 0);
  EXPECT_EQ(report.config().rps(), 0);
}

// Built by hand, not from a run: the text shows what the message says.
TEST(TextReport, RendersEachCheckWithItsVerdictAndViolationsFromTheMessage) {
  pb::Report report;
  report.mutable_config()->set_scenario("first-card");
  report.mutable_verification()->set_ran(true);
  report.mutable_verification()->set_verdict("FAIL");
  pb::Check* failed = report.mutable_verification()->add_checks();
  failed->set_name("exactly_one_default");
  failed->set_description("one default each");
  failed->set_verdict("FAIL");
  failed->set_users(100);
  failed->set_violation_count(7);
  failed->add_violations("u-1: 2 defaults among 20 cards");
  pb::Check* unknown = report.mutable_verification()->add_checks();
  unknown->set_name("default_exists");
  unknown->set_description("GetDefaultCard agrees");
  unknown->set_verdict("unknown");
  unknown->set_users(99);
  report.set_exit_code(kExitViolation);

  std::string text = TextReport(report);
  EXPECT_NE(
      text.find(
          "\nVerification:\n"
          "  exactly_one_default          FAIL    100 users  — one default each\n"
          "      u-1: 2 defaults among 20 cards\n"
          "      ... 7 in all\n"
          "  default_exists               unknown 99 users  — GetDefaultCard agrees\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("\nVerdict: FAIL: invariant violated (exit 1)\n"),
            std::string::npos)
      << text;
}

// Never a PASS for checks that did not run (the health scenario).
TEST(TextReport, SaysWhenVerificationDidNotRunAndDoesNotCallItAPass) {
  pb::Report report;
  report.mutable_verification()->set_not_run_reason("not applicable (no data)");
  std::string text = TextReport(report);
  EXPECT_NE(text.find("\nVerification:\n  not applicable (no data)\n"), std::string::npos)
      << text;
  EXPECT_NE(
      text.find("\nVerdict: load OK; verification not applicable (no data) (exit 0)\n"),
      std::string::npos)
      << text;
  EXPECT_EQ(text.find("PASS"), std::string::npos) << text;
}

TEST_F(ReportTest, TextShowsTheRunsFiguresInTheUsualLayout) {
  std::string text = TextReport(BuildReport(result_));
  EXPECT_NE(
      text.find(
          "Summary:\n  Scenario:      mixed (seed 42, users stress-test-*)\n"
          "  Targets:       127.0.0.1:50051,127.0.0.1:50052  (8 connections each, "
          "concurrency 64)\n"
          "  Operations:    4  (ok 2, expected errors 1, failed 0, indeterminate 1; "
          "1 retries)\n"
          "  Duration:      2.000 s\n  Throughput:    2.0 ops/s\n"
          "  Error rate:    25.0000% (max 0.0000%)\n"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find("\nStatus codes:\n  OK                   2\n  NOT_FOUND            1\n"
                "  UNAVAILABLE          1\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("\nErrors:\n  [1] create: UNAVAILABLE down\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  create               2 ops       1.0/s"), std::string::npos)
      << text;
}

// The fixture's run: one check failed, one passed; the error rate (25%) is
// above --max_error_rate (0).
TEST_F(ReportTest, JunitHasATestCasePerCheckAndThresholdWithTheFailures) {
  std::string xml = JunitReport(BuildReport(result_));
  EXPECT_EQ(
      xml.rfind(
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"card-stress\" "
          "tests=\"3\" failures=\"2\" errors=\"0\" skipped=\"0\"",
          0),
      0u)
      << xml;
  EXPECT_NE(xml.find("<testsuite name=\"card-stress.mixed\" tests=\"3\" failures=\"2\""),
            std::string::npos);
  EXPECT_NE(
      xml.find("<testcase classname=\"card-stress.mixed.verification\" "
               "name=\"exactly_one_default\" time=\"0\">\n      <failure "
               "message=\"2 of 3 users violate: each user with cards has exactly one "
               "default (none without)\" type=\"invariant violated\">"),
      std::string::npos)
      << xml;
  EXPECT_NE(xml.find("stress-test-1: 2 defaults among 2 cards"), std::string::npos);
  EXPECT_NE(xml.find("<testcase classname=\"card-stress.mixed.verification\" "
                     "name=\"card_count\" time=\"0\"/>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<testcase classname=\"card-stress.mixed.thresholds\" "
                     "name=\"max_error_rate\" time=\"0\">\n      <failure "
                     "message=\"25.0000% against --max_error_rate 0.0000%\""),
            std::string::npos)
      << xml;
}

TEST_F(ReportTest, PrometheusExpositionNamesEachSeriesOnce) {
  std::string text = PrometheusReport(BuildReport(result_));
  EXPECT_NE(text.find("# TYPE card_stress_operations gauge\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("card_stress_operations{scenario=\"mixed\",operation=\"create\","
                      "code=\"UNAVAILABLE\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("card_stress_check_passed{scenario=\"mixed\",check=\"exactly_one_"
                      "default\",verdict=\"FAIL\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("card_stress_exit_code{scenario=\"mixed\"} 1\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("card_stress_latency_seconds{scenario=\"mixed\",quantile=\"0.9999\"}"),
      std::string::npos);
}

TEST(CsvReport, OneRowPerInterval) {
  pb::Report report;
  pb::Interval* interval = report.add_series();
  interval->set_end_s(1);
  interval->set_seconds(1);
  interval->set_operations(200);
  interval->set_ops_per_second(200);
  interval->set_target_rps(200);
  interval->set_target_concurrency(64);
  EXPECT_EQ(CsvReport(report),
            "end_s,seconds,operations,errors,ops_per_second,p50_ms,p99_ms,target_rps,"
            "target_concurrency,in_flight,warmup,started,started_per_second\n"
            "1.000,1.000,200,0,200.000,0.000,0.000,200.000,64,0,0,0,0.000\n");
}

// The HTML charts at a run's edges. A 2.5 s run used to get three points per
// chart (1 s intervals), and a run's last, partial interval must show its own
// rate (operations / its seconds) or be left out, never a spike or a drop to 0.

TEST(SeriesInterval, AShortRunGetsAtLeastTwentyIntervals) {
  Config config;  // --interval 1s, the default
  config.duration = absl::Milliseconds(2500);
  const absl::Duration interval = SeriesInterval(config);
  EXPECT_EQ(interval, absl::Milliseconds(100));
  EXPECT_GE(config.duration / interval, kMinSeriesPoints);
  config.duration = absl::Seconds(5);
  EXPECT_EQ(SeriesInterval(config), absl::Milliseconds(250));
  config.duration = absl::Milliseconds(400);  // shorter than 20 x 50 ms: the floor
  EXPECT_EQ(SeriesInterval(config), kMinSeriesInterval);
}

TEST(SeriesInterval, RequestsAtAConstantRateGiveTheLength) {
  Config config;
  config.requests = 500;
  config.rate.start = 200;  // 2.5 s
  EXPECT_EQ(SeriesInterval(config), absl::Milliseconds(100));
}

TEST(SeriesInterval, LongAndUnknownLengthsKeepTheRequestedInterval) {
  Config config;
  config.duration = absl::Hours(1);  // 3600 intervals: already plenty
  EXPECT_EQ(SeriesInterval(config), absl::Seconds(1));
  config.duration = absl::Seconds(20);  // exactly 20
  EXPECT_EQ(SeriesInterval(config), absl::Seconds(1));
  config.duration = absl::ZeroDuration();
  config.requests = 1000;  // a closed loop's length is not known in advance
  EXPECT_EQ(SeriesInterval(config), absl::Seconds(1));
  config.interval = absl::Milliseconds(100);  // finer than needed: kept
  config.duration = absl::Seconds(3);
  EXPECT_EQ(SeriesInterval(config), absl::Milliseconds(100));
}

// A steady 200/s run of `length`, recorded and closed as LoadRunner does (an
// operation every 5 ms; the ticker closes each interval, the last one at the
// load's end), rendered into the report's series.
class ChartEdgeTest : public ::testing::Test {
 protected:
  pb::Report Run(absl::Duration length) {
    config_.scenario = Scenario::kHealth;
    config_.duration = length;
    config_.interval = SeriesInterval(config_);
    const absl::Time start = absl::FromUnixSeconds(1700000000);
    stats_.Start(start, absl::ZeroDuration(), 0, config_.interval);
    int64_t closed = 0;
    auto close_until = [&](absl::Time now) {
      while (start + config_.interval * (closed + 1) <= now) {
        stats_.CloseInterval(closed, start + config_.interval * (closed + 1), 0, 1, 1);
        ++closed;
      }
    };
    for (absl::Duration at = absl::Milliseconds(5); at <= length;
         at += absl::Milliseconds(5)) {
      close_until(start + at - absl::Nanoseconds(1));
      stats_.RecordStarted(start + at - absl::Milliseconds(1));
      stats_.RecordFinal(OpKind::kHealth, grpc::Status::OK, Workload::Outcome::kOk,
                         absl::Milliseconds(1), start + at - absl::Nanoseconds(1));
    }
    close_until(start + length);
    if (start + config_.interval * closed < start + length) {
      stats_.CloseInterval(closed, start + length, 0, 1, 0);  // the last, partial one
    }
    result_.config = &config_;
    result_.stats = &stats_;
    result_.started = start;
    result_.elapsed = length;
    Judge(result_);
    return BuildReport(result_);
  }

  // The throughput chart's finished/s line: the points' y pixel coordinates.
  static std::vector<std::string> ThroughputYs(const std::string& html) {
    size_t chart = html.find("id=\"throughput\"");
    size_t points = html.find("points=\"", chart) + 8;
    std::string list = html.substr(points, html.find('"', points) - points);
    std::vector<std::string> ys;
    for (absl::string_view point : absl::StrSplit(list, ' ')) {
      ys.emplace_back(point.substr(point.find(',') + 1));
    }
    return ys;
  }

  Config config_;
  Stats stats_;
  RunResult result_;
};

TEST_F(ChartEdgeTest, ATwoAndAHalfSecondRunGetsTwentyFivePointsPerChart) {
  pb::Report report = Run(absl::Milliseconds(2500));
  EXPECT_DOUBLE_EQ(report.config().interval_s(), 0.1);
  ASSERT_EQ(report.series_size(), 25);
  ChartSeries chart = ChartIntervals(report);
  EXPECT_EQ(chart.intervals.size(), 25u);
  EXPECT_EQ(chart.left_out_s, 0);
  for (const pb::Interval* interval : chart.intervals) {
    EXPECT_NEAR(interval->ops_per_second(), 200, 1e-6) << interval->end_s();
  }
  std::vector<std::string> ys = ThroughputYs(HtmlReport(report));
  EXPECT_EQ(ys.size(), 25u);
  EXPECT_EQ(ys.front(), ys.back());  // a flat line: no edge effect
}

TEST_F(ChartEdgeTest, ALongEnoughPartialLastIntervalShowsItsTrueRate) {
  // 25 intervals of 100 ms and a last one of 60 ms holding 12 operations.
  pb::Report report = Run(absl::Milliseconds(2560));
  ASSERT_EQ(report.series_size(), 26);
  const pb::Interval& last = report.series(25);
  EXPECT_NEAR(last.seconds(), 0.06, 1e-9);
  EXPECT_EQ(last.operations(), 12u);
  EXPECT_NEAR(last.ops_per_second(), 200, 1e-6);  // 12 / 0.06 s, not 12 / 0.1 s
  EXPECT_NEAR(last.started_per_second(), 200, 1e-6);
  ChartSeries chart = ChartIntervals(report);
  EXPECT_EQ(chart.intervals.size(), 26u);
  const std::string html = HtmlReport(report);
  std::vector<std::string> ys = ThroughputYs(html);
  ASSERT_EQ(ys.size(), 26u);
  EXPECT_EQ(ys.back(), ys.front());
  EXPECT_FALSE(absl::StrContains(html, "left out: too short"));
}

TEST_F(ChartEdgeTest, AShortPartialLastIntervalIsLeftOutAndTheChartSaysSo) {
  // The last interval is 20 ms: 4 operations, too few for a rate.
  pb::Report report = Run(absl::Milliseconds(2520));
  ASSERT_EQ(report.series_size(), 26);
  ChartSeries chart = ChartIntervals(report);
  EXPECT_EQ(chart.intervals.size(), 25u);
  EXPECT_NEAR(chart.left_out_s, 0.02, 1e-9);
  EXPECT_EQ(chart.intervals.back(), &report.series(24));
  const std::string html = HtmlReport(report);
  EXPECT_EQ(ThroughputYs(html).size(), 25u);
  EXPECT_TRUE(absl::StrContains(
      html, "the last 20 ms interval is left out: too short for a rate"))
      << html.substr(0, 4000);
}

TEST(HtmlReport, TheTargetLineIsDrawnLastAndHasADashedLegendSwatch) {
  pb::Report report;
  report.mutable_config()->set_interval_s(1);
  for (int k = 1; k <= 3; ++k) {
    pb::Interval* interval = report.add_series();
    interval->set_end_s(k);
    interval->set_seconds(1);
    interval->set_ops_per_second(100);
    interval->set_started_per_second(100);
    interval->set_target_rps(100);
  }
  const std::string html = HtmlReport(report);
  const size_t chart = html.find("id=\"throughput\"");
  const size_t end = html.find("</svg>", chart);
  const size_t target = html.find("<title>target</title></polyline>", chart);
  ASSERT_LT(target, end);
  EXPECT_GT(target, html.find("<title>finished/s</title></polyline>", chart));
  EXPECT_GT(target, html.find("<title>started/s</title></polyline>", chart));
  const size_t swatch = html.find("stroke-dasharray=\"6 4\" class=\"swatch\"", chart);
  EXPECT_LT(swatch, end);
}

TEST(HtmlReport, TheHistogramHasACountAxisAndLatencyTicks) {
  pb::Report report;
  for (double le : {0.6, 0.9, 1.3, 2.1, 3.4, 6.0, 12.0}) {
    pb::HistogramBucket* bucket = report.add_histogram();
    bucket->set_le_ms(le);
    bucket->set_count(le < 2 ? 400 : 30);
  }
  const std::string html = HtmlReport(report);
  const size_t chart = html.find("id=\"latency-histogram\"");
  const std::string svg = html.substr(chart, html.find("</svg>", chart) - chart);
  EXPECT_TRUE(
      absl::StrContains(svg, "transform=\"rotate(-90 12 134)\">operations</text>"));
  for (const char* tick :
       {">0<", ">200<", ">400<", ">1 ms<", ">2 ms<", ">5 ms<", ">10 ms<"}) {
    EXPECT_TRUE(absl::StrContains(svg, tick)) << tick;
  }
}

// Within one decade, 1, 2 and 5 alone are too few: the finer set is used.
TEST(HtmlReport, AOneDecadeHistogramGetsFinerLatencyTicks) {
  pb::Report report;
  for (double le : {0.9, 1.4, 2.2, 3.5, 5.6}) {  // as a fast run: 1, 2, 5 ms in range
    pb::HistogramBucket* bucket = report.add_histogram();
    bucket->set_le_ms(le);
    bucket->set_count(10);
  }
  const std::string html = HtmlReport(report);
  const size_t chart = html.find("id=\"latency-histogram\"");
  const std::string svg = html.substr(chart, html.find("</svg>", chart) - chart);
  for (const char* tick : {">1 ms<", ">2 ms<", ">3 ms<", ">5 ms<"}) {
    EXPECT_TRUE(absl::StrContains(svg, tick)) << tick;
  }
}

TEST(HtmlReport, ANarrowHistogramStillGetsThreeLatencyTicks) {
  pb::Report report;
  for (double le : {1.1, 1.4, 1.9, 2.6}) {  // no 1, 5 or 10 ms in range
    pb::HistogramBucket* bucket = report.add_histogram();
    bucket->set_le_ms(le);
    bucket->set_count(10);
  }
  const std::string html = HtmlReport(report);
  const size_t chart = html.find("id=\"latency-histogram\"");
  const std::string svg = html.substr(chart, html.find("</svg>", chart) - chart);
  for (const char* tick : {">1.5 ms<", ">2 ms<", ">3 ms<"}) {
    EXPECT_TRUE(absl::StrContains(svg, tick)) << tick;
  }
}

TEST(HtmlReport, StatusCodesAreOnePerLineAndNeverWrap) {
  pb::Report report;
  pb::Operation& op = (*report.mutable_operations())["create"];
  op.set_count(10);
  (*op.mutable_status_codes())["OK"] = 7;
  (*op.mutable_status_codes())["DEADLINE_EXCEEDED"] = 3;
  const std::string html = HtmlReport(report);
  EXPECT_TRUE(absl::StrContains(
      html,
      "<td class=\"codes\"><span>DEADLINE_EXCEEDED 3</span><br/><span>OK 7</span></td>"));
  EXPECT_TRUE(absl::StrContains(html, "td.codes span{white-space:nowrap}"));
}

}  // namespace
}  // namespace card::stress
