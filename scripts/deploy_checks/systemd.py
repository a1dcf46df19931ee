# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""deploy/systemd: the unit runs card-server sandboxed, as no root, stops after
its drain, and passes systemd-analyze verify and security where installed."""
import os
import re
import shutil
import tempfile

from deploy_checks import server
from deploy_checks.commands import flag_value, flags_of, logical_lines, program_of, seconds, words
from deploy_checks.programs import run

EXPECTED = {"KillSignal": "SIGTERM", "Restart": "on-failure", "ProtectSystem": "strict"}


def check_unit(ctx, path, lines):
    keys = {}
    for _, text in logical_lines(lines):
        m = re.match(r"^\s*([A-Za-z]+)\s*=\s*(.*)$", text)
        if m:
            keys.setdefault(m.group(1), []).append(m.group(2).strip())

    def get(key):
        return (keys.get(key) or [None])[-1]

    exec_start = words(get("ExecStart") or "")
    if not exec_start or program_of(exec_start[0]) != "card-server":
        ctx.problem(path, "ExecStart must run card-server")
        return
    flags = flags_of(exec_start)
    server.check_listen(ctx.findings, path, flags, container=False)
    grace = seconds(flag_value(flags, "shutdown_grace", ctx.programs.default_grace))
    stop = seconds(get("TimeoutStopSec") or "90s")
    if stop is None or stop <= grace:
        ctx.problem(path, f"TimeoutStopSec ({get('TimeoutStopSec')}) must exceed "
                          f"--shutdown_grace ({grace:g}s)")
    for key, value in EXPECTED.items():
        if get(key) != value:
            ctx.problem(path, f"{key}= should be {value}, not {get(key)}")
    if not get("EnvironmentFile"):
        ctx.problem(path, "no EnvironmentFile= (DATABASE_URL)")
    if get("DynamicUser") != "yes" and not get("User"):
        ctx.problem(path, "runs as root: set DynamicUser=yes or User=")
    _systemd_analyze(ctx, path, lines)


def _systemd_analyze(ctx, path, lines):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        ctx.note(f"{path}: systemd-analyze not installed, unit not verified")
        return
    with tempfile.TemporaryDirectory() as tmp:
        # verify wants ExecStart's binary to exist: point it at the one given.
        unit = os.path.join(tmp, os.path.basename(path))
        binary = ctx.programs.binaries["card-server"]
        with open(unit, "w") as f:
            f.writelines(re.sub(r"^ExecStart=\S+", f"ExecStart={binary}", l) for l in lines)
        result = run([analyze, "verify", "--man=no", unit])
        if result.returncode != 0 or result.stderr.strip():
            ctx.problem(path, "systemd-analyze verify: "
                              + (result.stderr.strip() or f"exit {result.returncode}"))
        # Exposure 0 (locked down) .. 10 (root, no sandbox); threshold is x10.
        result = run([analyze, "security", "--offline=yes", "--threshold=20", unit])
        level = re.search(r"Overall exposure level for \S+: (\S+)", result.stdout)
        if result.returncode != 0:
            ctx.problem(path, f"systemd-analyze security: exposure "
                              f"{level.group(1) if level else '?'} above 2.0")
        elif level:
            ctx.note(f"{path}: systemd-analyze verify passed, security exposure {level.group(1)}")
