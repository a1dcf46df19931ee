# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""Running the load generators the benchmarks compare, and reading their figures:
pgbench (per-transaction log), card-stress (its JSON report) and h2load.
Each run's output goes to files in a work directory; nothing here starts or
stops servers (workspace.py does)."""
import dataclasses
import glob
import os
import re
import statistics
import subprocess

from cardlib import stress_report


@dataclasses.dataclass
class PgbenchFigures:
    tps: float
    failed_pct: str   # as pgbench prints it; "0" when it prints none
    p50_ms: float
    p99_ms: float
    transactions: int = 0  # completed (failed ones excluded)


def percentile(sorted_values, q):
    """The value at rank floor(n*q)+1 (1-based) of sorted_values, 0 if empty."""
    if not sorted_values:
        return 0.0
    return sorted_values[min(int(len(sorted_values) * q), len(sorted_values) - 1)]


def run_pgbench(work_dir, url, script, clients, seconds, users, *extra):
    """pgbench -M prepared on SCRIPT for SECONDS; tps, failed % and latency
    percentiles from the per-transaction log (field 3: microseconds, or
    "failed")."""
    prefix = os.path.join(work_dir, "pgbench_log")
    for old in glob.glob(prefix + ".*"):
        os.remove(old)
    out_path = os.path.join(work_dir, os.path.basename(script) + ".out")
    with open(out_path, "w") as out:
        subprocess.run(["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", "2",
                        "-T", str(seconds), "-D", f"users={users}", "-l",
                        f"--log-prefix={prefix}", *extra, "-f", script, url],
                       stdout=out, stderr=subprocess.STDOUT, check=False)
    with open(out_path) as f:
        text = f.read()
    tps = re.search(r"^tps = ([0-9.]*)", text, re.M)
    failed = re.search(r"^number of failed transactions: [0-9]* \(([0-9.]*)%\)", text, re.M)
    done = re.search(r"^number of transactions actually processed: ([0-9]+)", text, re.M)
    latencies = []
    for log in glob.glob(prefix + ".*"):
        with open(log) as f:
            for line in f:
                fields = line.split()
                if len(fields) > 2 and fields[2].isdigit():
                    latencies.append(int(fields[2]) / 1000)
    latencies.sort()
    return PgbenchFigures(float(tps.group(1)) if tps and tps.group(1) else 0.0,
                          failed.group(1) if failed else "0",
                          percentile(latencies, 0.50), percentile(latencies, 0.99),
                          int(done.group(1)) if done else 0)


def run_card_stress(stress, report_path, *flags, check=False):
    """card-stress --progress=false --format=json --output=REPORT_PATH FLAGS
    (a flag given twice: the last wins), its own output discarded; the report's
    figures. check: a non-zero exit raises (CalledProcessError)."""
    if os.path.exists(report_path):
        os.remove(report_path)
    subprocess.run([stress, "--progress=false", "--format=json", f"--output={report_path}",
                    *flags], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=check)
    return stress_report.figures(stress_report.load(report_path))


@dataclasses.dataclass
class H2loadFigures:
    requests_per_second: float
    data_bytes: int


def run_h2load(out_path, *argv):
    """h2load ARGV (raises on a non-zero exit); its req/s and data bytes."""
    with open(out_path, "w") as out:
        subprocess.run(["h2load", *argv], stdout=out, stderr=subprocess.STDOUT, check=True)
    with open(out_path) as f:
        text = f.read()
    rps = re.search(r"^finished in .*, ([0-9.]*) req/s", text, re.M)
    data = re.search(r"^traffic: .*\(([0-9]*)\) data", text, re.M)
    return H2loadFigures(float(rps.group(1)) if rps else 0.0, int(data.group(1)) if data else 0)


def median(values):
    return statistics.median(float(v) for v in values)
