# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""A throwaway Citus cluster on loopback: the Python side of
scripts/citus-cluster.sh (which has the settings and their reasons), for tests
that need a coordinator and workers they can crash and bring back.

    CitusCluster.ensure_built()          # scripts/citus-build.sh, cached
    with CitusCluster("/tmp/card-citus", base_port=9700) as cluster:
        url = cluster.coordinator_url    # postgresql://postgres@127.0.0.1:9700/cards
        cluster.crash("worker2")         # pg_ctl stop -m immediate, data kept
        cluster.restart("worker2")
        ... cluster.worker_urls() ...

Leaving the `with` stops every node and deletes the directory, however the
block ends. Nodes are "coordinator", "worker1", ... "workerN".
"""
import os
import subprocess

from cardlib import workspace

CLUSTER_SCRIPT = os.path.join(workspace.SCRIPTS_DIR, "citus-cluster.sh")
BUILD_SCRIPT = os.path.join(workspace.SCRIPTS_DIR, "citus-build.sh")


class CitusError(RuntimeError):
    """citus-cluster.sh failed; the message has what it said on stderr."""


class CitusCluster:
    """A coordinator on base_port and `workers` workers on the ports after it,
    in `dir` (see scripts/citus-cluster.sh for the layout)."""

    def __init__(self, dir, base_port=9700, workers=2, durable=False):
        self.dir = os.path.abspath(dir)
        self.base_port = base_port
        self.workers = workers
        self.durable = durable  # fsync and full_page_writes on, as in production
        self.coordinator_url = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    @staticmethod
    def ensure_built():
        """Builds and installs Citus unless the installed one is this
        repository's build (a second or so when it is; minutes when not).
        Its progress goes to our stderr."""
        subprocess.run(["bash", BUILD_SCRIPT], check=True, stdout=subprocess.DEVNULL)

    def _run(self, *args):
        env = dict(os.environ, PG_DURABLE="1" if self.durable else "0")
        result = subprocess.run(["bash", CLUSTER_SCRIPT, args[0], self.dir, *args[1:]],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
        if result.returncode != 0:
            raise CitusError(f"citus-cluster.sh {args[0]} {self.dir} {' '.join(args[1:])} failed "
                             f"(exit {result.returncode}):\n{result.stderr.strip()}")
        return result.stdout.strip()

    def start(self):
        """Creates the cluster (first time) and starts every node that is not
        running; returns the coordinator's URL."""
        self.coordinator_url = self._run("start", f"--base-port={self.base_port}",
                                         f"--workers={self.workers}")
        return self.coordinator_url

    def stop(self):
        """Stops every node and deletes the directory (nothing if it is gone)."""
        self._run("stop")
        self.coordinator_url = None

    def crash(self, node):
        """Stops `node` abruptly (pg_ctl stop -m immediate); its data stays."""
        self._run("crash", node)

    def restart(self, node):
        """Starts `node` again (PostgreSQL's crash recovery if it crashed)."""
        self._run("restart", node)

    def nodes(self):
        return ["coordinator"] + [f"worker{i}" for i in range(1, self.workers + 1)]

    def url(self, node="coordinator"):
        return self._run("url", node)

    def worker_urls(self):
        return [self.url(node) for node in self.nodes()[1:]]

    def status(self):
        """(all nodes up, the status report: each node up/down and pg_dist_node)."""
        result = subprocess.run(["bash", CLUSTER_SCRIPT, "status", self.dir],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if result.returncode not in (0, 3):
            raise CitusError(f"citus-cluster.sh status {self.dir} failed:\n{result.stderr.strip()}")
        return result.returncode == 0, result.stdout
