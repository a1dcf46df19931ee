# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""deploy/Dockerfile: a non-root runtime stage that exposes 50051, runs
card-server beyond loopback with mutual TLS, health-checks it with cardctl
speaking the same TLS, and installs every package whose libraries the
binaries load (runtime_libraries)."""
import json
import re

from deploy_checks import runtime_libraries, server
from deploy_checks.commands import flags_of, logical_lines, words


def check_dockerfile(ctx, path, lines):
    stage = []
    for number, text in logical_lines(lines):
        stripped = text.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            ctx.commands.attribute(words(stripped[1:]), f"{path}:{number}", structured=False)
            continue
        word, _, rest = stripped.partition(" ")
        word, where = word.upper(), f"{path}:{number}"
        if word == "FROM":
            stage = []
        stage.append((word, rest.strip(), where))
        if word == "HEALTHCHECK":
            match = re.search(r"\bCMD\b\s*(.*)", rest)
            rest = match.group(1) if match else ""
        if word in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
            rest = rest.strip()
            try:
                argv = json.loads(rest) if rest.startswith("[") else words(rest)
            except ValueError as e:
                ctx.problem(where, f"{word} exec form is not valid JSON: {e}")
                argv = []
            ctx.commands.attribute(argv, where, structured=True)
            if word != "ENTRYPOINT":
                stage[-1] = (word, argv, where)
        elif word == "RUN":
            ctx.commands.attribute(words(rest), where, structured=False)
    _check_runtime_stage(ctx, path, stage)


def _check_runtime_stage(ctx, path, final):
    def last(word):
        found = [item for item in final if item[0] == word]
        return found[-1] if found else None

    user = last("USER")
    if not user or user[1].split(":")[0] in ("root", "0"):
        ctx.problem(path, "the runtime stage must end with a non-root USER")
    if not any(w == "EXPOSE" and "50051" in r.split() for w, r, _ in final):
        ctx.problem(path, "the runtime stage must EXPOSE 50051")
    health = last("HEALTHCHECK")
    if not health or "cardctl" not in health[1] or "health" not in health[1]:
        ctx.problem(path, "HEALTHCHECK must run `cardctl ... health`")
    cmd = last("CMD")
    if not cmd or "card-server" not in cmd[1]:
        ctx.problem(path, "CMD must run card-server")
    else:
        flags = flags_of(cmd[1])
        server.check_listen(ctx.findings, cmd[2], flags)
        if health and "cardctl" in health[1]:
            server.check_probe_tls(ctx.findings, health[2], flags, health[1], "HEALTHCHECK")
    runtime_libraries.check_runtime_libraries(ctx, path, final)
