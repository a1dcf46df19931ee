# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""The three programs whose flags deploy/ uses, as their binaries describe
themselves (--helpfull), and the final pass: every distinct set of flags
given to a program anywhere is parsed by that program itself, with --helpfull
appended so that it exits instead of running."""
import os
import re
import subprocess

PROGRAMS = ("card-server", "card-stress", "cardctl")
# absl's own flags, absent from --helpfull's list.
ABSL_BUILTIN = {"help", "helpfull", "helpshort", "helppackage", "version", "only_check_args"}


def run(argv):
    # No DATABASE_URL or other settings from the caller reach the programs.
    return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=60, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})


def flag_name(token):
    return token[2:].split("=", 1)[0]


class Programs:
    """binaries: program -> absolute path; known: program -> its flag names;
    boolean: program -> its boolean flags; default_grace: card-server's
    --shutdown_grace default."""

    def __init__(self, findings, paths):
        self.binaries, self.known, self.boolean = {}, {}, {}
        self.default_grace = "20s"
        for program, path in zip(PROGRAMS, paths):
            if not path:
                findings.note(f"{program} flags not checked: no {program} binary given")
            elif not os.access(path, os.X_OK):
                findings.note(f"{program} flags not checked: no executable at {path}")
            else:
                self._describe(findings, program, path)

    def _describe(self, findings, program, path):
        text = run([path, "--helpfull"]).stdout
        flags = set(re.findall(r"^\s+--(\w+) \(", text, re.M))
        self.boolean[program] = set(re.findall(
            r"^\s+--(\w+) \((?:[^;]|;(?!\s+default:))*;\s+default: (?:true|false);", text, re.M))
        if not flags:
            findings.problem(path, f"--helpfull lists no flags; is this {program}?")
            return
        self.binaries[program], self.known[program] = os.path.abspath(path), flags
        if program == "card-server":
            grace = re.search(r"--shutdown_grace \(.*?\);\s+default: (\S+);", text, re.S)
            self.default_grace = grace.group(1) if grace else "20s"

    def is_flag(self, program, name):
        base = name[2:] if name.startswith("no") else None  # --nomigrate
        return name in self.known[program] or base in self.known[program] or name in ABSL_BUILTIN

    def check_invocations(self, findings, invocations):
        """Names first, then values; returns how many flags were checked."""
        flag_count, runs = 0, {}
        for where, program, flags in invocations:
            if program not in self.known:
                continue
            for token in flags:
                name, flag_count = flag_name(token), flag_count + 1
                if not self.is_flag(program, name):
                    findings.problem(where, f"{program} has no flag --{name} "
                                            f"(see {program} --helpfull)")
            runs.setdefault((program, self._testable(program, flags)), where)
        for (program, flags), where in runs.items():
            result = run([self.binaries[program], *flags, "--helpfull"])
            if result.stderr.strip():
                findings.problem(where, f"{program} rejects {' '.join(flags)}: "
                                        f"{result.stderr.strip().splitlines()[0]}")
        return flag_count

    def _testable(self, program, flags):
        # Only --name=value (or a boolean alone): a bare --name would take the
        # next argument, --helpfull, as its value, and the program would run.
        # Values with placeholders ($VAR, %d, <id>) cannot be parsed here; a
        # --flagfile is checked through its contents instead.
        boolean = self.boolean[program]
        return tuple(t for t in flags if self.is_flag(program, flag_name(t))
                     and flag_name(t) not in ABSL_BUILTIN | {"flagfile"}
                     and ("=" in t or flag_name(t) in boolean or flag_name(t)[2:] in boolean)
                     and not re.search(r"[$%<>{}]", t))

    def check_loose(self, findings, loose):
        """A snake_case --flag in prose must be a flag of one of the programs."""
        all_flags = set().union(*self.known.values())
        for where, token in loose:
            name = flag_name(token)
            if not re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", name) or name in all_flags:
                continue
            if len(self.known) == len(PROGRAMS):
                findings.problem(where, f"--{name} is not a flag of card-server, card-stress "
                                        "or cardctl")
            else:
                findings.note(f"{where}: --{name} is not a flag of "
                              f"{', '.join(sorted(self.known))}; not checked further")
