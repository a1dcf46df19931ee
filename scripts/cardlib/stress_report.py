# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""card-stress's JSON report (--format=json / --json_output), read once.

The report's schema is stress/proto/devcard/cardstress/v1/report.proto in its
JSON rendering; these are the few figures the scripts quote from it.
"""
import dataclasses
import json


@dataclasses.dataclass
class StressFigures:
    ops_per_second: float
    error_rate: float          # 0..1
    p50_ms: float
    p99_ms: float
    exit_code: int
    failed: int                # failed + indeterminate calls
    client_cpu_s: float        # user + system
    client_peak_rss_mb: float
    operations: int = 0        # calls finished during the load
    elapsed_s: float = 0.0     # the load's length (verification excluded)


def load(path):
    with open(path) as f:
        return json.load(f)


def figures(report):
    totals, latency, client = report["totals"], report["latency_ms"], report.get("client", {})
    return StressFigures(
        ops_per_second=totals["ops_per_second"], error_rate=totals["error_rate"],
        p50_ms=latency["p50"], p99_ms=latency["p99"], exit_code=report["exit_code"],
        failed=totals.get("failed", 0) + totals.get("indeterminate", 0),
        client_cpu_s=client.get("user_cpu_s", 0) + client.get("system_cpu_s", 0),
        client_peak_rss_mb=client.get("peak_rss_mb", 0),
        operations=int(totals.get("operations", 0)), elapsed_s=report.get("elapsed_s", 0.0))


def create_outcome(report):
    """(creates acknowledged OK, create retries) of a run."""
    create = report["operations"]["create"]
    return create["status_codes"].get("OK", 0), create["retries"]
