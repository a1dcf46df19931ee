#!/usr/bin/python3
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
with what the lines before it returned.

Usage: reflection_test.py --server=PATH/card-server --source=REPO_ROOT
"""
import json
import os
import re
import shlex
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


def readme_grpcurl_lines(source):
    """The grpcurl block of README.md: its variable line and its grpcurl lines."""
    with open(os.path.join(source, "README.md"), encoding="utf-8") as readme:
        text = readme.read()
    block = re.search(r"```sh\n(S=.*?)```", text, re.S)
    assert block, "README.md has no grpcurl block starting with S=..."
    lines = block.group(1).splitlines()
    variables = dict(re.findall(r"(\w+)=([^;\s]+)", lines[0]))
    commands = [line for line in lines[1:] if line.startswith("grpcurl ")]
    return variables, commands


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
        target = cls.cluster.start_server(ARGS.server, "--db_pool_size=2").target
        cls.channel = grpc.insecure_channel(target)
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
        variables, commands = readme_grpcurl_lines(ARGS.source)
        self.assertGreaterEqual(len(commands), 10)
        self.assertTrue(any(re.search(r'"update_mask":"[^"]*[a-z][A-Z]', c) for c in commands),
                        "the README shows no update_mask path of more than one word")
        grpcurl = Grpcurl(self.channel, self.reflection["v1alpha"])  # what grpcurl 1.8 asks
        placeholders = Placeholders()
        for command in commands:
            with self.subTest(command=command):
                words = shlex.split(command)
                words = [re.sub(r"\$(\w+)", lambda m: variables[m[1]], w) for w in words]
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
