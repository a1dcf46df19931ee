# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""The fixture the Python test suites share (tests/reflection, tests/tls,
tests/stress/stress_outputs_test.py): their command line, a throwaway
PostgreSQL with card-server replicas on it, and message classes generated at
test time. Built on scripts/cardlib, which the benchmarks use too.

A suite puts this folder on sys.path, then:

    import card_fixture
    ARGS = card_fixture.parse_args("server", "source")   # in __main__
    cluster = card_fixture.Cluster("reflection", pg_port=5495)
    server = cluster.start_server(ARGS.server, "--db_pool_size=2")
    ...
    cluster.close()   # SIGTERMs the servers, returns their exit codes
"""
import argparse
import atexit
import os
import sys
import unittest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO_ROOT, "scripts"))

from cardlib import protos  # noqa: E402
from cardlib import workspace  # noqa: E402

GRPC_PROTO = protos.GRPC_PROTO
generate = protos.generate
free_port = workspace.free_port

# How long a card-server may take to say "listening" on this shared machine.
SERVER_START_TIMEOUT_S = 30


def parse_args(*names):
    """--NAME=VALUE for each of names (all required); the rest is unittest's."""
    parser = argparse.ArgumentParser()
    for name in names:
        parser.add_argument(f"--{name}", required=True)
    args, rest = parser.parse_known_args()
    return args, rest


def run_suite(rest, verbosity=2):
    """unittest.main on the caller's __main__ with the arguments parse_args left."""
    unittest.main(module="__main__", argv=[sys.argv[0]] + rest, verbosity=verbosity)


class Cluster:
    """One throwaway PostgreSQL (on pg_port's socket) and the card-server
    replicas a suite starts on it, in /tmp/card-NAME.XXXXXX."""

    def __init__(self, name, pg_port):
        self.workspace = workspace.Workspace(name)
        self.work = self.workspace.dir
        self.servers = []
        self.closed = False
        # A setUpClass that fails after this point never reaches tearDownClass:
        # the cluster is stopped at exit all the same.
        atexit.register(self.close)
        self.url = self.workspace.start_postgres(pg_port)

    @property
    def targets(self):
        return [server.target for server in self.servers]

    def start_server(self, program, *flags):
        """card-server --listen=127.0.0.1:<free port> --database_url=<the cluster> FLAGS,
        once it logs "listening"; its log is WORK/serverN.log."""
        server = self.workspace.start_server(f"server{len(self.servers)}", program,
                                             f"--database_url={self.url}", *flags,
                                             timeout=SERVER_START_TIMEOUT_S)
        self.servers.append(server)
        return server

    def close(self):
        """SIGTERMs every server (card-server drains), stops the cluster, deletes
        the work directory; returns the servers' exit codes in start order.
        Once: later calls return []."""
        if self.closed:
            return []
        self.closed = True
        try:
            for server in self.servers:
                if server.process.poll() is None:
                    server.process.terminate()
            return [server.process.wait(timeout=30) for server in self.servers]
        finally:
            self.workspace.close()
