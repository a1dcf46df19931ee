# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""Every PromQL expression in deploy/grafana/*.json (panel targets and template
variable queries) and in deploy/prometheus/*.yml rules names only series that
card-server really exports, or that a rule there records: a dashboard panel
or an alert on a misspelt or renamed metric shows "No data" forever instead of
failing.

What card-server exports is read from a real scrape: a throwaway PostgreSQL
(scripts/throwaway-pg.sh), the given card-server on loopback ports with
--metrics_listen, one GET /metrics. The names are cached per binary (by its
SHA-256) in the temporary directory, so the test suite's many runs start one
server. Families that have no series until their first event (their label
values are only known then) cannot appear in a fresh server's scrape: they are
listed in EVENT_FAMILIES, and each must still be registered in server/'s
code. Without PostgreSQL on the machine the names come from the code's
registrations instead, and the check says so.
"""
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
THROWAWAY_PG = os.path.join(REPO_ROOT, "scripts", "throwaway-pg.sh")
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")

# Registered at start-up, series only once something happened (label values
# unknown before): absent from a fresh server's scrape.
EVENT_FAMILIES = {"card_server_db_errors_total"}
# Series Prometheus itself adds to every target, or computes.
PROMETHEUS_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                     "scrape_samples_post_metric_relabeling", "scrape_series_added",
                     "ALERTS", "ALERTS_FOR_STATE"}
# Words of PromQL that look like metric names.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
            "and", "or", "unless", "atan2", "sum", "min", "max", "avg", "group", "stddev",
            "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "inf", "nan",
            "Inf", "NaN", "start", "end"}
# A scrape's sample line: the series name, then labels or the value.
SAMPLE_NAME = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]")
IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def metric_names(expr):
    """The series names a PromQL expression (or a Grafana variable query such
    as label_values(metric, label)) selects."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    text = re.sub(r"\$\{[^}]*\}|\$\w+", "1", text)  # Grafana variables
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\boffset\s+-?\w+", " ", text)
    text = re.sub(r"(?<![\w:])\d[\w.]*(?:[eE][+-]?\d+)?", " ", text)  # numbers, durations
    names = set()
    for match in IDENTIFIER.finditer(text):
        rest = text[match.end():].lstrip()
        if rest.startswith("(") or match.group(0) in KEYWORDS:
            continue  # a function or an aggregation
        names.add(match.group(0))
    if re.match(r"\s*(label_values|label_names|metrics|query_result)\s*\(", expr):
        # label_values(metric, label): the label is no series name.
        inner = re.match(r"\s*label_values\s*\(\s*([^,)]*?)\s*(?:,\s*(\w+))?\s*\)\s*$", expr)
        if inner and inner.group(2):
            names.discard(inner.group(2))
        if inner and not inner.group(2):
            names.discard(inner.group(1))  # label_values(label): a label only
    return names


def names_of_scrape(text):
    """Series names of a Prometheus text exposition: samples and # TYPE lines."""
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            names.add(line.split()[2])
        elif not line.startswith("#"):
            match = SAMPLE_NAME.match(line)
            if match:
                names.add(match.group(1))
    return names


def registered_in_code():
    """Metric names the server's code registers (prometheus-cpp's Name() and
    process_metrics.cc's families), with the series names histograms add."""
    names = set()
    for path in glob.glob(os.path.join(REPO_ROOT, "server", "observability", "*.cc")):
        with open(path, encoding="utf-8") as f:
            code = f.read()
        for kind, name in re.findall(r'Build(Counter|Gauge|Histogram|Summary)\(\)\s*'
                                     r'\.Name\("([^"]+)"\)', code):
            names.add(name)
            if kind in ("Histogram", "Summary"):
                names.update({name + "_count", name + "_sum"})
            if kind == "Histogram":
                names.add(name + "_bucket")
        names.update(re.findall(r'Family\("(process_\w+)"', code))
    return names


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape_real_server(server):
    """GET /metrics of `server` started on a throwaway PostgreSQL; raises
    RuntimeError with the reason if it cannot be done."""
    workdir = tempfile.mkdtemp(prefix="check-deploy-metrics.")
    os.chmod(workdir, 0o755)  # the cluster's owner is postgres when run as root
    pg_dir, process = os.path.join(workdir, "pg"), None
    try:
        started = subprocess.run(["bash", THROWAWAY_PG, "start", pg_dir], capture_output=True,
                                 text=True, timeout=120, stdin=subprocess.DEVNULL)
        if started.returncode != 0:
            raise RuntimeError(f"throwaway PostgreSQL did not start: {started.stderr.strip()}")
        url = started.stdout.strip().splitlines()[-1]
        metrics_port = free_port()
        with open(os.path.join(workdir, "server.log"), "w") as log:
            process = subprocess.Popen(
                [server, f"--listen=127.0.0.1:{free_port()}", f"--database_url={url}",
                 "--db_pool_size=1", f"--metrics_listen=127.0.0.1:{metrics_port}"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        give_up = time.monotonic() + 60
        while time.monotonic() < give_up:
            if process.poll() is not None:
                with open(os.path.join(workdir, "server.log")) as f:
                    tail = f.read()[-500:]
                raise RuntimeError(f"card-server exited {process.returncode}: {tail}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics",
                                            timeout=5) as response:
                    return response.read(16 * 1024 * 1024).decode("utf-8", "replace")
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("card-server's metrics did not answer within 60 s")
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        subprocess.run(["bash", THROWAWAY_PG, "stop", pg_dir], capture_output=True, timeout=120,
                       stdin=subprocess.DEVNULL)
        shutil.rmtree(workdir, ignore_errors=True)


def exported_names(ctx):
    """(names, how they were found) for the card-server binary given."""
    server = ctx.programs.binaries["card-server"]
    if not os.path.exists(os.path.join(PG_BIN, "initdb")):
        return registered_in_code(), f"read from server/'s code (no PostgreSQL at {PG_BIN})"
    with open(server, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:32]
    cache = os.path.join(tempfile.gettempdir(), f"card-server-metric-names-{digest}.json")
    try:
        with open(cache, encoding="utf-8") as f:
            # The temporary directory is shared: trust only our own file.
            info = os.fstat(f.fileno())
            if info.st_uid == os.getuid() and not info.st_mode & 0o022:
                return set(json.load(f)), "from a scrape of this card-server (cached)"
    except (OSError, ValueError):
        pass
    names = names_of_scrape(scrape_real_server(server))
    partial = f"{cache}.{os.getpid()}"
    with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), "w",
              encoding="utf-8") as f:
        json.dump(sorted(names), f)
    os.replace(partial, cache)  # whole or not at all, for a concurrent run
    return names, "from a scrape of this card-server"


def dashboard_exprs(path, dashboard):
    """(where, expression) of every query in a Grafana dashboard."""
    def panels(items):
        for panel in items or []:
            yield panel
            yield from panels(panel.get("panels"))  # rows hold panels
    for panel in panels(dashboard.get("panels")):
        for target in panel.get("targets") or []:
            if target.get("expr"):
                yield f"{path} panel {panel.get('title')!r} {target.get('refId')}", target["expr"]
    for variable in (dashboard.get("templating") or {}).get("list") or []:
        query = variable.get("query") if variable.get("type") == "query" else None
        if isinstance(query, dict):
            query = query.get("query")
        if query:
            yield f"{path} variable {variable.get('name')}", query


def rules_exprs(path, doc):
    """(where, expression) of every rule, and the names the rules record."""
    exprs, recorded = [], set()
    for group in (doc or {}).get("groups") or []:
        for rule in group.get("rules") or []:
            name = rule.get("record") or rule.get("alert")
            if rule.get("record"):
                recorded.add(rule["record"])
            exprs.append((f"{path} rule {name}", rule["expr"]))
    return exprs, recorded


def check(ctx):
    dashboards = sorted(glob.glob("deploy/grafana/*.json"))
    rule_files = [p for p in sorted(glob.glob("deploy/prometheus/*.yml"))
                  if not p.endswith(".test.yml")]  # promtool's made-up input series
    exprs, recorded = [], set()
    for path in dashboards:
        with open(path, encoding="utf-8") as f:
            try:
                dashboard = json.load(f)
            except ValueError as e:
                ctx.problem(path, f"JSON does not parse: {e}")
                continue
        exprs.extend(dashboard_exprs(path, dashboard))
    for path in rule_files:
        with open(path, encoding="utf-8") as f:
            found, names = rules_exprs(path, yaml.safe_load(f))
        exprs.extend(found)
        recorded |= names
    if not exprs:
        return
    if "card-server" not in ctx.programs.binaries:
        ctx.note("Grafana and Prometheus metric names not checked: no card-server binary")
        return
    try:
        exported, how = exported_names(ctx)
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        ctx.problem("deploy/grafana", f"cannot read card-server's metric names: {e}")
        return
    in_code = registered_in_code()
    for name in sorted(EVENT_FAMILIES - in_code):
        ctx.problem("scripts/deploy_checks/grafana.py",
                    f"EVENT_FAMILIES lists {name}, which server/ no longer registers")
    known = exported | (EVENT_FAMILIES & in_code) | recorded | PROMETHEUS_SERIES
    for where, expr in exprs:
        for name in sorted(metric_names(expr) - known):
            ctx.problem(where, f"{name} is not a metric card-server exports ({how}) nor a "
                               "recorded rule: the query would show no data")
    ctx.note(f"{len(exprs)} PromQL expressions in {len(dashboards)} dashboard(s) and "
             f"{len(rule_files)} rule file(s) checked against {len(exported)} series names "
             f"{how}")
