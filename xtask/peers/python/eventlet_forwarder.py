"""Port-forwarder peer: eventlet's classic forwarder, for `cargo xtask bench`.

    python eventlet_forwarder.py LISTEN_ADDR TARGET_ADDR

For each accepted connection: connect to the target, then pump bytes both ways with two
green threads (eventlet's examples/forwarder.py), shutting the other side's writing half
down at end of file so that a half-close passes through. Runs until killed.
"""

import socket

import eventlet

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


def forward(client, target):
    try:
        upstream = eventlet.connect(target)
    except OSError:
        client.close()
        return
    up = eventlet.spawn(pump, client, upstream)
    pump(upstream, client)
    up.wait()
    upstream.close()
    client.close()


def main():
    listen, target = forwarder_args.parse("eventlet port forwarder")
    listener = eventlet.listen(listen, backlog=1024)
    print(f"forwarding {listen[0]}:{listen[1]} -> {target[0]}:{target[1]}", flush=True)
    while True:
        client, _ = listener.accept()
        eventlet.spawn_n(forward, client, target)


if __name__ == "__main__":
    main()
