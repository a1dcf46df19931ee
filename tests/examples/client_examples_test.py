#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""client/examples/ as an adopter runs them: each example program (Python:
python3-grpcio, stubs from grpc_tools.protoc; Node: @grpc/grpc-js and
proto-loader from scripts/node/node_modules) as a subprocess against a real
card-server on a throwaway PostgreSQL, each run with a user of its own.

Checked, per language: the run exits 0; the card it says it created is among
the cards it lists, and a second run for the same user, one card per page,
lists both cards over two pages; the database holds exactly those cards and
the four links; the empty title's google.rpc.BadRequest names card.title.
The same over mutual TLS with scripts/make-dev-certs.sh's certificates and
the shipped authorization policy. And the exit code means something: a
user_id the server refuses (INVALID_ARGUMENT) makes the example exit 1.

Usage: client_examples_test.py --server=PATH/card-server --source=REPO_ROOT
"""
import os
import re
import subprocess
import sys
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import card_fixture  # noqa: E402
from cardlib import workspace  # noqa: E402

ARGS = None
# An example makes 6 calls with 10 s deadlines; a minute is plenty even on a busy machine.
RUN_TIMEOUT_S = 60

CREATED_CARD = re.compile(r"^created card (\S+) ", re.M)
CREATED_LINK = re.compile(r"^created link (\S+) ", re.M)
LISTED_CARD = re.compile(r"^listed card (\S+) .* page=(\d+)$", re.M)
VIOLATION = re.compile(r"^  field violation: (\S+): (.+)$", re.M)


class Example:
    """How to run one language's example: argv prefix and environment."""

    def __init__(self, name, argv, env):
        self.name, self.argv, self.env = name, argv, env


class ClientExamplesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        source = ARGS.source
        node_modules = os.path.join(source, "scripts", "node", "node_modules")
        if not os.path.isdir(os.path.join(node_modules, "@grpc", "grpc-js")):
            raise RuntimeError(f"no @grpc/grpc-js in {node_modules}: run scripts/install-deps.sh")
        cls.examples = [
            Example("python", ["/usr/bin/python3",
                               os.path.join(source, "client/examples/python/card_example.py")], {}),
            # NODE_PATH: the packages install-deps put in scripts/node, so the
            # test needs no npm install of its own in client/examples/node.
            Example("node", ["node", os.path.join(source, "client/examples/node/card_example.js")],
                    {"NODE_PATH": node_modules}),
        ]
        cls.cluster = card_fixture.Cluster("examples", pg_port=5488)
        cls.plaintext = cls.cluster.start_server(ARGS.server, "--db_pool_size=2")
        cls.certs = cls.cluster.workspace.make_dev_certs()
        cls.mtls = cls.cluster.start_server(ARGS.server, "--db_pool_size=2", *cls.certs.server)

    @classmethod
    def tearDownClass(cls):
        exit_codes = cls.cluster.close()
        assert exit_codes == [0, 0], f"card-server exit codes {exit_codes}"

    def run_example(self, example, *args, env=None):
        """Runs the example; returns (exit code, stdout, stderr)."""
        result = subprocess.run(example.argv + list(args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, timeout=RUN_TIMEOUT_S,
                                env=dict(os.environ, **example.env, **(env or {})))
        return result.returncode, result.stdout, result.stderr

    def run_ok(self, example, *args, env=None):
        code, out, err = self.run_example(example, *args, env=env)
        self.assertEqual(code, 0, f"{example.name} example failed:\n{out}\n{err}")
        return out

    def database_ids(self, table, user):
        # The user ids are ours (letters, digits, hyphens), safe inside a literal.
        self.assertRegex(user, r"^[a-z0-9-]+$")
        rows = workspace.psql(self.cluster.url, "-At",
                              sql=f"SELECT id FROM {table} WHERE user_id = '{user}'")
        return set(rows.split())

    def check_run(self, out, expected_cards, expected_pages):
        """The ids the run created (card, links), after checking what it printed."""
        created_cards = CREATED_CARD.findall(out)
        self.assertEqual(len(created_cards), 1, out)
        created_links = CREATED_LINK.findall(out)
        self.assertEqual(len(created_links), 2, out)
        listed = LISTED_CARD.findall(out)
        listed_ids = [card_id for card_id, _ in listed]
        self.assertIn(created_cards[0], listed_ids, out)
        self.assertEqual(len(listed_ids), expected_cards, out)
        self.assertEqual(len(set(listed_ids)), expected_cards, f"a card listed twice:\n{out}")
        self.assertEqual(max(int(page) for _, page in listed), expected_pages, out)
        self.assertIn(f"listed {expected_cards} cards in {expected_pages} pages", out)
        self.assertIn("CreateCard with an empty title: INVALID_ARGUMENT: ", out)
        self.assertEqual([field for field, _ in VIOLATION.findall(out)], ["card.title"], out)
        return created_cards[0], set(created_links), set(listed_ids)

    def check_example(self, example, server, *connection):
        user = f"{example.name}-{uuid.uuid4()}"
        # First run: target and user from the environment.
        out = self.run_ok(example, *connection,
                          env={"CARD_TARGET": server.target, "CARD_USER_ID": user})
        first_card, first_links, _ = self.check_run(out, expected_cards=1, expected_pages=1)
        print(f"--- {example.name} example, first run:\n{out}", file=sys.stderr)
        # Second run: flags, one card per page, so that next_page_token is followed.
        out = self.run_ok(example, f"--target={server.target}", f"--user_id={user}",
                          "--page_size=1", *connection)
        second_card, second_links, listed = self.check_run(out, expected_cards=2,
                                                           expected_pages=2)
        self.assertEqual(listed, {first_card, second_card})
        # What the server wrote, not only what it answered.
        self.assertEqual(self.database_ids("cards", user), {first_card, second_card})
        self.assertEqual(self.database_ids("platform_links", user), first_links | second_links)

    def tls_flags(self):
        certs = self.certs.certs
        return ["--tls", f"--tls_ca_file={certs}/ca.crt", "--tls_server_name=card-server",
                f"--tls_cert_file={certs}/api-gateway.crt",
                f"--tls_key_file={certs}/api-gateway.key"]

    def test_plaintext(self):
        for example in self.examples:
            with self.subTest(example.name):
                self.check_example(example, self.plaintext)

    def test_mutual_tls(self):
        for example in self.examples:
            with self.subTest(example.name):
                self.check_example(example, self.mtls, *self.tls_flags())

    def test_refused_call_exits_1(self):
        # 129 bytes: user_id is 1-128 bytes, so the first call is refused.
        user = "x" * 129
        for example in self.examples:
            with self.subTest(example.name):
                code, out, err = self.run_example(example, f"--target={self.plaintext.target}",
                                                  f"--user_id={user}")
                self.assertEqual(code, 1, f"{out}\n{err}")
                self.assertIn("call failed: INVALID_ARGUMENT: user_id", err)
                self.assertNotIn("created", out)

    def test_documented_protoc_step(self):
        """client/examples/README.md's python3 -m grpc_tools.protoc line, then --gen_dir."""
        gen = os.path.join(self.cluster.work, "gen-python")
        os.mkdir(gen)
        readme = os.path.join(ARGS.source, "client/examples/README.md")
        with open(readme) as f:
            lines = [line.strip() for line in f if "python3 -m grpc_tools.protoc" in line]
        self.assertEqual(len(lines), 1, f"one grpc_tools.protoc line expected in {readme}")
        command = lines[0].replace("$GEN", gen)
        # Debian's python3 first: the one with python3-grpc-tools (PATH may start
        # with another, e.g. pyenv's).
        subprocess.run(["bash", "-c", command], cwd=ARGS.source, check=True,
                       env=dict(os.environ, PATH="/usr/bin:" + os.environ.get("PATH", "")))
        self.assertTrue(os.path.exists(os.path.join(gen, "google/rpc/error_details_pb2.py")))
        python = self.examples[0]
        user = f"python-gen-{uuid.uuid4()}"
        out = self.run_ok(python, f"--target={self.plaintext.target}", f"--user_id={user}",
                          f"--gen_dir={gen}")
        self.check_run(out, expected_cards=1, expected_pages=1)


if __name__ == "__main__":
    ARGS, rest = card_fixture.parse_args("server", "source")
    card_fixture.run_suite(rest)
