#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""The table that ends scripts/test.sh: suite, passed, failed, seconds, then
the plain `N passed, N failed` totals as the very last line. Exit 0 only if
no suite failed. The counting rules: scripts/cardlib/suites.py.

    suite_summary.py SUITES.tsv
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cardlib import suites  # noqa: E402


def main(argv):
    if len(argv) != 1:
        print("usage: suite_summary.py SUITES.tsv", file=sys.stderr)
        return 4
    lines, status = suites.summarize(argv[0])
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
