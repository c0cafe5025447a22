#!/usr/bin/env python3
"""A workspace app for the app proxy tests (standard library only).

  app_server.py PORT [LIFETIME_SECONDS]

GET /ws with a WebSocket upgrade echoes every text or binary message back, prefixed "echo:".
GET /bulk?n=N answers N bytes of "x", and POST /sink reads its body slowly and answers how
many bytes came (for flow-control tests). Requests under /gate/ stand in for a slow agentapi
(for task tests): each waits until the file named by $APP_GATE_FILE exists (at most 60 s), then
answers as agentapi would ({"messages": []} for .../messages, {"status": "stable"} for
.../status, {"ok": true} otherwise); GET /gate-waiting answers {"waiting": N}, how many wait
now. Any other request answers 200 with JSON describing what arrived (method, path, query,
headers, body), so tests can see exactly what the proxy forwarded. It exits after LIFETIME_SECONDS
(default 300) so that a test that dies early leaves nothing running for long.
"""
import base64
import hashlib
import http.server
import json
import os
import socketserver
import struct
import sys
import threading
import time

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def read_exact(stream, n):
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_frame(stream):
    b1, b2 = read_exact(stream, 2)
    opcode = b1 & 0x0F
    length = b2 & 0x7F
    if length == 126:
        length = struct.unpack(">H", read_exact(stream, 2))[0]
    elif length == 127:
        length = struct.unpack(">Q", read_exact(stream, 8))[0]
    mask = read_exact(stream, 4) if b2 & 0x80 else b"\0\0\0\0"
    payload = bytearray(read_exact(stream, length))
    for i in range(length):
        payload[i] ^= mask[i % 4]
    return opcode, bytes(payload)


def write_frame(stream, opcode, payload):
    header = bytes([0x80 | opcode])
    if len(payload) < 126:
        header += bytes([len(payload)])
    elif len(payload) < 65536:
        header += bytes([126]) + struct.pack(">H", len(payload))
    else:
        header += bytes([127]) + struct.pack(">Q", len(payload))
    stream.write(header + payload)
    stream.flush()


GATE_FILE = os.environ.get("APP_GATE_FILE", "")
gate_lock = threading.Lock()
gate_waiting = 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        try:
            while True:
                opcode, payload = read_frame(self.rfile)
                if opcode == 8:  # close
                    write_frame(self.wfile, 8, payload[:2])
                    break
                if opcode == 9:  # ping
                    write_frame(self.wfile, 10, payload)
                elif opcode in (1, 2):
                    write_frame(self.wfile, opcode, b"echo:" + payload)
        except (EOFError, ConnectionError):
            pass
        self.close_connection = True

    def describe(self):
        length = int(self.headers.get("Content-Length", "0") or "0")
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        path, _, query = self.path.partition("?")
        answer = json.dumps({
            "method": self.command,
            "path": path,
            "query": query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def answer_json(self, value):
        answer = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def gated(self, path):
        global gate_waiting
        length = int(self.headers.get("Content-Length", "0") or "0")
        if length:
            self.rfile.read(length)
        with gate_lock:
            gate_waiting += 1
        try:
            deadline = time.monotonic() + 60
            while not (GATE_FILE and os.path.exists(GATE_FILE)) and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            with gate_lock:
                gate_waiting -= 1
        if path.endswith("/messages"):
            self.answer_json({"messages": []})
        elif path.endswith("/status"):
            self.answer_json({"status": "stable"})
        else:
            self.answer_json({"ok": True})

    def bulk(self, n):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        chunk = b"x" * 65536
        while n > 0:
            self.wfile.write(chunk[:min(n, len(chunk))])
            n -= min(n, len(chunk))

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if self.headers.get("Upgrade", "").lower() == "websocket":
            self.websocket()
        elif path == "/gate-waiting":
            with gate_lock:
                waiting = gate_waiting
            self.answer_json({"waiting": waiting})
        elif path.startswith("/gate/"):
            self.gated(path)
        elif path.endswith("/bulk") and query.startswith("n="):
            self.bulk(int(query[2:]))
        else:
            self.describe()

    def sink(self):
        left = int(self.headers.get("Content-Length", "0") or "0")
        received = 0
        while left > 0:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                break
            received += len(chunk)
            left -= len(chunk)
            time.sleep(0.01)
        answer = json.dumps({"received": received}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_POST(self):
        if self.path.startswith("/gate/"):
            self.gated(self.path.partition("?")[0])
        elif self.path.endswith("/sink"):
            self.sink()
        else:
            self.describe()

    do_PUT = describe
    do_DELETE = describe


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # many requests may arrive at once


if __name__ == "__main__":
    lifetime = float(sys.argv[2]) if len(sys.argv) > 2 else 300.0
    server = Server(("127.0.0.1", int(sys.argv[1])), Handler)
    threading.Timer(lifetime, server.shutdown).start()
    server.serve_forever()
