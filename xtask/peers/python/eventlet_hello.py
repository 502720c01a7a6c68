"""HTTP hello-world peer: a WSGI app on eventlet.wsgi, for `cargo xtask bench`.

    python eventlet_hello.py --addr 127.0.0.1:PORT [--threads N]

Runs until killed.
"""

import eventlet

eventlet.monkey_patch()

from eventlet import wsgi  # noqa: E402

import hello_args  # noqa: E402


def main():
    host, port = hello_args.parse("eventlet.wsgi hello-world server")
    listener = eventlet.listen((host, port), backlog=hello_args.BACKLOG)
    # max_size: the green thread pool's size; the default (1,024) would queue the
    # 10,000 idle connections of the memory measurement.
    wsgi.server(listener, hello_args.app, log_output=False, max_size=100_000)


if __name__ == "__main__":
    main()
