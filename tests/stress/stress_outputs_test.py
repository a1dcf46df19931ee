#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""card-stress's outputs as CI and people consume them, from real runs against
a real card-server on a throwaway PostgreSQL:

- JUnit XML parsed the way CI tools read it (testsuites > testsuite > testcase,
  with failure/error/skipped children): the counts, the failures and the test
  names, for a passing run and for the negative control (per-user lock and
  partial index removed, two replicas), which must fail exactly_one_default;
- the HTML report parsed as XML: well-formed, with the SVG charts and the
  verification table;
- step and line rate schedules reach the requested rates within 10%, read from
  the JSON report's per-interval series;
- the health scenario says verification is not applicable (a skipped test
  case), never a pass;
- a wrong --database_url exits 4 before any load, with libpq's reason and
  without the password; a usage mistake exits 4, --help 0;
- the h2c engine's runs verify like gRPC's, and it refuses the TLS flags.

Usage: stress_outputs_test.py --stress=PATH/card-stress --server=PATH/card-server --source=REPO_ROOT
"""
import json
import os
import shutil
import subprocess
import sys
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import card_fixture  # noqa: E402

ARGS = None
SVG = "{http://www.w3.org/2000/svg}"
XHTML = "{http://www.w3.org/1999/xhtml}"
API_CHECKS = ["exactly_one_default", "acknowledged_creates_found", "card_count",
              "no_duplicate_request", "nothing_unattempted", "default_exists"]
CHECKS = API_CHECKS + ["sql_exactly_one_default"]


class Cluster(card_fixture.Cluster):
    """One throwaway PostgreSQL and the card-server replicas started on it."""

    def __init__(self):
        super().__init__("stress-outputs", pg_port=5493)

    def start_server(self, *flags):
        return super().start_server(ARGS.server, "--db_pool_size=16", *flags)


def stress(*flags, targets, timeout=300):
    return subprocess.run([ARGS.stress, f"--target={','.join(targets)}", "--progress=false",
                           *flags], capture_output=True, text=True, timeout=timeout)


def junit_cases(path):
    """(root, suite, {name: (classname, outcome element or None)}) of a JUnit file."""
    root = ET.parse(path).getroot()
    suites = root.findall("testsuite")
    assert root.tag == "testsuites" and len(suites) == 1, ET.tostring(root)[:200]
    cases = {}
    for case in suites[0].findall("testcase"):
        outcome = [child for child in case if child.tag in ("failure", "error", "skipped")]
        cases[case.get("name")] = (case.get("classname"), outcome[0] if outcome else None)
    return root, suites[0], cases


class StressOutputsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster()
        cls.cluster.start_server()
        cls.out = cls.cluster.work

    @classmethod
    def tearDownClass(cls):
        cls.cluster.close()

    def path(self, name):
        return os.path.join(self.out, name)

    def run_first_card(self, name, targets, users=100, burst=10):
        return stress("--scenario=first-card", f"--users={users}", f"--burst={burst}",
                      f"--concurrency={users * burst}", f"--database_url={self.cluster.url}",
                      "--format=junit", f"--output={self.path(name + '.xml')}",
                      f"--html_output={self.path(name + '.html')}",
                      f"--json_output={self.path(name + '.json')}", targets=targets)

    def test_1_passing_run_junit_and_html(self):
        run = self.run_first_card("pass", self.cluster.targets[:1])
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        root, suite, cases = junit_cases(self.path("pass.xml"))
        self.assertEqual(sorted(cases), sorted(CHECKS + ["max_error_rate"]))
        for element in (root, suite):
            self.assertEqual(element.get("tests"), str(len(CHECKS) + 1))
            self.assertEqual(element.get("failures"), "0")
            self.assertEqual(element.get("errors"), "0")
            self.assertEqual(element.get("skipped"), "0")
        self.assertEqual(suite.get("name"), "card-stress.first-card")
        self.assertTrue(all(outcome is None for _, outcome in cases.values()), cases)
        self.assertEqual(cases["exactly_one_default"][0], "card-stress.first-card.verification")
        self.assertEqual(cases["max_error_rate"][0], "card-stress.first-card.thresholds")

        html = ET.parse(self.path("pass.html")).getroot()  # well-formed or it raises
        self.assertEqual(html.tag, XHTML + "html")
        charts = {svg.get("id") for svg in html.iter(SVG + "svg")}
        self.assertTrue({"throughput", "latency", "latency-histogram"} <= charts, charts)
        self.assertTrue(any(True for _ in html.iter(SVG + "polyline")))
        self.assertTrue(any(r.get("class") == "bar" for r in html.iter(SVG + "rect")))
        table = [t for t in html.iter(XHTML + "table") if t.get("id") == "verification"]
        self.assertEqual(len(table), 1)
        rows = [[cell.text for cell in row] for row in table[0].iter(XHTML + "tr")][1:]
        self.assertEqual([row[0] for row in rows], CHECKS)
        self.assertTrue(all(row[1] == "pass" for row in rows), rows)
        self.assertTrue(any(t.get("id") == "settings" for t in html.iter(XHTML + "table")))
        self.assertTrue(any(t.get("id") == "status-codes" for t in html.iter(XHTML + "table")))

        with open(self.path("pass.json")) as f:
            report = json.load(f)
        self.assertGreater(len(report["series"]), 0)
        self.assertEqual(sum(i["operations"] for i in report["series"]), 1000)
        self.assertIn("p9999", report["latency_ms"])

    def test_2_health_says_verification_not_applicable(self):
        run = stress("--scenario=health", "--requests=500", "--format=junit",
                     targets=self.cluster.targets[:1])
        self.assertEqual(run.returncode, 0, run.stderr)
        root = ET.fromstring(run.stdout)
        cases = {c.get("name"): c for c in root.iter("testcase")}
        skipped = cases["verification"].find("skipped")
        self.assertIsNotNone(skipped)
        self.assertIn("not applicable", skipped.get("message"))
        self.assertEqual(root.get("skipped"), "1")
        text = stress("--scenario=health", "--requests=500", targets=self.cluster.targets[:1])
        self.assertIn("not applicable", text.stdout)
        self.assertNotIn("Verdict: PASS", text.stdout)

    def schedule_series(self, *flags):
        path = self.path("schedule.json")
        # Whole-second intervals, as assert_rates expects: left automatic, an
        # 8 s run's series would be 250 ms intervals (stats.h SeriesInterval).
        run = stress("--scenario=health", "--concurrency=200", "--duration=8s",
                     "--interval=1s", "--format=json", f"--output={path}", *flags,
                     targets=self.cluster.targets[:1])
        self.assertEqual(run.returncode, 0, run.stderr)
        with open(path) as f:
            return json.load(f)["series"]

    def assert_rates(self, series, expected_at):
        """Each whole interval's sending rate (calls started) within 10% of the
        schedule's mean over it (expected_at(begin, end)), computed here from
        the requested flags; completions may lag a stall of the server, so
        what finished is checked over the run: every call started finished."""
        self.assertEqual(sum(i["started"] for i in series),
                         sum(i["operations"] for i in series))
        checked = 0
        for interval in series:
            if interval["seconds"] < 0.99:
                continue  # the last, short interval
            end, begin = interval["end_s"], interval["end_s"] - interval["seconds"]
            want = expected_at(begin, end)
            self.assertAlmostEqual(interval["started_per_second"], want, delta=0.1 * want,
                                   msg=f"interval ending {end:.1f}s: {interval}")
            checked += 1
        self.assertGreaterEqual(checked, 7)

    def test_2b_prometheus_text_passes_promtool(self):
        run = stress("--scenario=health", "--requests=500", "--format=prometheus",
                     targets=self.cluster.targets[:1])
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn('card_stress_latency_seconds{scenario="health",quantile="0.9999"}',
                      run.stdout)
        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool (Debian prometheus) not installed")
        check = subprocess.run([promtool, "check", "metrics"], input=run.stdout,
                               capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

    def test_3_step_schedule_reaches_each_step(self):
        series = self.schedule_series("--load_schedule=step", "--load_start=200",
                                      "--load_step=200", "--load_step_duration=2s",
                                      "--load_end=600")
        self.assert_rates(series, lambda begin, end: min(200 + 200 * int(begin // 2), 600))
        self.assertGreaterEqual(max(i["started_per_second"] for i in series), 540)

    def test_4_line_schedule_follows_the_line(self):
        series = self.schedule_series("--load_schedule=line", "--load_start=100",
                                      "--load_step=100", "--load_step_duration=1s",
                                      "--load_end=1000")
        self.assert_rates(series, lambda begin, end: 100 + 100 * (begin + end) / 2)

    def test_5_wrong_database_url_exits_4_before_the_load(self):
        started = time.time()
        run = stress("--scenario=spread", "--requests=100000",
                     "--database_url=postgresql://stress:s3cret-pw@127.0.0.1:1/cards",
                     targets=self.cluster.targets[:1])
        self.assertEqual(run.returncode, 4, run.stderr)
        self.assertLess(time.time() - started, 10)
        self.assertIn("--database_url", run.stderr)
        self.assertIn("Connection refused", run.stderr)
        self.assertNotIn("s3cret-pw", run.stderr + run.stdout)
        self.assertEqual(run.stdout, "")

    def test_6_progress_true_prints_a_line_per_interval(self):
        run = subprocess.run([ARGS.stress, f"--target={self.cluster.targets[0]}",
                              "--scenario=health", "--duration=3s", "--rps=200",
                              "--progress=true", "--interval=500ms"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr)
        lines = [l for l in run.stderr.splitlines() if l.startswith("[")]
        self.assertGreaterEqual(len(lines), 5, run.stderr)
        quiet = stress("--scenario=health", "--requests=100", targets=self.cluster.targets[:1])
        self.assertEqual(quiet.stderr, "")

    def test_7_usage_mistakes_exit_4_and_help_exits_0(self):
        for flags in (["--no_such_flag=1"], ["--concurrency=many"], ["--format=xml"],
                      ["--progress=sometimes"], ["--load_schedule=wave"]):
            run = subprocess.run([ARGS.stress, "--requests=1", *flags], capture_output=True,
                                 text=True, timeout=30)
            self.assertEqual(run.returncode, 4, (flags, run.stderr))
            self.assertIn("--help", run.stderr)
        run = subprocess.run([ARGS.stress, "--help"], capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("--load_schedule", run.stdout)
        self.assertIn("--junit_output", run.stdout)

    def test_8_h2c_engine_verifies_like_grpc_and_refuses_tls(self):
        run = stress("--engine=h2c", "--scenario=first-card", "--users=50", "--burst=10",
                     "--concurrency=500", f"--database_url={self.cluster.url}",
                     "--format=json", targets=self.cluster.targets[:1])
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        report = json.loads(run.stdout)
        self.assertEqual(report["totals"]["ok"], 500)
        self.assertEqual(report["verification"]["verdict"], "pass")
        self.assertEqual(len(report["verification"]["checks"]), len(CHECKS))
        # Deadlines reach the server and come back as DEADLINE_EXCEEDED.
        run = stress("--engine=h2c", "--scenario=health", "--requests=300", "--timeout=1us",
                     "--max_retries=0", "--max_error_rate=1", "--format=json",
                     targets=self.cluster.targets[:1])
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("DEADLINE_EXCEEDED", json.loads(run.stdout)["status_codes"])
        for flags in (["--tls_cert_file=c.pem", "--tls_key_file=k.pem"], ["--tls"]):
            run = stress("--engine=h2c", "--scenario=health", "--requests=10", *flags,
                         targets=self.cluster.targets[:1])
            self.assertEqual(run.returncode, 4, run.stderr)
            self.assertIn("plaintext only", run.stderr)

    def test_9_negative_control_fails_in_junit(self):
        # Take the per-user lock and the partial index away, and spread each
        # user's calls over two replicas: card-stress must see the damage.
        subprocess.run(["psql", "-q", self.cluster.url, "-c",
                        "CREATE OR REPLACE FUNCTION card_lock_user(p_user_id text, "
                        "p_lock_timeout_ms integer) RETURNS void LANGUAGE plpgsql AS "
                        "$$ BEGIN END $$; DROP INDEX cards_one_default_per_user;"],
                       check=True)
        self.cluster.start_server("--migrate=false")
        # The load test's size (scripts/load-test.sh): smaller runs may not race.
        run = self.run_first_card("control", self.cluster.targets, users=500, burst=20)
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        root, suite, cases = junit_cases(self.path("control.xml"))
        self.assertEqual(sorted(cases), sorted(CHECKS + ["max_error_rate"]))
        failed = sorted(name for name, (_, outcome) in cases.items()
                        if outcome is not None and outcome.tag == "failure")
        self.assertIn("exactly_one_default", failed)
        self.assertEqual(root.get("failures"), str(len(failed)))
        self.assertEqual(suite.get("failures"), str(len(failed)))
        failure = cases["exactly_one_default"][1]
        self.assertEqual(failure.get("type"), "invariant violated")
        self.assertIn("defaults among", failure.text)
        html = ET.parse(self.path("control.html")).getroot()
        rows = [[c.text for c in r] for t in html.iter(XHTML + "table")
                if t.get("id") == "verification" for r in t.iter(XHTML + "tr")][1:]
        self.assertIn(["exactly_one_default", "FAIL"], [row[:2] for row in rows])


def main():
    global ARGS
    ARGS, rest = card_fixture.parse_args("stress", "server", "source")
    card_fixture.run_suite(rest, verbosity=2)


if __name__ == "__main__":
    main()
