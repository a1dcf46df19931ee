# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""The test run's summary (scripts/test.sh): each suite's own counts, read from
the output it left in its log, and the table that ends the run.

scripts/lib/suites.sh runs the suites and appends one line per suite to
SUITES.tsv: name, exit status, seconds, log path. A suite's counts are, in
order of preference:

  * the last line of its output of the form `[NAME: ]N passed, N failed`
    (scripts/load-test.sh, deploy/local-cluster, scripts/pgbouncer-test.sh
    end with one; a new suite with several checks should too);
  * ctest's `N% tests passed, N tests failed out of M`;
  * otherwise its exit status: 1 passed, 0 failed, or 0 passed, 1 failed.

A suite that exited non-zero is failed even if its counts say nothing failed
(it died after printing them, or before its own summary): it counts at least
one failure.

A suite's row also shows its note, if it has one: the rest of the last line of
its output that starts with `NAME: ` (its own name) and is not a counts line,
e.g. scripts/fuzz.sh's `fuzz: 877812 runs in 61 s, 0 crashes (log: ...)`.
"""
import re

_OWN = re.compile(r"^(?:[\w .-]+: )?(\d+) passed, (\d+) failed$")
_CTEST = re.compile(r"^\d+% tests passed, (\d+) tests? failed out of (\d+)$")


def counts(output, status):
    """(passed, failed) for one suite, from its output (text) and exit status."""
    for line in reversed(output.splitlines()):
        line = line.strip()
        own = _OWN.match(line)
        if own:
            passed, failed = int(own.group(1)), int(own.group(2))
            break
        ctest = _CTEST.match(line)
        if ctest:
            failed = int(ctest.group(1))
            passed = int(ctest.group(2)) - failed
            break
    else:
        passed, failed = (1, 0) if status == 0 else (0, 1)
    if status != 0 and failed == 0:
        failed = 1
    return passed, failed


def note(output, name):
    """What the suite said about itself last ("NAME: ..."), or "" (see above)."""
    prefix = f"{name}: "
    for line in reversed(output.splitlines()):
        line = line.strip()
        if line.startswith(prefix):
            return "" if _OWN.match(line) else line[len(prefix):]
    return ""


def read_suites(tsv_path):
    """[(name, status, seconds, log_path)] in the order the suites ran."""
    rows = []
    with open(tsv_path, encoding="utf-8") as tsv:
        for line in tsv:
            if line.strip():
                name, status, seconds, log = line.rstrip("\n").split("\t")
                rows.append((name, int(status), int(seconds), log))
    return rows


def table(results):
    """The summary: one row per suite, then the totals' line, last.

    results: [(name, status, seconds, log, passed, failed, note)]. A row ends
    with the suite's note, and for a failed suite its exit status and log.
    Returns the lines (no trailing newline)."""
    width = max([len("suite")] + [len(r[0]) for r in results])
    lines = [f'{"suite":<{width}}  {"passed":>6}  {"failed":>6}  {"seconds":>7}']
    for name, status, seconds, log, passed, failed, said in results:
        tail = [said] if said else []
        if failed:
            tail.append(f"exit {status}, log {log}")
        lines.append(f"{name:<{width}}  {passed:>6}  {failed:>6}  {seconds:>7}  "
                     f"{'; '.join(tail)}".rstrip())
    total_seconds = sum(r[2] for r in results)
    lines.append(f'{"total":<{width}}  {sum(r[4] for r in results):>6}  '
                 f'{sum(r[5] for r in results):>6}  {total_seconds:>7}')
    lines.append(f"{sum(r[4] for r in results)} passed, {sum(r[5] for r in results)} failed")
    return lines


def summarize(tsv_path):
    """(lines, exit status) for the run SUITES.tsv describes: 0 only if no suite failed."""
    results = []
    for name, status, seconds, log in read_suites(tsv_path):
        try:
            with open(log, encoding="utf-8", errors="replace") as f:
                output = f.read()
        except OSError:
            output = ""
        passed, failed = counts(output, status)
        results.append((name, status, seconds, log, passed, failed, note(output, name)))
    return table(results), (1 if not results or any(r[5] for r in results) else 0)
