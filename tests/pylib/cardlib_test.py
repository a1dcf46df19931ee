# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""The figures scripts/cardlib computes, on made-up inputs whose answers are
known: histogram deltas between scrapes, percentiles as the old awk took them,
card-stress report and JUnit summaries, the benchmarks' flag parsing, and
tests/metrics/prometheus_checks.py's reading of Prometheus's API.

    python3 -m pytest tests/pylib
"""
import os
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO_ROOT, "scripts"))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "metrics"))

from cardlib import bench, cpu, junit, loadgen, prometheus, stress_report  # noqa: E402
import prometheus_checks  # noqa: E402

BEFORE = """card_server_batch_size_bucket{le="1"} 10
card_server_batch_size_bucket{le="8"} 10
card_server_batch_size_bucket{le="64"} 10
card_server_batch_size_bucket{le="+Inf"} 10
card_server_batch_size_sum 10
card_server_batch_size_count 10
"""
AFTER = """card_server_batch_size_bucket{le="1"} 15
card_server_batch_size_bucket{le="8"} 19
card_server_batch_size_bucket{le="64"} 20
card_server_batch_size_bucket{le="+Inf"} 20
card_server_batch_size_sum 60
card_server_batch_size_count 20
"""


def test_histogram_delta_counts_only_the_turns_between_the_scrapes():
    # 10 turns between: 5 of size 1, 4 up to 8, 1 up to 64; 50 creates.
    assert prometheus.histogram_delta_summary(BEFORE, AFTER, "card_server_batch_size") == \
        "turns=10 creates/turn mean=5.0 p50<=1 p90<=8 p99<=64"


def test_histogram_delta_without_turns():
    assert prometheus.histogram_delta_summary(AFTER, AFTER, "card_server_batch_size") == \
        "no turns"


def test_percentile_takes_rank_floor_n_q_plus_one_like_the_awk_it_replaced():
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert loadgen.percentile(values, 0.50) == 51.0
    assert loadgen.percentile(values, 0.99) == 100.0
    assert loadgen.percentile([], 0.5) == 0.0


def test_stress_report_figures():
    report = {"totals": {"ops_per_second": 1200.5, "error_rate": 0.01, "failed": 3,
                         "indeterminate": 2, "operations": "9604"},  # uint64: a JSON string
              "latency_ms": {"p50": 1.5, "p99": 9.25}, "exit_code": 0, "elapsed_s": 8.0,
              "client": {"user_cpu_s": 1.25, "system_cpu_s": 0.5, "peak_rss_mb": 40.0},
              "operations": {"create": {"status_codes": {"OK": 97}, "retries": 0}}}
    figures = stress_report.figures(report)
    assert (figures.ops_per_second, figures.failed, figures.client_cpu_s) == (1200.5, 5, 1.75)
    assert (figures.p50_ms, figures.p99_ms, figures.exit_code) == (1.5, 9.25, 0)
    assert (figures.operations, figures.elapsed_s) == (9604, 8.0)
    assert stress_report.create_outcome(report) == (97, 0)


def test_cpu_meter_cuts_where_the_load_ended_interpolating_between_samples():
    meter = cpu.Meter(postmaster=None)
    # (monotonic s, server CPU s, PostgreSQL CPU s), every 0.5 s
    meter.samples = [(10.0, 1.0, 5.0), (10.5, 1.2, 5.6), (11.0, 1.4, 6.2), (11.5, 1.5, 6.3)]
    server, postgres = meter.used_within(0.75)
    assert server == pytest.approx(0.3)
    assert postgres == pytest.approx(0.9)
    assert meter.used_within() == pytest.approx((0.5, 1.3))
    assert meter.used_within(60) == pytest.approx((0.5, 1.3))  # past the last sample
    assert cpu.per_item_us(0.3, 3000) == pytest.approx(100.0)
    assert cpu.per_item_us(0.3, 0) == 0.0


def test_cpu_of_this_process_and_its_reaped_children_is_read_from_proc():
    assert cpu.process_cpu_s(os.getpid()) > 0
    assert cpu.process_cpu_s(os.getpid(), with_reaped_children=True) >= cpu.process_cpu_s(
        os.getpid())


def test_junit_summary_line_names_the_failed_cases(tmp_path):
    path = tmp_path / "run.junit.xml"
    path.write_text(
        '<testsuites><testsuite name="card-stress.first-card" tests="2" failures="1" errors="0">'
        '<properties><property name="operations" value="100"/>'
        '<property name="ops_per_second" value="250.4"/><property name="p99_ms" value="12.34"/>'
        '</properties><testcase name="card_count"/>'
        '<testcase name="exactly_one_default"><failure message="x"/></testcase>'
        '</testsuite></testsuites>')
    assert junit.summary_line(path) == (
        "card-stress.first-card: 2 tests, 1 failures, 0 errors; 100 operations, 250/s, "
        "p99 12.3 ms; failed: exactly_one_default")


def test_bench_flags_convert_to_the_defaults_types():
    flags = bench.parse_flags(["--seconds=2", "--build=out", "--durable"],
                              {"seconds": 10, "build": "build"}, "usage", switches=("durable",))
    assert flags == {"seconds": 2, "build": "out", "durable": True}
    flags, rest = bench.parse_flags(["--runs=1", "--", "--engine=h2c"], {"runs": 5}, "usage",
                                    rest_after_dashdash=True)
    assert (flags, rest) == ({"runs": 1}, ["--engine=h2c"])


@pytest.mark.parametrize("argv", [["--nope=1"], ["--seconds=two"], ["--seconds"], ["stray"]])
def test_bench_usage_mistakes_exit_4(argv):
    with pytest.raises(SystemExit) as exited:
        bench.parse_flags(argv, {"seconds": 10}, "usage")
    assert exited.value.code == 4


def test_prometheus_api_answers():
    assert prometheus_checks.query_value(
        {"data": {"result": [{"value": [1.0, "3000"]}]}}) == "3000"
    assert prometheus_checks.query_value({"data": {"result": []}}) == ""
    stamp = "2026-12-04T16:40:00.123456789Z"  # nanoseconds, which fromisoformat refuses
    assert prometheus_checks.rfc3339_seconds(stamp) == pytest.approx(1796402400.123457)
    targets = {"data": {"activeTargets": [{"health": "up", "lastScrape": stamp}]}}
    assert prometheus_checks.scraped_after(targets, 1796402400.0)
    assert not prometheus_checks.scraped_after(targets, 1796402401.0)
