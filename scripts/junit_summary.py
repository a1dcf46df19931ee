#!/usr/bin/python3
"""One line per card-stress JUnit file, as CI's test view will show it.

    junit_summary.py FILE.junit.xml...
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cardlib import junit  # noqa: E402


def main(argv):
    for path in argv:
        print(junit.summary_line(path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
