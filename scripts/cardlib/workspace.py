# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""A throwaway PostgreSQL and card-server processes in one work directory.

The Python side of scripts/lib/throwaway-server.sh, with the same promises:
one directory /tmp/card-NAME.XXXXXX per run, the cluster in WORK/pg
(scripts/throwaway-pg.sh), every process it started SIGTERMed and reaped
(card-server drains), the cluster stopped and the directory deleted when the
`with` block ends, however it ends (an exception, Ctrl-C, SIGTERM).

    with Workspace("compare") as work:
        url = work.start_postgres(5499)
        server = work.start_server("server", binary, f"--database_url={url}")
        ... server.target, server.log_path ...
"""
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SCRIPTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(SCRIPTS_DIR)
THROWAWAY_PG = os.path.join(SCRIPTS_DIR, "throwaway-pg.sh")
MAKE_DEV_CERTS = os.path.join(SCRIPTS_DIR, "make-dev-certs.sh")
SHIPPED_POLICY = os.path.join(REPO_ROOT, "deploy", "authz", "policy.json")
SHIPPED_PROXY_CONFIG = os.path.join(REPO_ROOT, "deploy", "proxy", "haproxy.cfg")
PROXY_IDENTITY = "spiffe://cards.example/ns/cards/sa/card-proxy"


class StartError(RuntimeError):
    """A process the workspace started did not come up; the message has its log."""


def free_port():
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def exit_on_sigterm():
    """SIGTERM unwinds like Ctrl-C does, so `with Workspace` blocks clean up."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


@dataclasses.dataclass
class Server:
    """A card-server the workspace started on 127.0.0.1:port."""
    name: str
    port: int
    process: subprocess.Popen
    log_path: str

    @property
    def target(self):
        return f"127.0.0.1:{self.port}"

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def listening(self):
        return "listening" in self.log()

    def stop(self, signum=signal.SIGTERM, timeout=30):
        """Sends signum, reaps the process and returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.process.wait(timeout=timeout)


@dataclasses.dataclass
class DevMtls:
    """Flags for the deployed set-up with scripts/make-dev-certs.sh's certificates:
    card-server serving mutual TLS with the shipped policy, and clients calling
    without a certificate, as the API gateway (may call everything) and as the
    profile renderer (may only read). As card_dev_mtls in throwaway-server.sh."""
    certs: str

    @property
    def server(self):
        return [f"--tls_cert_file={self.certs}/server.crt",
                f"--tls_key_file={self.certs}/server.key",
                f"--tls_client_ca_file={self.certs}/ca.crt",
                f"--authz_policy_file={SHIPPED_POLICY}"]

    @property
    def server_behind_proxy(self):
        """server, believing the front proxy's forwarded client certificates."""
        return self.server + [f"--trusted_proxy_identities={PROXY_IDENTITY}"]

    @property
    def tls_client(self):
        return ["--tls", f"--tls_ca_file={self.certs}/ca.crt", "--tls_server_name=card-server"]

    @property
    def as_gateway(self):
        return self.tls_client + [f"--tls_cert_file={self.certs}/api-gateway.crt",
                                  f"--tls_key_file={self.certs}/api-gateway.key"]

    @property
    def as_renderer(self):
        return self.tls_client + [f"--tls_cert_file={self.certs}/profile-renderer.crt",
                                  f"--tls_key_file={self.certs}/profile-renderer.key"]


class Workspace:
    """Owns a work directory, at most one throwaway cluster and the processes
    started through it; close() (or leaving the `with`) releases all three."""

    def __init__(self, name):
        self.dir = tempfile.mkdtemp(prefix=f"card-{name}.", dir="/tmp")
        os.chmod(self.dir, 0o755)  # PostgreSQL runs as postgres and must reach its directory
        self.pg_dir = None
        self.processes = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def start_postgres(self, port, durable=False):
        """Starts the throwaway cluster in WORK/pg (socket port `port`); returns its URL.
        durable: fsync and full_page_writes on, as in production."""
        self.pg_dir = self.path("pg")
        env = dict(os.environ, PG_DURABLE="1" if durable else "0")
        return subprocess.run(["bash", THROWAWAY_PG, "start", self.pg_dir, str(port)], check=True,
                              stdout=subprocess.PIPE, text=True, env=env).stdout.strip()

    def make_dev_certs(self):
        """scripts/make-dev-certs.sh into WORK/certs; the flags that use them."""
        certs = self.path("certs")
        subprocess.run(["bash", MAKE_DEV_CERTS, certs], check=True)
        return DevMtls(certs)

    def track(self, process):
        """SIGTERMs and reaps `process` on close, like the servers."""
        self.processes.append(process)
        return process

    def spawn_server(self, name, program, *flags, port=None):
        """Runs PROGRAM --listen=127.0.0.1:<free port> FLAGS in the background,
        output to WORK/NAME.log, without waiting for it."""
        port = port or free_port()
        log_path = self.path(f"{name}.log")
        with open(log_path, "w") as log:
            process = subprocess.Popen([program, f"--listen=127.0.0.1:{port}", *flags],
                                       stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)
        self.track(process)
        return Server(name, port, process, log_path)

    def start_server(self, name, program, *flags, timeout=10):
        """spawn_server, then waits `timeout` seconds for "listening" in its log;
        raises StartError with the log when it does not come."""
        server = self.spawn_server(name, program, *flags)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.listening():
                return server
            if server.process.poll() is not None:
                break
            time.sleep(0.1)
        if server.listening():
            return server
        raise StartError(f"{name} ({program}) did not start listening:\n{server.log()}")

    def start_proxy(self, name, server, certs, maxconn=4000, timeout=10):
        """HAProxy with deploy/proxy/haproxy.cfg on 127.0.0.1:<free port> before
        `server` (started with certs.server_behind_proxy); its log is WORK/NAME.log.
        Returns a Server record for the proxy (target: where callers connect)."""
        port = free_port()
        env = dict(os.environ,
                   CARD_PROXY_LISTEN=f"127.0.0.1:{port}", CARD_PROXY_CERT=os.path.join(certs.certs, "server.crt"),
                   CARD_PROXY_CLIENT_CA=os.path.join(certs.certs, "ca.crt"),
                   CARD_SERVER_ADDRESS=server.target, CARD_SERVER_NAME="card-server",
                   CARD_PROXY_CLIENT_CERT=os.path.join(certs.certs, "card-proxy.crt"),
                   CARD_SERVER_CA=os.path.join(certs.certs, "ca.crt"),
                   CARD_PROXY_MAXCONN=str(maxconn))
        log_path = self.path(f"{name}.log")
        with open(log_path, "w") as log:
            process = subprocess.Popen(["haproxy", "-db", "-f", SHIPPED_PROXY_CONFIG],
                                       stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=env)
        self.track(process)
        proxy = Server(name, port, process, log_path)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return proxy
            except OSError:
                time.sleep(0.1)
        raise StartError(f"{name} (haproxy) did not start listening:\n{proxy.log()}")

    def close(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []
        pgbouncer_pid = self.path("pgbouncer", "pgbouncer.pid")
        if os.path.exists(pgbouncer_pid):
            with open(pgbouncer_pid) as f:
                subprocess.run(["kill", f.read().strip()], check=False,
                               stderr=subprocess.DEVNULL)
        if self.pg_dir:
            subprocess.run(["bash", THROWAWAY_PG, "stop", self.pg_dir], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.pg_dir = None
        shutil.rmtree(self.dir, ignore_errors=True)


def psql(url, *args, sql=None):
    """psql URL ARGS [-c SQL]; returns its standard output, raising on failure."""
    argv = ["psql", *args, url] + (["-c", sql] if sql is not None else [])
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, text=True).stdout
