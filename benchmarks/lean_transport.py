"""Measure the lean transport against botocore: cold start and per-call cost. Run by hand:

    .venv/bin/python benchmarks/lean_transport.py            # needs DynamoDB Local for the cold-start part

Prints numbers; asserts nothing (the machine is shared and noisy).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import zlib
from typing import Any

ITEM = {
    "PK": {"S": "USER#123"},
    "SK": {"S": "PROFILE"},
    "name": {"S": "Ada Lovelace"},
    "email": {"S": "ada@example.com"},
    "age": {"N": "36"},
    "tags": {"SS": ["a", "b", "c"]},
    "address": {"M": {"city": {"S": "London"}, "zip": {"S": "W1"}}},
    "version": {"N": "7"},
}
BIN_ITEM = {**ITEM, "avatar": {"B": bytes(range(64))}}


def instant_stub(payload: dict[str, Any]) -> tuple[str, threading.Thread]:
    """A raw-socket HTTP/1.1 keep-alive server answering every request with the same canned response."""
    body = json.dumps(payload).encode()
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
        f"Content-Length: {len(body)}\r\nx-amz-crc32: {zlib.crc32(body)}\r\nx-amzn-RequestId: bench\r\n\r\n"
    ).encode()
    response = head + body
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)

    def serve(conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                header, _, rest = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in header.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                while len(rest) < length:
                    rest += conn.recv(65536)
                buffer = rest[length:]
                conn.sendall(response)

    def accept() -> None:
        while True:
            conn, _ = server.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.getsockname()[1]}", thread


def per_call(n: int = 3000) -> None:
    import boto3

    from dynagen.runtime._lean import LeanTransport
    from dynagen.runtime._transport import BotocoreTransport

    for label, item in (("plain item", ITEM), ("item with B", BIN_ITEM)):
        wire_item = json.loads(json.dumps(item, default=lambda b: __import__("base64").b64encode(b).decode()))
        endpoint, _ = instant_stub({"Item": wire_item})
        lean = LeanTransport("us-east-1", endpoint_url=endpoint, credentials=("AKID", "SECRET"))
        boto = BotocoreTransport(
            boto3.client(
                "dynamodb",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id="AKID",
                aws_secret_access_key="SECRET",
            )
        )
        request = {"TableName": "bench", "Key": {"PK": ITEM["PK"], "SK": ITEM["SK"]}}
        put = {"TableName": "bench", "Item": item}
        for name, transport in (("lean", lean), ("botocore", boto)):
            assert transport.call("GetItem", request)["Item"] == item
            for operation, req in (("GetItem", request), ("PutItem", put)):
                runs = []
                for _ in range(3):
                    start_wall, start_cpu = time.perf_counter(), time.process_time()
                    for _ in range(n):
                        transport.call(operation, req)
                    runs.append(((time.perf_counter() - start_wall) / n, (time.process_time() - start_cpu) / n))
                wall = min(r[0] for r in runs) * 1000
                cpu = min(r[1] for r in runs) * 1000
                print(f"  {label:12} {operation:8} {name:9} {wall:.3f} ms/call wall, {cpu:.3f} ms/call CPU (both ends)")


def codec(n: int = 20000) -> None:
    from dynagen.runtime._lean._wire import decode_response, encode_request

    for label, item in (("plain item", ITEM), ("item with B", BIN_ITEM)):
        body = encode_request({"Item": item})
        start = time.perf_counter()
        for _ in range(n):
            encode_request({"TableName": "bench", "Item": item})
        enc = (time.perf_counter() - start) / n * 1e6
        start = time.perf_counter()
        for _ in range(n):
            decode_response("GetItem", body)
        dec = (time.perf_counter() - start) / n * 1e6
        start = time.perf_counter()
        for _ in range(n):
            json.loads(body)
        raw = (time.perf_counter() - start) / n * 1e6
        print(f"  {label:12} encode {enc:.1f} us, decode {dec:.1f} us (bare json.loads {raw:.1f} us)")


COLD = r"""
import sys, time
t0 = time.perf_counter()
if sys.argv[1] == "lean":
    from dynagen.runtime._lean import LeanTransport
    t = LeanTransport("us-east-1", endpoint_url=sys.argv[2])
    get = lambda: t.call("ListTables", {})
else:
    import boto3
    c = boto3.client("dynamodb", endpoint_url=sys.argv[2], region_name="us-east-1")
    get = lambda: c.list_tables()
t1 = time.perf_counter()
get()
t2 = time.perf_counter()
# VmHWM (peak RSS of this process image); ru_maxrss would carry over the forking parent's peak.
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
print(f"{(t1 - t0) * 1000:.1f} {(t2 - t1) * 1000:.1f} {rss:.1f}")
"""


def cold_start(runs: int = 7) -> None:
    from dynagen.local import DynamoDBLocal

    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    with DynamoDBLocal.start() as ddb:
        for name in ("lean", "boto3"):
            totals, imports, firsts, rss = [], [], [], []
            for _ in range(runs):
                start = time.perf_counter()
                out = subprocess.run(
                    [sys.executable, "-c", COLD, name, ddb.endpoint],
                    capture_output=True,
                    text=True,
                    env=env,
                    check=True,
                ).stdout.split()
                totals.append((time.perf_counter() - start) * 1000)
                imports.append(float(out[0]))
                firsts.append(float(out[1]))
                rss.append(float(out[2]))
            print(
                f"  {name:6} process start -> first response: {statistics.median(totals):.0f} ms "
                f"(import+client {statistics.median(imports):.0f} ms, first call {statistics.median(firsts):.1f} ms), "
                f"max RSS {statistics.median(rss):.0f} MB  [median of {runs}]"
            )


if __name__ == "__main__":
    print(f"python {sys.version.split()[0]}")
    print("codec (per call):")
    codec()
    print("per call against an instant loopback stub:")
    per_call()
    if "--no-cold" not in sys.argv:
        print("cold start against DynamoDB Local (ListTables):")
        cold_start()
