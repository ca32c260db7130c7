#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A plain-Python peer for example_socket_python_peer: only the standard socket module.

usage: peer.py STREAM_PATH DGRAM_PATH MY_DGRAM_PATH [MESSAGE...]

Stream frames: 4-byte big-endian length, then the payload (ipckit/stream/framing.hpp).
"""
import os
import socket
import struct
import sys
import time


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def connect_with_retry(sock, path, seconds=10):
    """The server may have bound its path but not be listening yet."""
    until = time.monotonic() + seconds
    while True:
        try:
            sock.connect(path)
            return
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > until:
                raise
            time.sleep(0.01)


def main():
    stream_path, dgram_path, my_path = sys.argv[1:4]
    messages = sys.argv[4:] or ["hello from python"]

    # AF_UNIX stream: connection based, consecutive bytes; we add the framing.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        connect_with_retry(s, stream_path)
        for msg in messages:
            payload = msg.encode()
            s.sendall(struct.pack("!I", len(payload)) + payload)
            (length,) = struct.unpack("!I", recv_exact(s, 4))
            print("python got:", recv_exact(s, length).decode(), flush=True)
        s.shutdown(socket.SHUT_WR)  # end of stream between frames: a clean close

    # AF_UNIX datagram: connection-less; bind our own path so the server can reply.
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as d:
        d.settimeout(10)
        d.bind(my_path)
        try:
            d.sendto(b"ping", dgram_path)
            reply, sender = d.recvfrom(1024)
            print("python got datagram:", reply.decode(), "from", sender, flush=True)
        finally:
            os.unlink(my_path)


if __name__ == "__main__":
    main()
