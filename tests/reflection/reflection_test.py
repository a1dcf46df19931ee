#!/usr/bin/python3
"""grpcurl-style debugging works with a client that shares nothing with the
project's generated code: Debian's python3-grpcio, with message classes
generated at test time from /usr/share/grpc-proto's reflection and health
protos. Checks that reflection lists devcard.card.v1.CardService, that a full
file descriptor for it (with every dependency) can be fetched and assembled,
and that the health service answers.

Usage: reflection_test.py --server=PATH/card-server --source=REPO_ROOT
"""
import argparse
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool

GRPC_PROTO = "/usr/share/grpc-proto"
ARGS = None


def generated_module(out_dir, proto):
    """protoc --python_out for one self-contained proto, loaded by path (its
    package name, grpc.*, would collide with the grpc library's)."""
    subprocess.run(["protoc", f"-I{GRPC_PROTO}", f"--python_out={out_dir}", proto], check=True)
    path = os.path.join(out_dir, proto.replace(".proto", "_pb2.py"))
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ServerFixture:
    def __init__(self, server, source):
        self.work = tempfile.mkdtemp(prefix="card-reflection-")
        os.chmod(self.work, 0o755)
        self.script = os.path.join(source, "scripts", "throwaway-pg.sh")
        self.pg_dir = os.path.join(self.work, "pg")
        url = subprocess.run(["bash", self.script, "start", self.pg_dir, "5495"], check=True,
                             capture_output=True, text=True).stdout.strip()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.log = open(os.path.join(self.work, "server.log"), "w+")
        self.process = subprocess.Popen(
            [server, f"--listen=127.0.0.1:{self.port}", f"--database_url={url}",
             "--db_pool_size=2"], stdout=self.log, stderr=subprocess.STDOUT)
        self.target = f"127.0.0.1:{self.port}"
        grpc.channel_ready_future(grpc.insecure_channel(self.target)).result(timeout=30)

    def close(self):
        self.process.terminate()
        exit_code = self.process.wait(timeout=30)
        subprocess.run(["bash", self.script, "stop", self.pg_dir], check=False)
        shutil.rmtree(self.work, ignore_errors=True)
        return exit_code


class ReflectionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="card-reflection-gen-")
        global reflection_pb2, health_pb2
        reflection_pb2 = generated_module(cls.tmp, "grpc/reflection/v1alpha/reflection.proto")
        health_pb2 = generated_module(cls.tmp, "grpc/health/v1/health.proto")
        cls.server = ServerFixture(ARGS.server, ARGS.source)
        cls.channel = grpc.insecure_channel(cls.server.target)
        cls.reflect = cls.channel.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        exit_code = cls.server.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert exit_code == 0, f"card-server exited {exit_code} on SIGTERM"

    def ask(self, **fields):
        request = reflection_pb2.ServerReflectionRequest(**fields)
        responses = list(self.reflect(iter([request]), timeout=10))
        self.assertEqual(len(responses), 1)
        response = responses[0]
        self.assertFalse(response.HasField("error_response"), response.error_response)
        return response

    def test_list_includes_card_service_and_health(self):
        services = {s.name for s in self.ask(list_services="").list_services_response.service}
        self.assertIn("devcard.card.v1.CardService", services)
        self.assertIn("grpc.health.v1.Health", services)

    def test_full_file_descriptor_for_card_service(self):
        response = self.ask(file_containing_symbol="devcard.card.v1.CardService")
        files = {}
        pending = [descriptor_pb2.FileDescriptorProto.FromString(raw)
                   for raw in response.file_descriptor_response.file_descriptor_proto]
        while pending:  # follow every dependency until the set is closed
            proto = pending.pop()
            if proto.name in files:
                continue
            files[proto.name] = proto
            for dependency in proto.dependency:
                if dependency not in files:
                    fetched = self.ask(file_by_filename=dependency)
                    pending.extend(descriptor_pb2.FileDescriptorProto.FromString(raw) for raw in
                                   fetched.file_descriptor_response.file_descriptor_proto)
        pool = descriptor_pool.DescriptorPool()
        added = set()

        def add(name):
            if name in added:
                return
            for dependency in files[name].dependency:
                add(dependency)
            pool.Add(files[name])
            added.add(name)

        for name in files:
            add(name)
        service = pool.FindServiceByName("devcard.card.v1.CardService")
        methods = {m.name for m in service.methods}
        for expected in ("CreateCard", "GetCard", "ListCards", "UpdateCard", "DeleteCard",
                         "SetDefaultCard", "GetDefaultCard", "GetSharedCard",
                         "CreatePlatformLink", "ListPlatformLinks", "DeletePlatformLink"):
            self.assertIn(expected, methods)
        card = pool.FindMessageTypeByName("devcard.card.v1.Card")
        self.assertEqual(card.fields_by_name["create_time"].message_type.full_name,
                         "google.protobuf.Timestamp")

    def test_health_is_serving(self):
        check = self.channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString)
        for service in ("", "devcard.card.v1.CardService"):
            response = check(health_pb2.HealthCheckRequest(service=service), timeout=10)
            self.assertEqual(response.status, health_pb2.HealthCheckResponse.SERVING)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--source", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
