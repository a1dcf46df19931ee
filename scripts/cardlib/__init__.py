# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""Shared Python for the scripts, benchmarks and Python test suites.

Bash orchestrates processes where a few lines do; anything that parses JSON,
reads results or computes figures lives here, in modules with one job each:

    workspace      a throwaway PostgreSQL and card-servers in /tmp/card-NAME.*,
                   stopped and deleted on exit (the Python side of
                   scripts/lib/throwaway-server.sh)
    stress_report  card-stress's JSON report, read once
    loadgen        running pgbench, card-stress and h2load and reading their figures
    prometheus     the text exposition format: a histogram between two scrapes
    junit          card-stress's JUnit files as one summary line each
    protos         protoc --python_out at run time, loaded by path

Debian's /usr/bin/python3 (3.11), its standard library and Debian's
python3-grpcio / python3-protobuf / python3-yaml only: nothing from PyPI.
Callers outside scripts/ put this folder's parent on sys.path first.
"""
