#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""grpcurl, as a test: a client that knows nothing of the server's protos but
what server reflection tells it. It has message classes for the reflection
protocol only (generated at test time from Debian's /usr/share/grpc-proto, as
grpcurl has them compiled in); no generated code for devcard.card.v1 or for
grpc.health.v1. It builds every request message from descriptors fetched by
reflection, fills it from JSON and calls the method generically, as grpcurl
does.

Checks that every service reflection lists resolves through
file_containing_symbol with all its dependencies (grpc.reflection.v1alpha and
grpc.reflection.v1), and runs every `grpcurl` line of README.md's grpcurl
block in order against a real card-server on a throwaway PostgreSQL,
substituting the README's placeholders (<link N>, <card N>, <slug N>, <etag>)
with what the lines before it returned. Then the same for every line of the
README's `buf curl` block, run as written by the real buf binary
(scripts/node/node_modules/.bin/buf, or $BUF): grpcurl is packaged by neither
Debian nor npm, buf is.

Usage: reflection_test.py --server=PATH/card-server --source=REPO_ROOT
"""
import json
import os
import re
import shlex
import subprocess
import sys
import unittest

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import card_fixture  # noqa: E402

REFLECTION_VERSIONS = ("v1alpha", "v1")
ARGS = None


def generated_module(out_dir, proto):
    """The reflection protocol's message classes, one module per version."""
    return card_fixture.generate(out_dir, card_fixture.GRPC_PROTO, proto,
                                 name=proto.replace("/", "_").replace(".proto", "_pb2"))


class ReflectionError(Exception):
    def __init__(self, code, message):
        super().__init__(f"reflection error {code}: {message}")
        self.code = code


class ReflectionClient:
    """One reflection protocol version's view of the server."""

    def __init__(self, channel, version, messages):
        self.messages = messages
        self.stream = channel.stream_stream(
            f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
            request_serializer=messages.ServerReflectionRequest.SerializeToString,
            response_deserializer=messages.ServerReflectionResponse.FromString)

    def ask(self, **fields):
        request = self.messages.ServerReflectionRequest(**fields)
        responses = list(self.stream(iter([request]), timeout=10))
        assert len(responses) == 1, responses
        response = responses[0]
        if response.HasField("error_response"):
            raise ReflectionError(response.error_response.error_code,
                                  response.error_response.error_message)
        return response

    def services(self):
        return [s.name for s in self.ask(list_services="").list_services_response.service]

    def files_for_symbol(self, symbol):
        """The file defining `symbol` and every file it depends on, fetching by
        file name whatever the first answer left out."""
        files = {}
        pending = list(self.ask(file_containing_symbol=symbol)
                       .file_descriptor_response.file_descriptor_proto)
        while pending:
            proto = descriptor_pb2.FileDescriptorProto.FromString(pending.pop())
            if proto.name in files:
                continue
            files[proto.name] = proto
            for dependency in proto.dependency:
                if dependency not in files:
                    pending.extend(self.ask(file_by_filename=dependency)
                                   .file_descriptor_response.file_descriptor_proto)
        return files

    def pool_for(self, symbol):
        files = self.files_for_symbol(symbol)
        pool = descriptor_pool.DescriptorPool()
        added = set()

        def add(name):  # dependencies first, as the pool requires
            if name in added:
                return
            for dependency in files[name].dependency:
                add(dependency)
            pool.Add(files[name])
            added.add(name)

        for name in files:
            add(name)
        return pool


class Grpcurl:
    """What `grpcurl -plaintext [-d JSON] ADDRESS list|describe SYMBOL|METHOD`
    does, with reflection as its only source of types."""

    def __init__(self, channel, reflection):
        self.channel = channel
        self.reflection = reflection

    def list(self):
        return self.reflection.services()

    def describe(self, symbol):
        pool = self.reflection.pool_for(symbol)
        for find in (pool.FindServiceByName, pool.FindMessageTypeByName,
                     pool.FindEnumTypeByName):
            try:
                return find(symbol)
            except KeyError:
                pass
        raise KeyError(symbol)

    def call(self, method, body):
        """Returns (grpc.StatusCode, response as a JSON dict or None)."""
        service_name, method_name = method.rsplit("/", 1)
        pool = self.reflection.pool_for(service_name)
        descriptor = pool.FindServiceByName(service_name).FindMethodByName(method_name)
        factory = message_factory.MessageFactory(pool)
        request_class = factory.GetPrototype(descriptor.input_type)
        response_class = factory.GetPrototype(descriptor.output_type)
        request = json_format.Parse(body or "{}", request_class(), descriptor_pool=pool)
        stub = self.channel.unary_unary(f"/{service_name}/{method_name}",
                                        request_serializer=request_class.SerializeToString,
                                        response_deserializer=response_class.FromString)
        try:
            response = stub(request, timeout=10)
        except grpc.RpcError as error:
            return error.code(), {"message": error.details()}
        return grpc.StatusCode.OK, json.loads(
            json_format.MessageToJson(response, descriptor_pool=pool))


def readme_lines(source, tool):
    """README.md's block for `tool` ("grpcurl" or "buf curl"): the ```sh block
    that starts with a variable line (S=...) and runs `tool`; its variables
    and its `tool` lines."""
    with open(os.path.join(source, "README.md"), encoding="utf-8") as readme:
        text = readme.read()
    blocks = [b.splitlines() for b in re.findall(r"```sh\n(S=.*?)```", text, re.S)]
    blocks = [b for b in blocks if any(line.startswith(tool + " ") for line in b[1:])]
    assert len(blocks) == 1, f"README.md has {len(blocks)} {tool} blocks starting with S=..."
    lines = blocks[0]
    variables = dict(re.findall(r"(\w+)=([^;\s]+)", lines[0]))
    commands = [line for line in lines[1:] if line.startswith(tool + " ")]
    assert len(commands) == len(lines) - 1, f"a line of the {tool} block runs something else"
    return variables, commands


def expand(word, variables):
    """$NAME in a README line, as the shell would expand it."""
    return re.sub(r"\$(\w+)", lambda m: variables[m[1]], word)


def buf_binary(source):
    return os.environ.get("BUF") or os.path.join(source, "scripts", "node", "node_modules",
                                                 ".bin", "buf")


class Placeholders:
    """What the README's placeholders stand for: ids the lines before returned."""

    def __init__(self):
        self.links, self.cards, self.slugs, self.etags = [], [], [], {}

    def learn(self, method, response):
        if method.endswith("/CreatePlatformLink"):
            self.links.append(response["id"])
        if method.endswith("/CreateCard") and response["id"] not in self.cards:
            self.cards.append(response["id"])
            self.slugs.append(response["slug"])
        if "etag" in response and "id" in response:
            self.etags[response["id"]] = response["etag"]

    def fill(self, body):
        body = re.sub(r"<link (\d+)>", lambda m: self.links[int(m[1]) - 1], body)
        body = re.sub(r"<card (\d+)>", lambda m: self.cards[int(m[1]) - 1], body)
        body = re.sub(r"<slug (\d+)>", lambda m: self.slugs[int(m[1]) - 1], body)
        if "<etag>" in body:
            # The etag of the card the same body names; JSON-escaped, as typed.
            card = next(c for c in self.cards if c in body)
            body = body.replace("<etag>", json.dumps(self.etags[card])[1:-1])
        assert "<" not in body, f"unknown placeholder in {body}"
        return body


class ReflectionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = card_fixture.Cluster("reflection", pg_port=5495)
        gen = os.path.join(cls.cluster.work, "gen")
        os.mkdir(gen)
        cls.messages = {v: generated_module(gen, f"grpc/reflection/{v}/reflection.proto")
                        for v in REFLECTION_VERSIONS}
        cls.target = cls.cluster.start_server(ARGS.server, "--db_pool_size=2").target
        cls.channel = grpc.insecure_channel(cls.target)
        grpc.channel_ready_future(cls.channel).result(timeout=30)
        cls.reflection = {v: ReflectionClient(cls.channel, v, cls.messages[v])
                          for v in REFLECTION_VERSIONS}

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        exit_code, = cls.cluster.close()
        assert exit_code == 0, f"card-server exited {exit_code} on SIGTERM"

    def test_both_reflection_versions_list_the_same_services(self):
        listed = {v: sorted(self.reflection[v].services()) for v in REFLECTION_VERSIONS}
        self.assertEqual(listed["v1"], listed["v1alpha"])
        for service in ("devcard.card.v1.CardService", "grpc.health.v1.Health",
                        "grpc.reflection.v1alpha.ServerReflection",
                        "grpc.reflection.v1.ServerReflection"):
            self.assertIn(service, listed["v1"])

    def test_every_listed_service_resolves_with_all_its_dependencies(self):
        for version in REFLECTION_VERSIONS:
            reflection = self.reflection[version]
            for service in reflection.services():
                with self.subTest(version=version, service=service):
                    pool = reflection.pool_for(service)  # fails on a missing dependency
                    self.assertGreater(len(pool.FindServiceByName(service).methods), 0)

    def test_both_versions_send_the_same_files(self):
        files = {v: self.reflection[v].files_for_symbol("devcard.card.v1.CardService")
                 for v in REFLECTION_VERSIONS}
        self.assertEqual(files["v1"], files["v1alpha"])
        self.assertIn("google/protobuf/timestamp.proto", files["v1"])

    def test_unknown_symbols_are_not_found(self):
        for version in REFLECTION_VERSIONS:
            with self.assertRaises(ReflectionError) as raised:
                self.reflection[version].ask(file_containing_symbol="devcard.card.v1.Nope")
            self.assertEqual(raised.exception.code, grpc.StatusCode.NOT_FOUND.value[0])

    def test_json_update_mask_paths_are_camel_case(self):
        # What README.md says: with JSON bodies, update_mask paths are lowerCamelCase.
        grpcurl = Grpcurl(self.channel, self.reflection["v1"])
        body = ('{"user_id":"camel","card":{"id":"00000000-0000-0000-0000-000000000000"},'
                '"update_mask":"qr_enabled"}')
        with self.assertRaisesRegex(json_format.ParseError, "must not contain"):
            grpcurl.call("devcard.card.v1.CardService/UpdateCard", body)

    def test_every_grpcurl_line_of_the_readme_works(self):
        variables, commands = readme_lines(ARGS.source, "grpcurl")
        self.assertGreaterEqual(len(commands), 10)
        self.assertTrue(any(re.search(r'"update_mask":"[^"]*[a-z][A-Z]', c) for c in commands),
                        "the README shows no update_mask path of more than one word")
        grpcurl = Grpcurl(self.channel, self.reflection["v1alpha"])  # what grpcurl 1.8 asks
        placeholders = Placeholders()
        for command in commands:
            with self.subTest(command=command):
                words = shlex.split(command)
                words = [expand(w, variables) for w in words]
                self.assertEqual(words[:2], ["grpcurl", "-plaintext"])
                body = None
                if words[2] == "-d":
                    body, words = placeholders.fill(words[3]), words[:2] + words[4:]
                self.assertEqual(words[2], variables["S"])
                action = words[3:]
                if action == ["list"]:
                    self.assertIn("devcard.card.v1.CardService", grpcurl.list())
                elif action[0] == "describe":
                    self.assertEqual(grpcurl.describe(action[1]).full_name, action[1])
                else:
                    code, response = grpcurl.call(action[0], body)
                    self.assertEqual(code, grpc.StatusCode.OK, response)
                    placeholders.learn(action[0], response)
                    self.check_response(action[0], json.loads(body), response)

    def test_every_buf_curl_line_of_the_readme_works(self):
        variables, commands = readme_lines(ARGS.source, "buf curl")
        grpcurl_variables, grpcurl_commands = readme_lines(ARGS.source, "grpcurl")
        # Every RPC the grpcurl tour calls, the buf curl tour calls too.
        self.assertEqual(
            [c.rsplit("/", 1)[1] for c in commands if "--data" in c],
            [c.rsplit("/", 1)[1] for c in grpcurl_commands if " -d " in c])
        self.assertEqual(variables["C"], grpcurl_variables["C"])
        buf = buf_binary(ARGS.source)
        self.assertTrue(os.access(buf, os.X_OK), f"no buf at {buf}: run scripts/install-deps.sh")
        base = variables["S"]
        self.assertEqual(base, "http://" + grpcurl_variables["S"])
        variables = {**variables, "S": "http://" + self.target}  # the test's server
        placeholders = Placeholders()
        for command in commands:
            with self.subTest(command=command):
                words = [expand(w, variables) for w in shlex.split(command)]
                self.assertEqual(words[:5], ["buf", "curl", "--protocol", "grpc",
                                             "--http2-prior-knowledge"])
                body = None
                if "--data" in words:
                    at = words.index("--data") + 1
                    body = words[at] = placeholders.fill(words[at])
                result = subprocess.run([buf] + words[1:], capture_output=True, text=True,
                                        timeout=60)
                self.assertEqual(result.returncode, 0,
                                 f"{' '.join(words)}\nstdout: {result.stdout}\n"
                                 f"stderr: {result.stderr}")
                url = words[-1]
                if "--list-services" in words:
                    self.assertIn("devcard.card.v1.CardService", result.stdout.split())
                elif "--list-methods" in words:
                    self.assertIn("devcard.card.v1.CardService/UpdateCard", result.stdout.split())
                else:
                    self.assertTrue(url.startswith(variables["S"] + "/"), url)
                    method = url[len(variables["S"]) + 1:]
                    response = json.loads(result.stdout)
                    placeholders.learn(method, response)
                    self.check_response(method, json.loads(body), response)
        self.assertEqual(len(placeholders.cards), 2)  # the lines' CreateCards ran

    def test_buf_curl_refuses_the_old_visibility_names(self):
        # Visibility's values were PUBLIC, UNLISTED and PRIVATE until issue 22.
        # JSON is parsed by the client, from the descriptors reflection serves,
        # and those know only the new names: the old ones fail before sending.
        buf = buf_binary(ARGS.source)
        for old, new in (("PUBLIC", "VISIBILITY_PUBLIC"), ("PRIVATE", "VISIBILITY_PRIVATE")):
            results = {}
            for name in (old, new):
                body = json.dumps({"user_id": "renamed", "request_id": name,
                                   "card": {"title": name, "visibility": name}})
                results[name] = subprocess.run(
                    [buf, "curl", "--protocol", "grpc", "--http2-prior-knowledge", "--data",
                     body, f"http://{self.target}/devcard.card.v1.CardService/CreateCard"],
                    capture_output=True, text=True, timeout=60)
            self.assertNotEqual(results[old].returncode, 0, results[old].stdout)
            self.assertIn(f'invalid value for enum field visibility: "{old}"',
                          results[old].stderr)
            self.assertEqual(results[new].returncode, 0, results[new].stderr)
            self.assertEqual(json.loads(results[new].stdout)["visibility"], new)

    def check_response(self, method, request, response):
        if method == "grpc.health.v1.Health/Check":
            self.assertEqual(response, {"status": "SERVING"})
        if method.endswith("/UpdateCard"):
            for path in request["update_mask"].split(","):
                field = re.sub(r"[A-Z]", lambda m: "_" + m[0].lower(), path)
                if path != "links":
                    sent = request["card"].get(path, request["card"].get(field))
                    self.assertEqual(response.get(path), sent, path)
        if method.endswith("/GetSharedCard"):
            # The public view: what the card shows, not who owns it or its ids.
            self.assertEqual(response["slug"], request["slug"])
            for key in ("id", "userId", "etag", "isDefault", "createTime"):
                self.assertNotIn(key, response)
        if method.endswith("/SetDefaultCard"):
            self.assertTrue(response["isDefault"])


def main():
    global ARGS
    ARGS, rest = card_fixture.parse_args("server", "source")
    card_fixture.run_suite(rest, verbosity=2)


if __name__ == "__main__":
    main()
