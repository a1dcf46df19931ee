#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""HTTP/2 abuse against the deployed shape: callers reach card-server only
through the front proxy (deploy/proxy/haproxy.cfg, mutual TLS both ways).
One authenticated caller floods (scripts/cardlib/h2abuse.py: raw frames over
TLS) while honest callers are measured; every attack must leave

  - card-server's resident memory under 512 MiB,
  - the honest caller on its own connection answered, p99 under 100 ms,
  - a new connection served every 0.25 s throughout,

and the connections the proxy closes are counted (GOAWAY where it sends one).

--direct sends the same floods straight at card-server (gRPC 1.51, no
proxy): the negative control, which must fail (ctest ..._direct_must_fail).

Usage: http2_abuse_test.py --server=PATH/card-server --source=REPO [--direct]
"""
import json
import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import card_fixture  # noqa: E402

ARGS = None
ATTACK_SECONDS = 10
RSS_LIMIT_KB = 512 * 1024
P99_LIMIT_MS = 100.0
CREATE = "/devcard.card.v1.CardService/CreateCard"


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Http2AbuseTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = card_fixture.Cluster("abuse", pg_port=5491)
        cls.certs = cls.cluster.workspace.make_dev_certs()
        flags = cls.certs.server if ARGS.direct else cls.certs.server_behind_proxy
        cls.server = cls.cluster.start_server(ARGS.server, "--db_pool_size=2", *flags)
        if ARGS.direct:
            cls.target = cls.server.target
        else:
            cls.proxy = cls.cluster.workspace.start_proxy("proxy", cls.server, cls.certs)
            cls.target = cls.proxy.target
        ca = os.path.join(cls.certs.certs, "ca.crt")
        # The attacker holds a valid certificate: with mutual TLS nobody else
        # gets as far as HTTP/2. The prober is the monitoring identity.
        cls.attacker_tls = ["--tls_ca_file", ca,
                            "--tls_cert_file", os.path.join(cls.certs.certs, "api-gateway.crt"),
                            "--tls_key_file", os.path.join(cls.certs.certs, "api-gateway.key")]
        cls.prober_tls = ["--tls_ca_file", ca,
                          "--tls_cert_file", os.path.join(cls.certs.certs, "monitoring.crt"),
                          "--tls_key_file", os.path.join(cls.certs.certs, "monitoring.key")]
        cls.env = dict(os.environ, PYTHONPATH=os.path.join(ARGS.source, "scripts"))

    @classmethod
    def tearDownClass(cls):
        cls.cluster.close()

    def h2abuse(self, mode, *flags, tls):
        return subprocess.Popen(
            ["/usr/bin/python3", "-m", "cardlib.h2abuse", mode, "--target", self.target,
             *tls, *flags], stdout=subprocess.PIPE, text=True, env=self.env)

    def attack(self, mode, *flags):
        """Runs one attack for ATTACK_SECONDS with the prober around it; returns
        (attack figures, probe figures, peak server RSS in KiB)."""
        peak = [rss_kb(self.server.process.pid)]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kb(self.server.process.pid))
                time.sleep(0.1)
        sampler = threading.Thread(target=sample)
        sampler.start()
        probe = self.h2abuse("probe", "--seconds", str(ATTACK_SECONDS + 3), "--rate", "50",
                             tls=self.prober_tls)
        time.sleep(1)
        attack = self.h2abuse(mode, "--seconds", str(ATTACK_SECONDS), *flags,
                              tls=self.attacker_tls)
        try:
            attack_out, _ = attack.communicate(timeout=ATTACK_SECONDS + 120)
            probe_out, _ = probe.communicate(timeout=ATTACK_SECONDS + 120)
        finally:
            for process in (attack, probe):
                if process.poll() is None:
                    process.kill()
                    process.wait()
            stop.set()
            sampler.join()
        figures = json.loads(attack_out), json.loads(probe_out), peak[0]
        print(f"\n{mode} {' '.join(flags)}: attack {figures[0]}\n  probe {figures[1]}\n"
              f"  server peak RSS {figures[2] // 1024} MiB", flush=True)
        return figures

    def assert_contained(self, probe, peak_kb):
        self.assertIsNone(self.server.process.poll(), "card-server died")
        self.assertLess(peak_kb, RSS_LIMIT_KB, "card-server's memory was not bounded")
        kept, fresh = probe["kept_connection"], probe["new_connections"]
        self.assertEqual(kept["failures"], 0, f"honest calls failed: {kept}")
        self.assertLess(kept["p99_ms"], P99_LIMIT_MS, f"honest calls were slow: {kept}")
        self.assertEqual(fresh["failures"], 0, f"new connections were not served: {fresh}")
        self.assertGreater(fresh["calls_ok"], 4 * ATTACK_SECONDS)

    def test_1_rapid_reset_headers_and_data(self):
        _, probe, peak = self.attack("rapid-reset", "--rate", "25000", "--with_data",
                                     "--path", CREATE)
        self.assert_contained(probe, peak)

    def test_2_rapid_reset_headers_only(self):
        _, probe, peak = self.attack("rapid-reset", "--rate", "25000", "--path", CREATE)
        self.assert_contained(probe, peak)

    def test_3_rapid_reset_without_settings_ack(self):
        # Before the client ACKs SETTINGS, gRPC 1.51 enforces no stream limit.
        _, probe, peak = self.attack("rapid-reset", "--rate", "25000", "--with_data",
                                     "--no_settings_ack", "--path", CREATE)
        self.assert_contained(probe, peak)

    def test_4_continuation_flood_is_cut_off(self):
        result, probe, peak = self.attack("continuation", "--no_settings_ack")
        self.assert_contained(probe, peak)
        self.assertEqual(result["closed_by_server"], 4,
                         f"a never-ending header block was left open: {result}")

    def test_5_held_metadata_is_refused(self):
        # 300 streams of 1 MiB headers each, held open, without ACKing SETTINGS
        # (gRPC 1.51's limit is 16 MiB then): at most about 16 KiB is accepted.
        result, probe, peak = self.attack("held-metadata", "--no_settings_ack",
                                          "--streams", "300", "--value_bytes", str(1 << 20))
        self.assert_contained(probe, peak)
        self.assertTrue(result["closed_by_server"] or result["rst_received"] > 0,
                        f"1 MiB of metadata was accepted: {result}")

    def test_6_metadata_over_16_kib_is_refused_under_it_served(self):
        sys.path.insert(0, os.path.join(ARGS.source, "scripts"))
        from cardlib import h2abuse
        tls = h2abuse.tls_context(*self.prober_tls[1::2])
        small = h2abuse.GrpcProbe(self.target, 5.0, tls)
        self.assertEqual(small.check([("x-small", "v" * 12 * 1024)]), 0)
        small.close()
        for headers in ([("x-big", "v" * (1 << 20))],
                        [(f"x-h{i}", "v") for i in range(10000)],
                        [("x-big", "v" * 20 * 1024)]):
            big = h2abuse.GrpcProbe(self.target, 5.0, tls)
            try:
                status = big.check(headers)
            except (OSError, ConnectionError) as error:
                status = f"refused: {error}"
            finally:
                big.close()
            self.assertNotEqual(status, 0, f"{len(headers)} header(s) of "
                                f"{sum(len(v) for _, v in headers)} bytes were served")


if __name__ == "__main__":
    args, rest = card_fixture.parse_args("server", "source")
    direct = "--direct" in rest
    if direct:
        rest.remove("--direct")
    args.direct = direct
    ARGS = args
    card_fixture.run_suite(rest)
