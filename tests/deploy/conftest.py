# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""pytest options for tests/deploy: the binaries whose flags the checks read."""


def pytest_addoption(parser):
    parser.addoption("--server", required=True, help="the card-server binary")
    parser.addoption("--stress", default="", help="the card-stress binary")
    parser.addoption("--cardctl", default="", help="the cardctl binary")
