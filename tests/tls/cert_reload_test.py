#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""Certificate reloads never block (issue 19, item 6), seen from outside: a
card-server serving mutual TLS from files in a directory the test controls,
with the default --reload_interval (2s), and a client that shares no code with
the project (Python's ssl module for the served leaf, python3-grpcio for
calls).

For each of the three files (--tls_cert_file, --tls_key_file,
--tls_client_ca_file) the file is replaced by a FIFO, as an operator's mistake
or an attacker with write access to the directory could, and nothing ever
opens it for writing. Checked:

  * the refusal is logged, once, naming the path ("not a regular file");
  * new connections are still served with the last good files;
  * a valid file renamed over the FIFO later takes effect within two reload
    intervals and a margin (a new leaf served, or a client CA accepted);
  * SIGTERM ends the process within a few seconds (nothing waits on a blocked
    open), and the server's private copies are gone afterwards.

Before the fix gRPC's FileWatcherCertificateProvider opened these paths itself
with a blocking open(): its refresh thread hung on the FIFO, the valid file
written later was never served, and shutdown waited on that thread forever.
The figures measured are printed whether or not the checks pass.

Usage: cert_reload_test.py --server=PATH/card-server --source=REPO_ROOT
"""
import os
import re
import socket
import ssl
import subprocess
import sys
import time
import unittest

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import card_fixture  # noqa: E402

ARGS = None
RELOAD_INTERVAL_S = 2  # --reload_interval's default: what operators get.
# Past one refresh of the operator's files (and of gRPC's copy of them).
PAST_A_REFRESH_S = 2 * RELOAD_INTERVAL_S + 1
# A valid file must be served within two reload intervals (ours, then gRPC's
# reading our copy) and a margin for a busy machine.
TAKES_EFFECT_WITHIN_S = 2 * RELOAD_INTERVAL_S + 3
# With nothing in flight, SIGTERM drains at once; this is the drain bound.
EXIT_WITHIN_S = 5
# How long the test waits for an exit before it SIGKILLs (the figure for a hang).
GIVE_UP_EXIT_S = 30
HEALTH_CHECK = "/grpc.health.v1.Health/Check"


def der_of(pem_path):
    """The DER encoding of the first certificate in pem_path (the leaf)."""
    with open(pem_path) as f:
        pem = f.read()
    first = pem[:pem.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")]
    return ssl.PEM_cert_to_DER_cert(first)


def replace_file(path, contents):
    """Writes a sibling, then renames it over path (whatever path is now: a FIFO
    included), as operators are told to. Never opens path itself."""
    with open(path + ".new", "wb") as f:
        f.write(contents)
    os.rename(path + ".new", path)


class CertReloadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = card_fixture.Cluster("cert-reload", pg_port=5492)
        cls.work = cls.cluster.work
        cls.certs = os.path.join(cls.work, "certs")
        os.mkdir(cls.certs)
        subprocess.run(["bash", "-c", "set -e; source \"$0\"; cd \"$1\"; "
                        "card_ca . ca; card_ca . other-ca; "
                        "for v in v1 v2 v3; do "
                        "  card_cert . ca server-$v \"card-server $v\" DNS:card-server,IP:127.0.0.1; "
                        "done; "
                        "card_cert . ca client client URI:spiffe://cards.test/sa/gateway; "
                        "card_cert . other-ca outsider outsider URI:spiffe://cards.test/sa/gateway",
                        os.path.join(ARGS.source, "scripts/lib/certs.sh"), cls.certs], check=True)
        cls.figures = []

    @classmethod
    def tearDownClass(cls):
        print("\nfigures:", file=sys.stderr)
        for line in cls.figures:
            print("  " + line, file=sys.stderr)
        cls.cluster.close()

    def read(self, name):
        with open(os.path.join(self.certs, name), "rb") as f:
            return f.read()

    def start(self, name):
        """A card-server on files in WORK/NAME (server-v1's certificate and key,
        ca.crt as client CA); returns (server, live dir)."""
        live = os.path.join(self.work, name)
        os.mkdir(live)
        for source, target in (("server-v1.crt", "server.crt"), ("server-v1.key", "server.key"),
                               ("ca.crt", "ca.crt")):
            replace_file(os.path.join(live, target), self.read(source))
        server = self.cluster.start_server(
            ARGS.server, "--db_pool_size=1", f"--reload_interval={RELOAD_INTERVAL_S}s",
            f"--tls_cert_file={live}/server.crt", f"--tls_key_file={live}/server.key",
            f"--tls_client_ca_file={live}/ca.crt")
        self.assertEqual(self.served_leaf(server), der_of(os.path.join(self.certs, "server-v1.crt")))
        return server, live

    def served_leaf(self, server, client="client"):
        """The leaf certificate a new TLS connection is served (DER), or None."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.load_verify_locations(os.path.join(self.certs, "ca.crt"))
        context.load_cert_chain(os.path.join(self.certs, client + ".crt"),
                                os.path.join(self.certs, client + ".key"))
        context.set_alpn_protocols(["h2"])
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=3) as raw:
                with context.wrap_socket(raw, server_hostname="card-server") as tls:
                    return tls.getpeercert(binary_form=True)
        except (OSError, ssl.SSLError):
            return None

    def health_ok(self, server, client):
        """Whether a new gRPC channel presenting CLIENT's certificate gets a
        health answer (an empty HealthCheckRequest, sent as raw bytes)."""
        credentials = grpc.ssl_channel_credentials(
            self.read("ca.crt"), self.read(client + ".key"), self.read(client + ".crt"))
        channel = grpc.secure_channel(server.target, credentials, options=[
            ("grpc.ssl_target_name_override", "card-server"),
            ("grpc.use_local_subchannel_pool", 1)])
        try:
            channel.unary_unary(HEALTH_CHECK)(b"", timeout=2)
            return True
        except grpc.RpcError:
            return False
        finally:
            channel.close()

    def wait_for(self, condition, within):
        """Seconds until condition() held, polling every 0.2 s; None if it never did."""
        start = time.monotonic()
        while time.monotonic() - start < within:
            if condition():
                return time.monotonic() - start
            time.sleep(0.2)
        return None

    def stop(self, server):
        """SIGTERMs server; seconds until it exited, or None if it had not after
        GIVE_UP_EXIT_S (then it is SIGKILLed)."""
        start = time.monotonic()
        server.process.terminate()
        try:
            server.process.wait(timeout=GIVE_UP_EXIT_S)
            return time.monotonic() - start
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
            return None

    def private_dir(self, server):
        """Where the server keeps the copies gRPC reads (from its log), or None."""
        found = re.search(r"private copies in (\S+)", server.log())
        return found.group(1) if found else None

    def fifo_then_valid_file(self, name, fifo_at, write_valid, took_effect):
        """Puts a FIFO at fifo_at, checks the old files are still served and the
        refusal logged, calls write_valid(live dir), waits for
        took_effect(server), SIGTERMs."""
        server, live = self.start(name)
        private = self.private_dir(server)
        v1 = der_of(os.path.join(self.certs, "server-v1.crt"))
        path = os.path.join(live, fifo_at)
        os.remove(path)
        os.mkfifo(path)
        time.sleep(PAST_A_REFRESH_S)
        still_v1 = self.served_leaf(server) == v1 and self.health_ok(server, "client")
        early = took_effect(server)
        refusals = server.log().count(f"{path}: not a regular file")
        refusal_line = next((line for line in server.log().splitlines()
                             if f"{path}: not a regular file" in line), None)
        write_valid(live)
        took = self.wait_for(lambda: took_effect(server), TAKES_EFFECT_WITHIN_S + 10)
        exited = self.stop(server)
        self.figures.append(
            f"FIFO at {fifo_at}: old files still served: {still_v1}; refusal logged "
            f"{refusals} time(s); valid file took effect after "
            + (f"{took:.1f} s" if took is not None else f"never ({TAKES_EFFECT_WITHIN_S + 10} s)")
            + "; SIGTERM exit after "
            + (f"{exited:.2f} s" if exited is not None else f">{GIVE_UP_EXIT_S} s (SIGKILLed)"))
        if refusal_line:
            self.figures.append("  logged: " + refusal_line.replace(self.work, "WORK"))
        reload_line = next((line for line in server.log().splitlines()
                            if "tls: reloaded" in line), None)
        if reload_line:
            self.figures.append("  logged: " + reload_line.replace(self.work, "WORK"))
        self.assertTrue(still_v1, "the last good files are no longer served")
        self.assertFalse(early, "in effect before the valid file was written")
        self.assertEqual(refusals, 1, server.log())
        self.assertIsNotNone(took, "the valid file never took effect")
        self.assertLess(took, TAKES_EFFECT_WITHIN_S)
        self.assertIsNotNone(exited, "SIGTERM did not end the process")
        self.assertLess(exited, EXIT_WITHIN_S)
        self.assertIsNotNone(private, server.log())
        self.assertFalse(os.path.exists(private), f"{private} left behind")

    def test_fifo_at_certificate_path(self):
        v2 = der_of(os.path.join(self.certs, "server-v2.crt"))

        def write_v2(live):
            # Key first: while the certificate path is still the FIFO, nothing
            # is taken; then the certificate, renamed over the FIFO.
            replace_file(os.path.join(live, "server.key"), self.read("server-v2.key"))
            replace_file(os.path.join(live, "server.crt"), self.read("server-v2.crt"))

        self.fifo_then_valid_file("cert", "server.crt", write_v2,
                                  lambda server: self.served_leaf(server) == v2)

    def test_fifo_at_key_path(self):
        v3 = der_of(os.path.join(self.certs, "server-v3.crt"))

        def write_v3(live):
            replace_file(os.path.join(live, "server.crt"), self.read("server-v3.crt"))
            replace_file(os.path.join(live, "server.key"), self.read("server-v3.key"))

        self.fifo_then_valid_file("key", "server.key", write_v3,
                                  lambda server: self.served_leaf(server) == v3)

    def test_fifo_at_client_ca_path(self):
        # The new bundle adds other-ca: its "outsider" client, refused while
        # ca.crt alone is in force, is accepted once the bundle is.
        def write_bundle(live):
            replace_file(os.path.join(live, "ca.crt"),
                         self.read("ca.crt") + self.read("other-ca.crt"))

        self.fifo_then_valid_file("ca", "ca.crt", write_bundle,
                                  lambda server: self.health_ok(server, "outsider"))


def main():
    global ARGS
    ARGS, rest = card_fixture.parse_args("server", "source")
    card_fixture.run_suite(rest, verbosity=2)


if __name__ == "__main__":
    main()
