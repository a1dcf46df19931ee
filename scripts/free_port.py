#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""Prints a TCP port free on 127.0.0.1 right now (scripts/lib/throwaway-server.sh)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cardlib import workspace  # noqa: E402


def main():
    print(workspace.free_port())
    return 0


if __name__ == "__main__":
    sys.exit(main())
