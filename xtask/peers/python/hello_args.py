"""The command line shared by the Python hello-world peers.

`--addr 127.0.0.1:PORT [--threads N]`, like every server `cargo xtask bench` measures.
A Python peer is one process on one OS thread, so `--threads` is accepted and ignored.
"""

import argparse


def parse(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--addr", required=True, help="127.0.0.1:PORT")
    parser.add_argument("--threads", type=int, default=2, help="ignored: one OS thread")
    args = parser.parse_args()
    host, _, port = args.addr.rpartition(":")
    return host, int(port)


BODY = b"Hello, World!"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]

# The listen backlog: tokio's default, so that 1,024 connections opened at once are not
# dropped by a short queue (eventlet's default is 50) rather than by the server.
BACKLOG = 1024


def app(environ, start_response):
    """Plain WSGI: any method, any path."""
    start_response("200 OK", HEADERS)
    return [BODY]
