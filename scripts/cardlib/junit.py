# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""card-stress's JUnit XML as CI's test view shows it: each check and threshold
a test case; the run's figures are the suite's properties."""
import xml.etree.ElementTree as ET


def summary_line(path):
    """NAME: N tests, N failures, N errors; N operations, N/s, p99 N ms[; failed: ...]"""
    suite = ET.parse(path).getroot().find("testsuite")
    failed = [c.get("name") for c in suite.iter("testcase")
              if c.find("failure") is not None or c.find("error") is not None]
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    return (f'{suite.get("name")}: {suite.get("tests")} tests, {suite.get("failures")} failures, '
            f'{suite.get("errors")} errors; {props["operations"]} operations, '
            f'{float(props["ops_per_second"]):.0f}/s, p99 {float(props["p99_ms"]):.1f} ms'
            + (f'; failed: {", ".join(failed)}' if failed else ""))


def expected_failure_lines(path):
    """For a negative control's file, whose failures are the point: no FAIL, no
    failure counts, but which checks broke as they had to and how.

        NAME: expected failure (ok): N of N checks broke; N operations, N/s, p99 N ms
          CHECK: its failure message
    """
    suite = ET.parse(path).getroot().find("testsuite")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    broken = []
    for case in suite.iter("testcase"):
        found = case.find("failure")
        if found is None:
            found = case.find("error")
        if found is not None:
            broken.append(f'  {case.get("name")}: {found.get("message")}')
    return [f'{suite.get("name")}: expected failure (ok): {len(broken)} of {suite.get("tests")} '
            f'checks broke; {props["operations"]} operations, '
            f'{float(props["ops_per_second"]):.0f}/s, p99 {float(props["p99_ms"]):.1f} ms'] + broken
