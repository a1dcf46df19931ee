// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The JUnit XML report: what GitHub, GitLab and Jenkins read as test results.
// One <testsuite> per run (named after the scenario, so CI can track it across
// runs), one <testcase> per verification check and per threshold; a violated
// check or breached threshold is a <failure> listing what was found, an
// unknown verdict an <error>, and verification that did not run a <skipped>
// case, never a pass.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/time_util.h"
#include "stress/markup.h"
#include "stress/report.h"

namespace card::stress {
namespace {

namespace pb = devcard::cardstress::v1;

struct Case {
  std::string classname, name;
  std::string outcome;  // "", "failure", "error" or "skipped"
  std::string type, message, detail;
};

std::string CaseXml(const Case& c) {
  std::string out = absl::StrFormat(R"(    <testcase classname="%s" name="%s" time="0")",
                                    XmlEscape(c.classname), XmlEscape(c.name));
  if (c.outcome.empty()) return absl::StrCat(out, "/>\n");
  absl::StrAppend(&out, ">\n      <", c.outcome, " message=\"", XmlEscape(c.message),
                  "\"");
  if (!c.type.empty()) absl::StrAppend(&out, " type=\"", XmlEscape(c.type), "\"");
  if (c.detail.empty()) {
    absl::StrAppend(&out, "/>\n");
  } else {
    absl::StrAppend(&out, ">", XmlEscape(c.detail), "</", c.outcome, ">\n");
  }
  return absl::StrCat(out, "    </testcase>\n");
}

std::vector<Case> Cases(const pb::Report& report) {
  const std::string suite = absl::StrCat("card-stress.", report.config().scenario());
  std::vector<Case> cases;
  const pb::Verification& verification = report.verification();
  if (!verification.ran()) {
    cases.push_back({suite + ".verification", "verification", "skipped", "",
                     verification.not_run_reason().empty()
                         ? "not run"
                         : verification.not_run_reason(),
                     ""});
  }
  for (const pb::Check& check : verification.checks()) {
    Case c{suite + ".verification", check.name(), "", "", "", ""};
    std::string detail =
        absl::StrCat(check.description(), "\n", absl::StrJoin(check.violations(), "\n"));
    if (check.violation_count() > check.violations_size()) {
      absl::StrAppend(&detail, "\n... ", check.violation_count(), " in all");
    }
    if (check.verdict() == "FAIL") {
      c.outcome = "failure";
      c.type = "invariant violated";
      c.message = absl::StrCat(check.violation_count(), " of ", check.users(),
                               " users violate: ", check.description());
      c.detail = detail;
    } else if (check.verdict() == "unknown") {
      c.outcome = "error";
      c.type = "verdict unknown";
      c.message = "could not tell: some answers were missing";
      c.detail = detail;
    }
    cases.push_back(c);
  }
  for (const pb::Threshold& threshold : report.thresholds()) {
    Case c{suite + ".thresholds", threshold.name(), "", "", "", ""};
    if (threshold.breached()) {
      c.outcome = "failure";
      c.type = "threshold breached";
      c.message = absl::StrCat(threshold.observed(), " against --", threshold.name(), " ",
                               threshold.limit());
    }
    cases.push_back(c);
  }
  return cases;
}

}  // namespace

std::string JunitReport(const pb::Report& report) {
  std::vector<Case> cases = Cases(report);
  int failures = 0, errors = 0, skipped = 0;
  for (const Case& c : cases) {
    failures += c.outcome == "failure";
    errors += c.outcome == "error";
    skipped += c.outcome == "skipped";
  }
  const std::string counts =
      absl::StrFormat(R"(tests="%d" failures="%d" errors="%d" skipped="%d" time="%.3f")",
                      cases.size(), failures, errors, skipped, report.elapsed_s());
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  absl::StrAppend(&out, "<testsuites name=\"card-stress\" ", counts, ">\n");
  absl::StrAppend(
      &out, "  <testsuite name=\"card-stress.", XmlEscape(report.config().scenario()),
      "\" ", counts, " timestamp=\"",
      XmlEscape(google::protobuf::util::TimeUtil::ToString(report.started_at())),
      "\">\n");
  absl::StrAppend(&out, "    <properties>\n");
  auto property = [&out](absl::string_view name, absl::string_view value) {
    absl::StrAppend(&out, "      <property name=\"", XmlEscape(name), "\" value=\"",
                    XmlEscape(value), "\"/>\n");
  };
  const pb::Config& config = report.config();
  property("targets", absl::StrJoin(config.targets(), ","));
  property("user_prefix", config.user_prefix());
  property("seed", absl::StrCat(config.seed()));
  property("operations", absl::StrCat(report.totals().operations()));
  property("ops_per_second", absl::StrFormat("%.1f", report.totals().ops_per_second()));
  property("p99_ms", absl::StrFormat("%.3f", report.latency_ms().p99()));
  property("exit_code", absl::StrCat(report.exit_code()));
  absl::StrAppend(&out, "    </properties>\n");
  for (const Case& c : cases) absl::StrAppend(&out, CaseXml(c));
  absl::StrAppend(&out, "    <system-out>", XmlEscape(TextReport(report)),
                  "</system-out>\n  </testsuite>\n</testsuites>\n");
  return out;
}

}  // namespace card::stress
