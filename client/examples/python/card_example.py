#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""CardService from Python: two platform links, a card that shows them, every
page of the user's cards, and what an INVALID_ARGUMENT's google.rpc.BadRequest
detail says.

Stubs are generated from the repository's proto/ at start-up with
grpc_tools.protoc, into a temporary directory (or --gen_dir); nothing
generated is checked in. See client/examples/README.md.

    card_example.py --target=127.0.0.1:50051 --user_id=alice
    CARD_TARGET=... CARD_USER_ID=... card_example.py
    card_example.py --tls --tls_ca_file=ca.crt [--tls_cert_file=c.crt --tls_key_file=c.key]

Exit codes: 0 when every call went as the example expects, 1 when a call
failed (the status is printed), 2 for bad arguments.
"""
import argparse
import json
import os
import sys
import tempfile
import uuid

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTO_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "..", "proto"))
PROTOS = ["devcard/card/v1/card_service.proto",
          # Not imported by card_service.proto: the server sends them only in
          # the grpc-status-details-bin trailer, so a client compiles them itself.
          "google/rpc/status.proto", "google/rpc/error_details.proto"]
# Every call gets a deadline: without one, a stuck server stalls the caller forever.
CALL_TIMEOUT_S = 10


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default=os.environ.get("CARD_TARGET", "127.0.0.1:50051"),
                        help="card-server host:port (env CARD_TARGET)")
    parser.add_argument("--user_id", default=os.environ.get("CARD_USER_ID"),
                        help="the user whose links and cards are created (env CARD_USER_ID)")
    parser.add_argument("--page_size", type=int, default=2,
                        help="ListCards page size; small so that paging shows")
    parser.add_argument("--proto_dir", default=DEFAULT_PROTO_DIR,
                        help="the repository's proto/ folder")
    parser.add_argument("--gen_dir", help="where to generate the stubs (default: a temporary "
                        "directory); a folder already holding them is reused")
    parser.add_argument("--tls", action="store_true", help="use TLS (default: plaintext)")
    parser.add_argument("--tls_ca_file", help="PEM CA bundle to verify the server "
                        "(default: the system roots)")
    parser.add_argument("--tls_server_name", help="name to verify in the server's "
                        "certificate, when it differs from the target's host")
    parser.add_argument("--tls_cert_file", help="PEM client certificate, for mutual TLS")
    parser.add_argument("--tls_key_file", help="with --tls_cert_file: its PEM private key")
    args = parser.parse_args()
    if not args.user_id:
        parser.error("--user_id (or CARD_USER_ID) is required")
    if bool(args.tls_cert_file) != bool(args.tls_key_file):
        parser.error("--tls_cert_file and --tls_key_file go together")
    return args


def generate_stubs(proto_dir, gen_dir):
    """python3 -m grpc_tools.protoc for PROTOS into gen_dir, then importable."""
    if not os.path.exists(os.path.join(gen_dir, "devcard", "card", "v1", "card_service_pb2_grpc.py")):
        import grpc_tools
        from grpc_tools import protoc
        # The well-known types (google/protobuf/*.proto) ship inside grpc_tools.
        well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
        argv = ["grpc_tools.protoc", f"-I{proto_dir}", f"-I{well_known}",
                f"--python_out={gen_dir}", f"--grpc_python_out={gen_dir}", *PROTOS]
        if protoc.main(argv) != 0:
            sys.exit(f"grpc_tools.protoc failed on {proto_dir}")
    # google.rpc lands next to google.protobuf: both are namespace packages
    # (no __init__.py), so Python merges gen_dir/google with the installed one.
    sys.path.insert(0, gen_dir)


def open_channel(args):
    if not args.tls:
        return grpc.insecure_channel(args.target)

    def read(path):
        if not path:
            return None
        with open(path, "rb") as f:
            return f.read()

    credentials = grpc.ssl_channel_credentials(root_certificates=read(args.tls_ca_file),
                                               private_key=read(args.tls_key_file),
                                               certificate_chain=read(args.tls_cert_file))
    options = []
    if args.tls_server_name:
        options.append(("grpc.ssl_target_name_override", args.tls_server_name))
    return grpc.secure_channel(args.target, credentials, options)


def bad_request_violations(error):
    """The field violations of the google.rpc.BadRequest detail in a failed
    call's grpc-status-details-bin trailer; [] when there is none."""
    from google.rpc import error_details_pb2, status_pb2
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        # Keys ending in -bin carry bytes: the serialized google.rpc.Status.
        status = status_pb2.Status.FromString(value)
        violations = []
        for detail in status.details:  # google.protobuf.Any
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad_request = error_details_pb2.BadRequest()
                detail.Unpack(bad_request)
                violations.extend(bad_request.field_violations)
        return violations
    return []


def run(args):
    from devcard.card.v1 import card_service_pb2 as pb
    from devcard.card.v1 import card_service_pb2_grpc as pb_grpc

    user = args.user_id
    with open_channel(args) as channel:
        cards = pb_grpc.CardServiceStub(channel)

        link_ids = []
        for platform, url in (("github", f"https://github.com/{user}"),
                              ("mastodon", f"https://mastodon.social/@{user}")):
            link = cards.CreatePlatformLink(
                pb.CreatePlatformLinkRequest(
                    user_id=user,
                    link=pb.PlatformLink(platform=platform, username=user, url=url)),
                timeout=CALL_TIMEOUT_S)
            print(f"created link {link.id} {link.platform} {link.url}")
            link_ids.append(link.id)

        # A request_id makes the create safe to retry: the server returns the
        # first call's card instead of creating a second one. Visibility is
        # left unset (the server's default).
        card = cards.CreateCard(
            pb.CreateCardRequest(user_id=user,
                                 card=pb.Card(title=f"{user} from Python",
                                              description="made by card_example.py"),
                                 link_ids=link_ids, request_id=str(uuid.uuid4())),
            timeout=CALL_TIMEOUT_S)
        print(f"created card {card.id} title={json.dumps(card.title)} slug={card.slug} "
              f"default={json.dumps(card.is_default)} links={len(card.links)}")

        page_token, pages, listed = "", 0, 0
        while True:
            page = cards.ListCards(pb.ListCardsRequest(user_id=user, page_size=args.page_size,
                                                       page_token=page_token),
                                   timeout=CALL_TIMEOUT_S)
            pages += 1
            for c in page.cards:
                listed += 1
                print(f"listed card {c.id} title={json.dumps(c.title)} "
                      f"default={json.dumps(c.is_default)} page={pages}")
            page_token = page.next_page_token
            if not page_token:  # empty: no more pages
                break
        print(f"listed {listed} cards in {pages} pages")

        # An empty title is refused before anything is written: INVALID_ARGUMENT
        # with a BadRequest detail naming the field.
        try:
            cards.CreateCard(pb.CreateCardRequest(user_id=user, card=pb.Card(title="")),
                             timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
                raise
            print(f"CreateCard with an empty title: {error.code().name}: {error.details()}")
            violations = bad_request_violations(error)
            for violation in violations:
                print(f"  field violation: {violation.field}: {violation.description}")
            if not violations:
                print("no google.rpc.BadRequest detail in the trailers", file=sys.stderr)
                return 1
        else:
            print("CreateCard with an empty title succeeded; expected INVALID_ARGUMENT",
                  file=sys.stderr)
            return 1
    return 0


def main():
    args = parse_args()
    if args.gen_dir:
        os.makedirs(args.gen_dir, exist_ok=True)
        generate_stubs(args.proto_dir, args.gen_dir)
        gen = None
    else:
        gen = tempfile.TemporaryDirectory(prefix="card-example-py.")
        generate_stubs(args.proto_dir, gen.name)
    try:
        return run(args)
    except grpc.RpcError as error:
        print(f"call failed: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    finally:
        if gen:
            gen.cleanup()


if __name__ == "__main__":
    sys.exit(main())
