# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""What every check reads and adds to: the findings, the programs' flags and
the commands found so far."""
import dataclasses

from deploy_checks.commands import Commands
from deploy_checks.findings import Findings
from deploy_checks.programs import Programs


@dataclasses.dataclass
class Context:
    findings: Findings
    programs: Programs
    commands: Commands

    def problem(self, where, message):
        self.findings.problem(where, message)

    def note(self, message):
        self.findings.note(message)
