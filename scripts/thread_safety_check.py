#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""Clang's thread-safety analysis over the project's C++ files (the syntax
pass only: no code generated, so every file costs one parse).

    thread_safety_check.py BUILD_DIR SOURCE_DIR JOBS [PATH_PREFIX...]

BUILD_DIR is a clang++-14 build tree configured with
CMAKE_EXPORT_COMPILE_COMMANDS=ON and its generated sources in place (run it
through scripts/thread-safety-check.sh, which does both). Each file of
compile_commands.json under SOURCE_DIR (generated ones excepted; only those
under a PATH_PREFIX, relative to SOURCE_DIR, when any is given) is compiled
with its own flags plus -fsyntax-only -Wthread-safety -Werror, with every other
warning off: this check fails on a lock discipline the compiler can prove
wrong (ABSL_GUARDED_BY, ABSL_EXCLUSIVE_LOCKS_REQUIRED, ...), nothing else.
Exit 0: all clean; 1: diagnostics (printed); 2: usage or setup problem.
Debian's /usr/bin/python3 and its standard library only.
"""
import concurrent.futures, json, os, shlex, subprocess, sys, time

CHECK_FLAGS = ["-fsyntax-only", "-Wno-everything", "-Wthread-safety", "-Werror"]


def translation_units(build_dir, source_dir, prefixes):
    with open(os.path.join(build_dir, "compile_commands.json")) as f:
        entries = json.load(f)
    build_dir = os.path.realpath(build_dir) + os.sep
    source_dir = os.path.realpath(source_dir) + os.sep
    units = {}
    for entry in entries:
        path = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
        if not path.startswith(source_dir) or path.startswith(build_dir):
            continue  # generated (protos, embedded migrations) or outside the tree
        if prefixes and not any(path[len(source_dir):].startswith(p) for p in prefixes):
            continue
        args = entry.get("arguments") or shlex.split(entry["command"])
        units.setdefault(path, (entry["directory"], args))  # one parse per file
    return units


def syntax_only(args):
    """The compile command without its output, as a syntax-only thread-safety check."""
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == "-o":
            skip = True
        elif arg != "-c":
            out.append(arg)
    return out + CHECK_FLAGS


def check(path, directory, args):
    proc = subprocess.run(syntax_only(args), cwd=directory, capture_output=True, text=True)
    return path, proc.returncode, proc.stderr


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    build_dir, source_dir, jobs, prefixes = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    units = translation_units(build_dir, source_dir, prefixes)
    if not units:
        print("thread-safety-check: no translation units in compile_commands.json",
              file=sys.stderr)
        return 2
    started = time.monotonic()
    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(check, path, d, a) for path, (d, a) in sorted(units.items())]
        for future in concurrent.futures.as_completed(futures):
            path, code, stderr = future.result()
            if code != 0:
                failed.append(path)
                sys.stderr.write(stderr)
    seconds = time.monotonic() - started
    rel = lambda p: os.path.relpath(p, source_dir)
    if failed:
        print(f"thread-safety-check: FAILED in {len(failed)} of {len(units)} files "
              f"({seconds:.0f} s): " + " ".join(sorted(map(rel, failed))), file=sys.stderr)
        return 1
    print(f"thread-safety-check: {len(units)} C++ files clean under clang -Wthread-safety "
          f"({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
