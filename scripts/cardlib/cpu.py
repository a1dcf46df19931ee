# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""CPU seconds per process group over one measured run, read from /proc: the
server (one pid), PostgreSQL (the whole cluster) and the load client (this
process's children that exited during the run).

PostgreSQL's backends come and go (pgbench's 64 exit when it does), so a
sampler would miss the end of their lives. The kernel keeps the account
instead: a reaped child's CPU is added to its parent's cutime/cstime, and the
postmaster reaps every backend. So the cluster's CPU is the postmaster's own
and its reaped children's, plus each live child's. The client's is the same
idea from our side: RUSAGE_CHILDREN grows by each child we reap (the servers
the bench started stay unreaped until the end, so they never count there).
"""
import os
import resource
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid):
    """/proc/PID/stat fields after the command name (field 3 is index 0)."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    return text[text.rindex(")") + 2:].split()


def process_cpu_s(pid, with_reaped_children=False):
    """utime+stime of PID (and cutime+cstime with with_reaped_children)."""
    fields = _stat_fields(pid)
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(child) for child in f.read().split()]
    except OSError:
        return []


def cluster_cpu_s(postmaster_pid):
    """The cluster's CPU seconds so far (see the module comment)."""
    total = process_cpu_s(postmaster_pid, with_reaped_children=True)
    for child in _children(postmaster_pid):
        try:
            total += process_cpu_s(child)
        except (OSError, IndexError, ValueError):
            pass  # exited between the listing and the read: counted once reaped
    return total


def postmaster_pid(data_dir):
    with open(os.path.join(data_dir, "postmaster.pid")) as f:
        return int(f.readline())


def _reaped_children_cpu_s():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Meter:
    """Samples the CPU seconds of the server and of PostgreSQL every 50 ms
    from start() to stop(), so a run's account can end where its load ended
    (card-stress verifies after the load, through the same server).
    server_pid may be None (a pgbench run)."""

    INTERVAL_S = 0.05

    def __init__(self, postmaster, server_pid=None):
        self.postmaster = postmaster
        self.server_pid = server_pid
        self.samples = []  # (monotonic seconds, server CPU s, PostgreSQL CPU s)
        self._stopping = threading.Event()

    def _sample(self):
        server = process_cpu_s(self.server_pid) if self.server_pid else 0.0
        self.samples.append((time.monotonic(), server, cluster_cpu_s(self.postmaster)))

    def _loop(self):
        while not self._stopping.wait(self.INTERVAL_S):
            self._sample()

    def start(self):
        self._sample()
        self.client_first = _reaped_children_cpu_s()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        # Backends that just lost their client exit and are reaped within a
        # few milliseconds; wait for that so their last CPU is in the account.
        time.sleep(0.3)
        self._stopping.set()
        self._thread.join()
        self._sample()
        self.client_s = _reaped_children_cpu_s() - self.client_first
        return self

    def used_within(self, seconds=None):
        """(server, PostgreSQL) CPU seconds over the first `seconds` after
        start() (interpolated between samples), or over the whole run."""
        first = self.samples[0]
        if seconds is None:
            last = self.samples[-1]
        else:
            end = first[0] + seconds
            before = max((s for s in self.samples if s[0] <= end), key=lambda s: s[0])
            after = min((s for s in self.samples if s[0] >= end), key=lambda s: s[0],
                        default=before)
            span = after[0] - before[0]
            weight = (end - before[0]) / span if span > 0 else 0.0
            last = tuple(b + weight * (a - b) for b, a in zip(before, after))
        return last[1] - first[1], last[2] - first[2]


def per_item_us(cpu_s, items):
    """Microseconds of CPU per item (0 without items)."""
    return 1e6 * cpu_s / items if items > 0 else 0.0
