# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""Walks deploy/, gives each file to the checks of its kind, has the programs
parse every flag found, and reports.

Exit 0: all checks hold; 1: problems (listed on stderr); 2: CARD_SERVER lists
no flags."""
import os
import sys

import yaml

from deploy_checks import compose, dockerfile, kubernetes, systemd
from deploy_checks import grafana
from deploy_checks.commands import Commands, StrictLoader, comment_lines
from deploy_checks.context import Context
from deploy_checks.findings import Findings
from deploy_checks.programs import PROGRAMS, Programs

DEPLOY_DIR = "deploy"


def deploy_files():
    """(path, lines) of every text file under deploy/, in a stable order."""
    for directory, subdirs, files in os.walk(DEPLOY_DIR):
        subdirs.sort()
        for name in sorted(files):
            path = os.path.join(directory, name)
            try:
                with open(path, encoding="utf-8") as f:
                    yield path, f.read().splitlines(keepends=True)
            except UnicodeDecodeError:
                continue


def check_yaml(ctx, path, lines, k8s_objects):
    try:
        docs = [d for d in yaml.load_all("".join(lines), Loader=StrictLoader) if d is not None]
    except yaml.YAMLError as e:
        ctx.problem(path, f"YAML does not parse: {e}")
        return
    ctx.commands.sweep_text(path, comment_lines(lines))
    for i, doc in enumerate(docs):
        where = path if len(docs) == 1 else f"{path}#{i + 1}"
        ctx.commands.walk(doc, where)
        if path.startswith("deploy/k8s/"):
            if not isinstance(doc, dict) or "kind" not in doc:
                ctx.problem(where, "not a Kubernetes object (no kind)")
            else:
                k8s_objects.append((f"{where} ({doc['kind']})", doc))
        elif isinstance(doc, dict) and "services" in doc:
            ctx.findings.guarded(path, compose.check_compose, ctx, path, doc)


def check_files(ctx):
    """Every file's own checks; returns (paths checked, Kubernetes objects)."""
    checked, k8s_objects = [], []
    for path, lines in deploy_files():
        name = os.path.basename(path)
        checked.append(path)
        if name.endswith((".yml", ".yaml")):
            check_yaml(ctx, path, lines, k8s_objects)
        elif name == "Dockerfile" or name.endswith(".Dockerfile"):
            ctx.findings.guarded(path, dockerfile.check_dockerfile, ctx, path, lines)
        elif name.endswith(".service"):
            ctx.commands.sweep_text(path, lines)
            # card-proxy.service runs HAProxy, not card-server: only swept.
            runs_proxy = any(line.startswith("ExecStart=") and "haproxy" in line
                             for line in lines)
            if "card-server" in ctx.programs.binaries and not runs_proxy:
                ctx.findings.guarded(path, systemd.check_unit, ctx, path, lines)
        else:
            ctx.commands.sweep_text(path, lines)
    ctx.findings.guarded("deploy/k8s", kubernetes.check_k8s, ctx, k8s_objects)
    ctx.findings.guarded("deploy/grafana", grafana.check, ctx)
    return checked, k8s_objects


def report(findings):
    for note in findings.notes:
        print(f"check-deploy: note: {note}")
    for message, wheres in findings.problems.items():
        also = f" (also {', '.join(wheres[1:])})" if len(wheres) > 1 else ""
        print(f"check-deploy: FAIL {wheres[0]}: {message}{also}", file=sys.stderr)
    if findings.problems:
        print(f"check-deploy: {len(findings.problems)} problem(s) in deploy/", file=sys.stderr)


def main(argv):
    """argv: CARD_SERVER CARD_STRESS CARDCTL (the last two may be empty strings)."""
    paths = list(argv)[:3]
    findings = Findings()
    programs = Programs(findings, paths)
    if "card-server" not in programs.binaries:
        print(f"check-deploy: {paths[0] if paths else ''} --helpfull lists no flags",
              file=sys.stderr)
        return 2
    ctx = Context(findings, programs, Commands(findings))
    checked, k8s_objects = check_files(ctx)
    flag_count = programs.check_invocations(findings, ctx.commands.invocations)
    programs.check_loose(findings, ctx.commands.loose)
    report(findings)
    if findings.problems:
        return 1
    commands = sum(1 for _, program, flags in ctx.commands.invocations
                   if flags and program in programs.known)
    print(f"check-deploy: OK: {len(checked)} files, {len(k8s_objects)} Kubernetes objects, "
          f"{flag_count} flags in {commands} commands checked against "
          f"{', '.join(p + ' --helpfull' for p in PROGRAMS if p in programs.known)}")
    return 0
