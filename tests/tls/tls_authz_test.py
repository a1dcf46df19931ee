#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""Mutual TLS and the authorization policy as a client that shares no code
with the project sees them: Debian's python3-grpcio (its own TLS stack and
HTTP/2), message classes generated at test time from the .proto contract, and
certificates made with the openssl command (scripts/lib/certs.sh). The server
is the card-server binary with the flags operators use:

    --tls_cert_file --tls_key_file --tls_client_ca_file --authz_policy_file

Checked: no certificate, another CA's certificate and an expired one fail the
handshake; an identity the policy does not name gets PERMISSION_DENIED and
writes nothing (by SQL); an allowed one is served; a rewritten policy applies
within 5 s with no restart. And the binary refuses to start on plaintext
beyond loopback and on an invalid policy, saying why.

Usage: tls_authz_test.py --server=PATH/card-server --source=REPO_ROOT
"""
import json
import os
import subprocess
import sys
import time
import unittest

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import card_fixture  # noqa: E402

ARGS = None
DOMAIN = "spiffe://cards.test/sa/"
CARDS = "/devcard.card.v1.CardService/"


def policy(deny_gateway=False):
    deny = [{"name": "gateway-suspended", "source": {"principals": [DOMAIN + "gateway"]}}]
    return json.dumps({
        "name": "python-test",
        "deny_rules": deny if deny_gateway else [],
        "allow_rules": [
            {"name": "gateway", "source": {"principals": [DOMAIN + "gateway"]},
             "request": {"paths": [CARDS + "*"]}},
            {"name": "health", "source": {"principals": ["*"]},
             "request": {"paths": ["/grpc.health.v1.Health/*"]}},
        ]})


class TlsAuthzTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = card_fixture.Cluster("tls-py", pg_port=5494)
        cls.work = cls.cluster.work
        cls.url = cls.cluster.url
        cls.certs = os.path.join(cls.work, "certs")
        os.mkdir(cls.certs)
        subprocess.run(["bash", "-c", "set -e; source \"$0\"; cd \"$1\"; "
                        "card_ca . ca; card_ca . other-ca; "
                        "card_cert . ca server card-server DNS:card-server,IP:127.0.0.1; "
                        f"card_cert . ca gateway gateway URI:{DOMAIN}gateway; "
                        f"card_cert . ca stranger stranger URI:{DOMAIN}stranger; "
                        f"card_cert . other-ca impostor gateway URI:{DOMAIN}gateway; "
                        f"card_cert . ca expired gateway URI:{DOMAIN}gateway expired",
                        os.path.join(ARGS.source, "scripts/lib/certs.sh"), cls.certs], check=True)
        gen = os.path.join(cls.work, "gen")
        os.mkdir(gen)
        cls.cards_pb2 = card_fixture.generate(gen, os.path.join(ARGS.source, "proto"),
                                              "devcard/card/v1/card_service.proto")
        cls.health_pb2 = card_fixture.generate(gen, card_fixture.GRPC_PROTO,
                                               "grpc/health/v1/health.proto")

        cls.policy_path = os.path.join(cls.work, "policy.json")
        cls.write_policy(policy())
        server = cls.cluster.start_server(
            ARGS.server, "--db_pool_size=2", f"--tls_cert_file={cls.certs}/server.crt",
            f"--tls_key_file={cls.certs}/server.key",
            f"--tls_client_ca_file={cls.certs}/ca.crt",
            f"--authz_policy_file={cls.policy_path}")
        cls.process = server.process
        cls.target = server.target
        grpc.channel_ready_future(cls.channel("gateway")).result(timeout=30)

    @classmethod
    def tearDownClass(cls):
        cls.cluster.close()

    @classmethod
    def write_policy(cls, text):
        with open(cls.policy_path + ".new", "w") as f:
            f.write(text)
        os.rename(cls.policy_path + ".new", cls.policy_path)

    @classmethod
    def read(cls, name):
        with open(os.path.join(cls.certs, name), "rb") as f:
            return f.read()

    @classmethod
    def channel(cls, identity):
        """A new TLS channel trusting our CA, presenting certs/IDENTITY.crt (None: no certificate)."""
        key = cls.read(identity + ".key") if identity else None
        chain = cls.read(identity + ".crt") if identity else None
        credentials = grpc.ssl_channel_credentials(cls.read("ca.crt"), key, chain)
        return grpc.secure_channel(cls.target, credentials, options=[
            ("grpc.ssl_target_name_override", "card-server"),
            ("grpc.use_local_subchannel_pool", 1)])

    def create_card(self, channel, user_id, title):
        call = channel.unary_unary(
            CARDS + "CreateCard",
            request_serializer=self.cards_pb2.CreateCardRequest.SerializeToString,
            response_deserializer=self.cards_pb2.Card.FromString)
        request = self.cards_pb2.CreateCardRequest(user_id=user_id, request_id=title)
        request.card.title = title
        return call(request, timeout=5)

    def list_cards(self, channel, user_id):
        call = channel.unary_unary(
            CARDS + "ListCards",
            request_serializer=self.cards_pb2.ListCardsRequest.SerializeToString,
            response_deserializer=self.cards_pb2.ListCardsResponse.FromString)
        return call(self.cards_pb2.ListCardsRequest(user_id=user_id), timeout=5)

    def rows(self, user_id):
        out = subprocess.run(["psql", "-XAtq", self.url, "-c",
                              f"SELECT count(*) FROM cards WHERE user_id = '{user_id}'"],
                             check=True, capture_output=True, text=True).stdout
        return int(out.strip())

    def code_of(self, call):
        try:
            call()
        except grpc.RpcError as error:
            return error.code()
        return grpc.StatusCode.OK

    def assert_handshake_refused(self, identity):
        channel = self.channel(identity)
        with self.assertRaises(grpc.FutureTimeoutError):
            grpc.channel_ready_future(channel).result(timeout=2)
        code = self.code_of(lambda: self.create_card(channel, "victim", "planted"))
        self.assertEqual(code, grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(self.rows("victim"), 0)
        channel.close()

    def test_1_no_certificate_fails_the_handshake(self):
        self.assert_handshake_refused(None)

    def test_2_certificate_from_another_ca_fails_the_handshake(self):
        self.assert_handshake_refused("impostor")

    def test_3_expired_certificate_fails_the_handshake(self):
        self.assert_handshake_refused("expired")

    def test_4_identity_not_in_policy_is_denied_and_writes_nothing(self):
        channel = self.channel("stranger")
        code = self.code_of(lambda: self.create_card(channel, "mallory-target", "planted"))
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(self.rows("mallory-target"), 0)
        # Authenticated, so health answers (the policy allows it to "*").
        check = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=self.health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=self.health_pb2.HealthCheckResponse.FromString)
        self.assertEqual(check(self.health_pb2.HealthCheckRequest(), timeout=5).status,
                         self.health_pb2.HealthCheckResponse.SERVING)
        channel.close()

    def test_5_allowed_identity_is_served(self):
        channel = self.channel("gateway")
        card = self.create_card(channel, "alice", "Alice")
        self.assertEqual(card.title, "Alice")
        self.assertEqual(self.rows("alice"), 1)
        channel.close()

    def test_6_rewritten_policy_applies_within_five_seconds(self):
        channel = self.channel("gateway")
        self.assertEqual(len(self.list_cards(channel, "alice").cards), 1)
        pid = self.process.pid
        changed = time.monotonic()
        self.write_policy(policy(deny_gateway=True))
        took = None
        while time.monotonic() - changed < 10:
            if self.code_of(lambda: self.list_cards(channel, "alice")) == \
                    grpc.StatusCode.PERMISSION_DENIED:
                took = time.monotonic() - changed
                break
            time.sleep(0.05)
        self.write_policy(policy())
        print(f"\npolicy change applied after {took:.2f} s" if took else "\nnot applied",
              file=sys.stderr)
        self.assertIsNotNone(took)
        self.assertLess(took, 5)
        self.assertEqual(self.process.pid, pid)
        self.assertIsNone(self.process.poll())  # The same process, still running.
        channel.close()

    def run_server(self, *flags):
        return subprocess.run([ARGS.server, "--database_url=postgresql://nobody@127.0.0.1:1/none",
                               *flags], capture_output=True, text=True, timeout=30)

    def test_7_plaintext_beyond_loopback_is_refused_at_startup(self):
        result = self.run_server("--listen=0.0.0.0:0")
        self.assertEqual(result.returncode, 1)
        self.assertIn("refusing to serve plaintext on 0.0.0.0:0", result.stderr)
        self.assertIn("--allow_insecure_listen", result.stderr)

    def test_8_invalid_policy_is_refused_at_startup(self):
        bad = os.path.join(self.work, "bad-policy.json")
        with open(bad, "w") as f:
            f.write('{"name": "p", "allow_rules": [{"name": "a", "source": {"principals": "x"}}]}')
        result = self.run_server(f"--listen=127.0.0.1:{card_fixture.free_port()}",
                                 f"--tls_cert_file={self.certs}/server.crt",
                                 f"--tls_key_file={self.certs}/server.key",
                                 f"--tls_client_ca_file={self.certs}/ca.crt",
                                 f"--authz_policy_file={bad}")
        self.assertEqual(result.returncode, 1)
        self.assertIn("is not a valid gRPC authorization policy: "
                      "allow_rules[0].source.principals: not an array", result.stderr)


def main():
    global ARGS
    ARGS, rest = card_fixture.parse_args("server", "source")
    card_fixture.run_suite(rest, verbosity=2)


if __name__ == "__main__":
    main()
