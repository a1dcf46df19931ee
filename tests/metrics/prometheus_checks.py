#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""The JSON reading of tests/metrics/prometheus_scrape_test.sh, one subcommand
per question the test asks:

    prometheus_checks.py query-value < API_QUERY_JSON    the value of an instant
                                                         query with one result ("" if none)
    prometheus_checks.py scraped-after SINCE < TARGETS   exit 0 if a healthy target's
                                                         last scrape is after SINCE (epoch s)
    prometheus_checks.py creates REPORT.json             "ACKNOWLEDGED RETRIES" of
                                                         card-stress's creates
    prometheus_checks.py positive VALUE                  exit 0 if VALUE > 0
    prometheus_checks.py json-lines LOG                  exit 0 if every line is a JSON object
    prometheus_checks.py dashboard DASHBOARD.json API    exit 0 if Prometheus at API (its
                                                         /api/v1) takes every query of the
                                                         Grafana dashboard and each but
                                                         NO_DATA_YET returns series
"""
import datetime
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "scripts"))
from cardlib import stress_report  # noqa: E402


def query_value(api_response):
    result = api_response["data"]["result"]
    return result[0]["value"][1] if len(result) == 1 else ""


def rfc3339_seconds(stamp):
    """Prometheus's RFC 3339 timestamps carry nanoseconds, which fromisoformat
    does not take: the fraction is added by hand."""
    head, _, frac = stamp.rstrip("Z").partition(".")
    when = datetime.datetime.fromisoformat(head).replace(tzinfo=datetime.timezone.utc)
    return when.timestamp() + float("0." + (frac.split("+")[0] or "0"))


def scraped_after(targets_response, since):
    return any(target["health"] == "up" and rfc3339_seconds(target["lastScrape"]) > since
               for target in targets_response["data"]["activeTargets"])


# Dashboard queries whose series appear only with their first event: a
# database error.
NO_DATA_YET = ("card_server_db_errors_total",)
# Grafana's variables as a dashboard user with every job and instance selected
# sees them; 1m spans many of the test's 1 s scrapes.
GRAFANA_VARIABLES = {"$job": "card-server", "$instance": ".+", "$__rate_interval": "1m"}


def dashboard_queries(path):
    """(title, PromQL) of every panel target and template variable."""
    with open(path) as f:
        dashboard = json.load(f)
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            # label_values(SELECTOR, label): the selector's series.
            selector = re.match(r"label_values\((.*),\s*\w+\)$", variable["query"]["query"])
            yield f"variable {variable['name']}", selector.group(1)


def check_dashboard(path, api):
    failed = 0
    for title, expr in dashboard_queries(path):
        for name, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(name, value)
        url = f"{api}/query?" + urllib.parse.urlencode({"query": expr})
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as e:  # 400: the query does not parse
            answer = json.load(e)
        series = len(answer.get("data", {}).get("result", []))
        expected_empty = any(name in expr for name in NO_DATA_YET)
        ok = answer.get("status") == "success" and (series > 0 or expected_empty)
        failed += 0 if ok else 1
        print(f"{'pass' if ok else 'FAIL'}: dashboard {title!r}: {series} series"
              f"{' (none expected yet)' if expected_empty else ''}"
              f"{'' if answer.get('status') == 'success' else ': ' + answer.get('error', '')}",
              file=sys.stdout if ok else sys.stderr)
    return 1 if failed else 0


def every_line_is_a_json_object(path):
    with open(path) as f:
        return all(isinstance(json.loads(line), dict) for line in f)


def main(argv):
    command, args = argv[0], argv[1:]
    if command == "query-value":
        print(query_value(json.load(sys.stdin)))
    elif command == "scraped-after":
        return 0 if scraped_after(json.load(sys.stdin), float(args[0])) else 1
    elif command == "creates":
        print(*stress_report.create_outcome(stress_report.load(args[0])))
    elif command == "positive":
        return 0 if float(args[0] or 0) > 0 else 1
    elif command == "json-lines":
        return 0 if every_line_is_a_json_object(args[0]) else 1
    elif command == "dashboard":
        return check_dashboard(args[0], args[1])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
