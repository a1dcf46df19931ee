# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""What the benchmarks in stress/ (compare, mtls-cost, h2load-health,
memory-bench) share besides the workspace: their `--name=value` command line
(usage errors exit 4, as card-stress's do) and finding the binaries."""
import os
import sys

from cardlib import workspace

USAGE_EXIT = 4


def parse_flags(argv, defaults, usage, switches=(), rest_after_dashdash=False):
    """--name=value for each key of defaults (values converted to the default's
    type), --name alone for each of switches (then True); with
    rest_after_dashdash, what follows `--` is returned as a list. Anything else
    prints usage and exits 4."""
    values = dict(defaults, **{name: False for name in switches})
    rest = []
    for i, arg in enumerate(argv):
        name, eq, value = arg[2:].partition("=") if arg.startswith("--") else ("", "", "")
        if rest_after_dashdash and arg == "--":
            rest = argv[i + 1:]
            break
        if eq and name in defaults:
            try:
                values[name] = type(defaults[name])(value)
            except ValueError:
                usage_error(usage)
        elif not eq and name in switches:
            values[name] = True
        else:
            usage_error(usage)
    return (values, rest) if rest_after_dashdash else values


def usage_error(usage):
    print(f"usage: {usage}", file=sys.stderr)
    sys.exit(USAGE_EXIT)


def binaries(build):
    """(card-server, card-stress) under the build directory, relative to the
    repository root as the scripts always were."""
    root = workspace.REPO_ROOT
    build = build if os.path.isabs(build) else os.path.join(root, build)
    return (os.path.join(build, "server", "card-server"),
            os.path.join(build, "stress", "card-stress"))


def require_binaries(build, *paths):
    if not all(os.access(p, os.X_OK) for p in paths):
        print(f"build first: cmake --build {build}", file=sys.stderr)
        sys.exit(USAGE_EXIT)
