"""Port-forwarder peer: eventlet's classic forwarder written with gevent, for
`cargo xtask bench`.

    python gevent_forwarder.py LISTEN_ADDR TARGET_ADDR

A `StreamServer` runs each accepted connection in a greenlet, which connects to the target
and pumps bytes both ways with a second greenlet, shutting the other side's writing half
down at end of file so that a half-close passes through. Runs until killed.
"""

import socket

import gevent
from gevent import socket as gsocket
from gevent.server import StreamServer

import forwarder_args


def pump(source, dest):
    """Copies from `source` to `dest` until end of file, then half-closes `dest`."""
    try:
        while True:
            data = source.recv(forwarder_args.CHUNK)
            if not data:
                break
            dest.sendall(data)
    except OSError:
        pass
    try:
        dest.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def main():
    listen, target = forwarder_args.parse("gevent port forwarder")

    def forward(client, _addr):
        try:
            upstream = gsocket.create_connection(target)
        except OSError:
            return
        up = gevent.spawn(pump, client, upstream)
        pump(upstream, client)
        up.join()
        upstream.close()

    server = StreamServer(listen, forward, backlog=1024)
    server.init_socket()
    print(f"forwarding {listen[0]}:{listen[1]} -> {target[0]}:{target[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
