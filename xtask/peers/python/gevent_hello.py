"""HTTP hello-world peer: a WSGI app on gevent's pywsgi, for `cargo xtask bench`.

    python gevent_hello.py --addr 127.0.0.1:PORT [--threads N]

pywsgi sends the headers and the body in two writes; with Nagle's algorithm on, the body
waits for the client's delayed ACK (p50 44 ms, 1.4k req/s in the perf anchors). The handler
below sets TCP_NODELAY on each connection, the configuration anyone serving with gevent
would pick. Runs until killed.
"""

from gevent import monkey

monkey.patch_all()

import socket  # noqa: E402  (after patch_all, as gevent asks)

from gevent.pywsgi import WSGIHandler, WSGIServer  # noqa: E402

import hello_args  # noqa: E402


class NoDelayHandler(WSGIHandler):
    def handle(self):
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle()


def main():
    host, port = hello_args.parse("gevent pywsgi hello-world server")
    server = WSGIServer(
        (host, port),
        hello_args.app,
        handler_class=NoDelayHandler,
        backlog=hello_args.BACKLOG,
        log=None,
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
