# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""Who gets which --flag, in every kind of file under deploy/: shell-ish words
of any line, commands and flagfiles inside YAML, and the small parsers the
checks share (flag values, durations, strict YAML)."""
import re

import yaml

from deploy_checks.programs import PROGRAMS, flag_name

SEPARATORS = {"&&", "||", ";", "|", "&"}


def program_of(token):
    """card-server, /usr/local/bin/card-server, "$build/server/card-server",
    ExecStart=/usr/local/bin/card-server -> the program; deployment/card-server -> None."""
    if re.match(r"^[A-Za-z]+=", token):
        token = token.split("=", 1)[1]
    base = token.rsplit("/", 1)[-1]
    if base in PROGRAMS and (token == base or token.startswith(("/", "./", "../", "$", "build"))):
        return base
    return None


def words(text):
    """Shell-ish words of one line of any file; quotes and JSON punctuation dropped."""
    text = re.sub(r"(&&|\|\||;|\|)", r" \1 ", text)
    text = re.sub(r'"\s*,\s*"', " ", text)           # ["a", "b"]
    text = re.sub(r"[\"'`]", "", re.sub(r"[][]", " ", text))
    return [t.rstrip(",") for t in text.split()]


def logical_lines(lines):
    """(line number, text) with backslash continuations joined."""
    out, buf, start = [], "", None
    for number, line in enumerate(lines, 1):
        start = start or number
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        out.append((start, buf + line))
        buf, start = "", None
    if buf:
        out.append((start, buf))
    return out


def flag_value(flags, name, default=None):
    for token in reversed(flags):
        if flag_name(token) == name:
            return token.split("=", 1)[1] if "=" in token else "true"
    return default


def flags_of(argv):
    return [t for t in argv if t.startswith("--")]


def argv_of(value):
    if value is None:
        return []
    if isinstance(value, str):
        return words(value)
    out = []
    for item in value:
        item = str(item)
        # ["sh", "-c", "card-server --x"]: look inside the script too.
        out += words(item) if " " in item and not item.startswith("--") else [item]
    return out


def seconds(text):
    """absl or systemd duration ("20s", "1m30s", "30", "2min") in seconds, or None."""
    text = str(text).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    units = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(ms|min|sec|hr|h|m|s)", text)
    if not parts or not re.fullmatch(r"(\s*\d+(\.\d+)?\s*(ms|min|sec|hr|h|m|s))+\s*", text):
        return None
    return sum(float(n) * units[u] for n, u in parts)


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, as Kubernetes does."""


def _construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def comment_lines(lines):
    """Whole-line comments only; everything else YAML is walked as data."""
    return [l.split("#", 1)[1] if l.lstrip().startswith("#") else "" for l in lines]


class Commands:
    """invocations: [where, program, [flag tokens]] for every command that names
    one of the programs; loose: (where, token) for a --flag following none."""

    def __init__(self, findings):
        self.findings = findings
        self.invocations = []
        self.loose = []

    def attribute(self, tokens, where, structured):
        """Gives each --flag to the program named before it in the same command.
        structured: the tokens are one command's argv (YAML, exec form), where a
        flag with no program before it is a mistake, not prose."""
        current = None
        for token in tokens:
            if token in SEPARATORS:
                current = None
            elif token.startswith("--") and len(token) > 2:
                if current is not None:
                    current[2].append(token)
                elif structured:
                    self.findings.problem(
                        where, f"{token}: no card-server/cardctl/card-stress named before it "
                               "in this command; name the program so the flag can be checked")
                else:
                    self.loose.append((where, token))
            elif program_of(token):
                current = [where, program_of(token), []]
                self.invocations.append(current)

    def sweep_text(self, path, lines):
        for number, text in logical_lines(lines):
            self.attribute(words(text), f"{path}:{number}", structured=False)

    def walk(self, node, where):
        """Every command in a YAML document: compose entrypoint+command and
        healthcheck test, Kubernetes command+args, flagfiles in ConfigMap data."""
        if isinstance(node, dict):
            if any(k in node for k in ("entrypoint", "command", "args")):
                tokens = (argv_of(node.get("entrypoint")) + argv_of(node.get("command"))
                          + argv_of(node.get("args")))
                self.attribute(tokens, f"{where}.command", structured=True)
            if isinstance(node.get("test"), (list, str)):
                self.attribute(argv_of(node["test"]), f"{where}.test", structured=True)
            for key, value in node.items():
                if key in ("entrypoint", "command", "args", "test"):
                    continue
                program = str(key)[:-len(".flags")] if str(key).endswith(".flags") else None
                if program in PROGRAMS and isinstance(value, str):
                    self._flagfile(f"{where}.{key}", program, value)
                else:
                    self.walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                self.walk(value, f"{where}[{i}]")
        elif isinstance(node, str):
            for line in node.splitlines():
                self.attribute(words(line), where, structured=False)

    def _flagfile(self, where, program, text):
        flags = [l.strip() for l in text.splitlines()
                 if l.strip() and not l.strip().startswith("#")]
        for line in flags:
            if not line.startswith("--"):
                self.findings.problem(where, f"flagfile line {line!r} is not --flag=value")
        self.invocations.append([where, program, [l for l in flags if l.startswith("--")]])
