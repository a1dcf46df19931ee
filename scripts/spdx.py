#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""Checks (or, with --fix, adds) the SPDX license header of every source file
git tracks: the REUSE convention, two comment lines near the top naming the
license and the copyright holder, so a file copied out of the repository
still says under which terms.

Files without a comment syntax (JSON, the fuzz corpus, test fixtures) and
files written by others (proto/google/: googleapis' contract, retyped) are
exempt; LICENSE covers them.

Usage: spdx.py [--fix] [REPO_ROOT]
"""
import os
import re
import subprocess
import sys

LICENSE_LINE = "SPDX-License-Identifier: Apache-2.0"
COPYRIGHT_LINE = "SPDX-FileCopyrightText: 2026 The CardService Authors"

SLASHES = ("cc", "h", "proto", "js", "mjs", "in")
HASHES = ("py", "sh", "cmake", "yaml", "yml", "cfg", "service", "conf", "toml")
DASHES = ("sql",)
EXEMPT = (
    re.compile(r"^proto/google/"),
    re.compile(r"^tests/fuzz/corpus/"),
    re.compile(r"^tests/fixtures/"),
    re.compile(r"(^|/)package(-lock)?\.json$"),
    re.compile(r"\.(md|json|txt\.in|dump|ini)$"),
    re.compile(r"^LICENSE$"),
    re.compile(r"(^|/)\.(gitignore|clang-format)$"),
    re.compile(r"\.dockerignore$"),
)


def comment_prefix(path, first_line):
    name = os.path.basename(path)
    ext = name.rsplit(".", 1)[1] if "." in name else ""
    if name == "CMakeLists.txt" or name == "Dockerfile" or ext in HASHES:
        return "#"
    if ext in SLASHES:
        return "//"
    if ext in DASHES:
        return "--"
    if first_line.startswith("#!"):
        return "#"
    return None


def header_position(lines):
    """After a shebang, a Dockerfile parser directive or an XML prolog."""
    position = 0
    while position < len(lines) and (lines[position].startswith("#!")
                                     or lines[position].startswith("# syntax=")):
        position += 1
    return position


def main(argv):
    fix = "--fix" in argv
    args = [a for a in argv if not a.startswith("--")]
    root = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    files = subprocess.run(["git", "-C", root, "ls-files"], check=True, capture_output=True,
                           text=True).stdout.split()
    missing = []
    for path in files:
        if any(pattern.search(path) for pattern in EXEMPT):
            continue
        full = os.path.join(root, path)
        if os.path.islink(full) or not os.path.isfile(full):
            continue
        with open(full, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
        lines = text.splitlines(keepends=True)
        prefix = comment_prefix(path, lines[0] if lines else "")
        if prefix is None:
            continue
        if LICENSE_LINE in "".join(lines[:8]):
            continue
        missing.append(path)
        if fix:
            at = header_position(lines)
            header = [f"{prefix} {LICENSE_LINE}\n", f"{prefix} {COPYRIGHT_LINE}\n"]
            with open(full, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write("".join(lines[:at] + header + lines[at:]))
    if missing and not fix:
        for path in missing:
            print(f"spdx: {path}: no '{LICENSE_LINE}' in its first lines")
        print(f"spdx: {len(missing)} files lack the header; run scripts/spdx.py --fix")
        return 1
    if fix:
        print(f"spdx: added the header to {len(missing)} files")
    else:
        print(f"spdx: all {len(files)} tracked files checked, every source file has the header")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
