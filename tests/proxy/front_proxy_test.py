#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""Callers identified through the front proxy (deploy/proxy/haproxy.cfg), as
deployed: the shipped config, policy and dev certificates, Debian's HAProxy,
and python3-grpcio as the client. HAProxy terminates the callers' mutual TLS
and forwards each verified certificate; card-server (--trusted_proxy_identities)
believes it only from the proxy. Checked: an allowed caller is served and named
in the access log; a read-only caller is denied and writes nothing; a forged
card-forwarded-client-cert header gets nobody anything, neither through the
proxy (HAProxy replaces it) nor straight at card-server (ignored from anyone
but the proxy); the proxy's own certificate, without a forwarded caller, may
call nothing; a caller without a certificate fails the proxy's handshake.

Usage: front_proxy_test.py --server=PATH/card-server --source=REPO_ROOT
"""
import base64
import os
import subprocess
import sys
import time
import unittest

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import card_fixture  # noqa: E402

ARGS = None
CARDS = "/devcard.card.v1.CardService/"
HEADER = "card-forwarded-client-cert"


class FrontProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = card_fixture.Cluster("front-proxy", pg_port=5492)
        cls.certs = cls.cluster.workspace.make_dev_certs()
        cls.server = cls.cluster.start_server(ARGS.server, "--db_pool_size=2", "--access_log",
                                              *cls.certs.server_behind_proxy)
        cls.proxy = cls.cluster.workspace.start_proxy("proxy", cls.server, cls.certs)
        gen = os.path.join(cls.cluster.work, "gen")
        os.mkdir(gen)
        cls.cards_pb2 = card_fixture.generate(gen, os.path.join(ARGS.source, "proto"),
                                              "devcard/card/v1/card_service.proto")

    @classmethod
    def tearDownClass(cls):
        cls.cluster.close()

    def read(self, name):
        with open(os.path.join(self.certs.certs, name), "rb") as f:
            return f.read()

    def channel(self, target, identity):
        key = self.read(identity + ".key") if identity else None
        chain = self.read(identity + ".crt") if identity else None
        credentials = grpc.ssl_channel_credentials(self.read("ca.crt"), key, chain)
        channel = grpc.secure_channel(target, credentials, options=[
            ("grpc.ssl_target_name_override", "card-server"),
            ("grpc.use_local_subchannel_pool", 1)])
        self.addCleanup(channel.close)
        return channel

    def forged(self, identity):
        """identity's certificate as the proxy would forward it."""
        pem = self.read(identity + ".crt").decode()
        der = base64.b64decode("".join(pem.split("-----")[2].split()))
        return ((HEADER, base64.b64encode(der).decode()),)

    def create(self, channel, user_id, metadata=()):
        call = channel.unary_unary(
            CARDS + "CreateCard",
            request_serializer=self.cards_pb2.CreateCardRequest.SerializeToString,
            response_deserializer=self.cards_pb2.Card.FromString)
        request = self.cards_pb2.CreateCardRequest(user_id=user_id, request_id="r-" + user_id)
        request.card.title = "T"
        try:
            call(request, timeout=10, metadata=metadata)
        except grpc.RpcError as error:
            return error.code()
        return grpc.StatusCode.OK

    def rows(self, user_id):
        return int(card_fixture.workspace.psql(
            self.cluster.url, "-XAtq",
            sql=f"SELECT count(*) FROM cards WHERE user_id = '{user_id}'").strip())

    def test_1_allowed_caller_is_served_and_named(self):
        channel = self.channel(self.proxy.target, "api-gateway")
        self.assertEqual(self.create(channel, "via-proxy"), grpc.StatusCode.OK)
        self.assertEqual(self.rows("via-proxy"), 1)
        deadline = time.monotonic() + 5
        while "caller=spiffe://cards.example/ns/gateway/sa/api-gateway" not in self.server.log():
            self.assertLess(time.monotonic(), deadline, "the access log did not name the caller")
            time.sleep(0.1)

    def test_2_read_only_caller_is_denied_and_writes_nothing(self):
        channel = self.channel(self.proxy.target, "profile-renderer")
        self.assertEqual(self.create(channel, "renderer"), grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(self.rows("renderer"), 0)

    def test_3_forged_header_through_the_proxy_is_replaced(self):
        channel = self.channel(self.proxy.target, "profile-renderer")
        code = self.create(channel, "forged-proxy", self.forged("api-gateway"))
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(self.rows("forged-proxy"), 0)

    def test_4_forged_header_straight_at_the_server_is_ignored(self):
        channel = self.channel(self.server.target, "profile-renderer")
        code = self.create(channel, "forged-direct", self.forged("api-gateway"))
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(self.rows("forged-direct"), 0)

    def test_5_the_proxy_alone_may_call_nothing(self):
        channel = self.channel(self.server.target, "card-proxy")
        self.assertEqual(self.create(channel, "proxy-alone"), grpc.StatusCode.PERMISSION_DENIED)
        garbage = ((HEADER, "bm90IGEgY2VydGlmaWNhdGU="),)
        self.assertEqual(self.create(channel, "proxy-alone", garbage),
                         grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(self.rows("proxy-alone"), 0)

    def test_6_the_proxy_speaking_for_a_caller_is_believed(self):
        # What HAProxy does, done by hand: shows test 4's refusal is about who
        # sends the header, not about the header.
        channel = self.channel(self.server.target, "card-proxy")
        self.assertEqual(self.create(channel, "proxy-for-gateway", self.forged("api-gateway")),
                         grpc.StatusCode.OK)

    def test_7_no_certificate_fails_the_proxy_handshake(self):
        channel = self.channel(self.proxy.target, None)
        self.assertEqual(self.create(channel, "anonymous"), grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(self.rows("anonymous"), 0)


if __name__ == "__main__":
    ARGS, rest = card_fixture.parse_args("server", "source")
    card_fixture.run_suite(rest)
