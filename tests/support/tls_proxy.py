#!/usr/bin/env python3
"""Puts TLS with client certificates in front of a Unix socket (standard library only).

  tls_proxy.py PORT_FILE UNIX_SOCKET [CERT_DIR]

Listens on 127.0.0.1 (a free port, written to PORT_FILE once listening) and relays each
connection to UNIX_SOCKET. With CERT_DIR (server.pem, server-key.pem, ca.pem) it speaks TLS and
requires a client certificate signed by ca.pem, as a Docker daemon started with --tlsverify
does; without it, plain TCP. It exits after 300 s so that a test that dies leaves nothing.
"""
import os
import socket
import ssl
import sys
import threading
import time


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client, target):
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    upstream.connect(target)
    threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
    pump(upstream, client)


def main():
    port_file, target = sys.argv[1], sys.argv[2]
    certs = sys.argv[3] if len(sys.argv) > 3 else None
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    context = None
    if certs:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(os.path.join(certs, "server.pem"),
                                os.path.join(certs, "server-key.pem"))
        context.load_verify_locations(os.path.join(certs, "ca.pem"))
        context.verify_mode = ssl.CERT_REQUIRED
    with open(port_file + ".tmp", "w") as f:
        f.write(str(listener.getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    threading.Timer(300, lambda: os._exit(0)).start()
    while True:
        client, _ = listener.accept()
        if context:
            try:
                client = context.wrap_socket(client, server_side=True)
            except (ssl.SSLError, OSError):
                client.close()
                continue
        threading.Thread(target=serve, args=(client, target), daemon=True).start()


if __name__ == "__main__":
    main()
