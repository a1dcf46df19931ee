# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""What the checks found: problems (each message once, with every place it
was found: a YAML anchor repeats one) and notes (said, never failing)."""


class Findings:
    def __init__(self):
        self.problems = {}  # message -> [where, ...]
        self.notes = []

    def problem(self, where, message):
        wheres = self.problems.setdefault(message, [])
        if where not in wheres:
            wheres.append(where)

    def note(self, message):
        self.notes.append(message)

    def guarded(self, where, check, *args):
        """Runs check(*args): a malformed file is a problem to report, not a traceback."""
        try:
            check(*args)
        except (KeyError, TypeError, AttributeError, IndexError, ValueError) as e:
            self.problem(where, f"unexpected structure ({type(e).__name__}: {e}); "
                                "fix the file or this check")
