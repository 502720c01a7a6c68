"""The command line shared by the Python port-forwarder peers.

`LISTEN_ADDR TARGET_ADDR` (each `HOST:PORT`), as thicket's `green/examples/forwarder.rs` and
`tokio_forwarder` take it. A Python peer is one process on one OS thread, as they run one
hub (one `current_thread` runtime).
"""

import argparse

# Bytes per `recv`: the 64 KiB buffer thicket's `net::copy` and the tokio peer copy through.
CHUNK = 64 * 1024


def _addr(text):
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def parse(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("listen", type=_addr, help="HOST:PORT to accept connections on")
    parser.add_argument("target", type=_addr, help="HOST:PORT to connect each one to")
    args = parser.parse_args()
    return args.listen, args.target
