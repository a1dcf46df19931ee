# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""Message classes generated at run time: protoc --python_out for one .proto,
loaded by path (a grpc.* package name would collide with the grpc library's)."""
import importlib.util
import os
import subprocess

GRPC_PROTO = "/usr/share/grpc-proto"  # Debian's grpc-proto


def load_module(path, name=None):
    spec = importlib.util.spec_from_file_location(name or os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate(out_dir, include, proto, name=None):
    """protoc -I INCLUDE -I/usr/include --python_out=OUT_DIR PROTO, loaded."""
    subprocess.run(["protoc", f"-I{include}", "-I/usr/include", f"--python_out={out_dir}", proto],
                   check=True)
    return load_module(os.path.join(out_dir, proto.replace(".proto", "_pb2.py")), name)
