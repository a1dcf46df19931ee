# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""deploy/Dockerfile's runtime stage against what the binaries load: every
shared library `ldd` resolves for card-server, cardctl and card-stress is
mapped to its Debian package (`dpkg -S`), and that package must be installed
by the runtime stage's `apt-get install`, be a dependency of one installed
there (Pre-Depends and Depends, followed recursively), or be in the base
image (Essential or Priority: required: what minbase and debian:*-slim hold).

Read on this machine because the build stage is the same Debian release with
the same -dev packages (scripts/install-deps.sh), so the packages the binaries
need here are the ones they need in the image. Dependencies come from dpkg's
own database rather than apt-cache: it needs no apt lists, and it holds every
package the binaries use, since ldd found them installed. A listed package
that is not installed here is followed through `apt-cache depends --recurse`.
"""
import os
import re
import shutil
import subprocess

from deploy_checks.commands import words

SEPARATORS = {"&&", "||", ";", "|"}


def apt_installed(run_texts):
    """Package names that the RUN lines' `apt-get install` commands install."""
    packages = []
    for text in run_texts:
        tokens, i = words(text), 0
        while i < len(tokens):
            if tokens[i] in ("apt-get", "apt") and "install" in tokens[i + 1:i + 6]:
                i = tokens.index("install", i) + 1
                while i < len(tokens) and tokens[i] not in SEPARATORS:
                    if not tokens[i].startswith("-"):
                        packages.append(re.split(r"[=:]", tokens[i])[0])
                    i += 1
            i += 1
    return packages


def _run(argv):
    return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=120, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                            "LC_ALL": "C"})


def libraries(binary):
    """(soname, path) that ldd resolves, and the sonames it cannot find."""
    found, missing = [], []
    for line in _run(["ldd", binary]).stdout.splitlines():
        match = re.match(r"\s*(\S+) => (.*?) \(0x", line)
        if match:
            found.append((match.group(1), match.group(2)))
        elif "=> not found" in line:
            missing.append(line.split()[0])
    return found, missing


def _spellings(path):
    """The names dpkg may know a library by: since the /usr merge, ldd says
    /lib/x86_64-linux-gnu/... while most packages ship /usr/lib/..., and a
    few the other way round; the resolved symlink target is tried too."""
    out = []
    for p in (path, os.path.realpath(path)):
        alias = p[4:] if p.startswith("/usr/") else "/usr" + p
        out += [p, alias]
    return list(dict.fromkeys(out))


def owners(paths):
    """path -> Debian package, by dpkg -S over every spelling of each path."""
    spelled = {path: _spellings(path) for path in paths}
    owner_of = {}
    every = sorted({s for names in spelled.values() for s in names})
    for line in _run(["dpkg-query", "-S", *every]).stdout.splitlines():
        pkgs, sep, file = line.partition(": ")
        if sep and "diversion" not in pkgs:
            owner_of[file] = pkgs.split(",")[0].strip().split(":")[0]
    return {path: next((owner_of[s] for s in names if s in owner_of), None)
            for path, names in spelled.items()}


def installed_packages():
    """name -> (in the base image, dependency names, provided names)."""
    fields = "${Package}\t${Status}\t${Essential}\t${Priority}\t${Provides}\t" \
             "${Pre-Depends}, ${Depends}\n"
    db = {}
    for line in _run(["dpkg-query", "-W", "-f", fields]).stdout.splitlines():
        name, status, essential, priority, provides, depends = line.split("\t")
        if status.endswith(" installed"):
            db[name] = (essential == "yes" or priority == "required",
                        _names(depends), _names(provides))
    return db


def _names(relation):
    """Every package name in a Depends-style field; each alternative of an
    `a | b` counts, since which one the image gets is apt's choice."""
    out = []
    for alternative in re.split(r"[,|]", relation):
        name = alternative.strip().split(" ")[0].split("(")[0].split(":")[0]
        if name:
            out.append(name)
    return out


def closure(listed, db, findings):
    """Every package that installing `listed` brings in."""
    providers = {}
    for name, (_, _, provides) in db.items():
        for virtual in provides:
            providers.setdefault(virtual, []).append(name)
    seen, todo = set(), list(listed)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in db:
            todo += db[name][1]
        elif name in providers:
            todo += providers[name]
        elif name in listed:
            todo += _apt_cache_closure(name, findings)
    return seen


def _apt_cache_closure(name, findings):
    result = _run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                   "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", name])
    if result.returncode != 0:
        findings.note(f"Dockerfile: {name} is neither installed here nor known to apt-cache "
                      "(apt-get update?): its dependencies were not followed")
        return []
    return [line.strip().strip("<>") for line in result.stdout.splitlines()
            if line and not line[0].isspace()]


def check_runtime_libraries(ctx, path, final):
    """final: the runtime stage's (instruction, text, where) items."""
    if not shutil.which("ldd") or not shutil.which("dpkg-query"):
        ctx.note("Dockerfile runtime libraries not checked: no ldd or dpkg-query here")
        return
    runs = [(rest, where) for word, rest, where in final if word == "RUN"]
    listed = apt_installed([rest for rest, _ in runs])
    where = next((w for rest, w in runs if "install" in rest), path)
    if not listed:
        ctx.problem(path, "the runtime stage installs no packages with apt-get install; "
                          "the binaries' shared libraries would be missing")
        return
    needs = {}  # package -> [(program, soname), ...]
    for program in ("card-server", "cardctl", "card-stress"):
        binary = ctx.programs.binaries.get(program)
        if not binary:
            ctx.note(f"Dockerfile runtime libraries of {program} not checked: no binary")
            continue
        found, missing = libraries(binary)
        for soname in missing:
            ctx.problem(binary, f"ldd cannot find {soname} for {program} on this machine")
        owner = owners([lib for _, lib in found])
        for soname, lib in found:
            pkg = owner[lib]
            if pkg is None:
                ctx.note(f"{program}: {soname} ({lib}) belongs to no Debian package; "
                         "not checked against the Dockerfile")
            else:
                needs.setdefault(pkg, []).append((program, soname))
    db = installed_packages()
    present = closure(listed, db, ctx.findings)
    for pkg, users in sorted(needs.items()):
        if pkg in present or db.get(pkg, (False,))[0]:
            continue
        who = ", ".join(f"{program} needs {soname}" for program, soname in users)
        ctx.problem(where, f"the runtime stage lacks Debian package {pkg} ({who}): "
                           f"add {pkg} to its apt-get install")
