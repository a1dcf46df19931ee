# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""scripts/cardlib/suites.py: how scripts/test.sh reads each suite's counts
from its output, and the summary table it ends with; how a negative
control's JUnit file is shown (cardlib/junit.py): never as FAIL.

    python3 -m pytest tests/pylib
"""
import os
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO_ROOT, "scripts"))

from cardlib import junit, suites  # noqa: E402


def test_a_suites_own_last_counts_line_wins_over_nested_ones():
    # scripts/pgbouncer-test.sh runs deploy/local-cluster, which prints its own line first.
    output = "local-cluster: 4 passed, 0 failed\nmore\npgbouncer-test: 2 passed, 0 failed\n"
    assert suites.counts(output, 0) == (2, 0)


def test_ctest_summary_counts_tests():
    output = ("95% tests passed, 3 tests failed out of 57\n\nLabel Time Summary:\n"
              "The following tests FAILED:\n\t 12 - x (Failed)\n")
    assert suites.counts(output, 8) == (54, 3)


def test_lines_that_only_contain_counts_do_not_count():
    # pytest's "== 1 failed, 5 passed in 3.2s ==" and the like are not a suite's own line.
    output = "===== 5 passed, 1 failed in 3.21s =====\n"
    assert suites.counts(output, 0) == (1, 0)


def test_without_counts_the_exit_status_counts():
    assert suites.counts("built\n", 0) == (1, 0)
    assert suites.counts("error: no such file\n", 2) == (0, 1)


def test_a_non_zero_exit_is_a_failure_even_if_the_counts_say_none():
    assert suites.counts("load test: 5 passed, 0 failed\n", 1) == (5, 1)


def test_a_suite_notes_what_it_said_about_itself_last():
    output = "fuzz: building\nfuzz: 877812 runs in 61 s, 0 crashes (log: f.log)\n"
    assert suites.note(output, "fuzz") == "877812 runs in 61 s, 0 crashes (log: f.log)"
    assert suites.note("local-cluster: 3 replicas\nlocal-cluster: 4 passed, 0 failed\n",
                       "local-cluster") == ""
    assert suites.note("check-deploy: OK\n", "deploy-checks") == ""


def test_summary_table_and_last_line(tmp_path):
    (tmp_path / "build.log").write_text("[100%] Built target card-server\n")
    (tmp_path / "ctest.log").write_text("100% tests passed, 0 tests failed out of 158\n")
    (tmp_path / "load-test.log").write_text("load test: 4 passed, 1 failed\n")
    (tmp_path / "fuzz.log").write_text("fuzz: 9 runs in 5 s, 0 crashes (log: f.log)\n")
    tsv = tmp_path / "suites.tsv"
    tsv.write_text("".join(f"{name}\t{status}\t{seconds}\t{tmp_path / name}.log\n"
                           for name, status, seconds in
                           [("build", 0, 41), ("ctest", 0, 611), ("load-test", 1, 95),
                            ("fuzz", 0, 6)]))
    lines, status = suites.summarize(str(tsv))
    assert status == 1
    assert lines[0].split() == ["suite", "passed", "failed", "seconds"]
    assert lines[1].split() == ["build", "1", "0", "41"]
    assert lines[2].split() == ["ctest", "158", "0", "611"]
    assert lines[3].startswith("load-test") and f"log {tmp_path}/load-test.log" in lines[3]
    assert lines[4] == "fuzz            1       0        6  9 runs in 5 s, 0 crashes (log: f.log)"
    assert lines[5].split() == ["total", "164", "1", "753"]
    assert lines[-1] == "164 passed, 1 failed"


def test_the_runner_keeps_going_and_exits_non_zero(tmp_path):
    # scripts/lib/suites.sh itself: a failing suite, then a passing one; both in the table.
    script = f"""set -euo pipefail
source {REPO_ROOT}/scripts/lib/suites.sh
suites_init {tmp_path}/logs
two() {{ echo one; false; echo never; }}
suite broken two
suite fine echo "fine: 3 passed, 0 failed"
suites_summary
"""
    run = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert run.returncode == 1
    out = run.stdout.splitlines()
    assert "never" not in out
    assert out[-1] == "3 passed, 1 failed"
    assert out[-4].split()[:4] == ["broken", "0", "1", "0"]
    assert out[-3].split() == ["fine", "3", "0", "0"]
    assert (tmp_path / "logs" / "broken.log").read_text() == "one\n"


def test_a_negative_controls_junit_reads_as_expected_failure(tmp_path):
    path = tmp_path / "without-lock.expected-failure.xml"
    path.write_text(
        '<testsuites><testsuite name="card-stress.first-card" tests="2" failures="1" errors="0">'
        '<properties><property name="operations" value="100"/>'
        '<property name="ops_per_second" value="250.4"/><property name="p99_ms" value="12.34"/>'
        '</properties><testcase name="card_count"/>'
        '<testcase name="exactly_one_default"><failure message="3 of 500 users violate: one '
        'default"/></testcase></testsuite></testsuites>')
    lines = junit.expected_failure_lines(path)
    assert lines == [
        "card-stress.first-card: expected failure (ok): 1 of 2 checks broke; 100 operations, "
        "250/s, p99 12.3 ms",
        "  exactly_one_default: 3 of 500 users violate: one default"]
    assert not any("FAIL" in line or " failed" in line for line in lines)
