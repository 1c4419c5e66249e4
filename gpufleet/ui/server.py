"""Serving the dashboard with uvicorn on a socket bound first (so that port 0 picks a free
port and the address printed is the one listened on)."""

from __future__ import annotations

import socket

import uvicorn

from gpufleet.errors import InputError, Problem
from gpufleet.ui.app import create_app
from gpufleet.ui.settings import UiSettings


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (InputError when it cannot be had)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as error:
        raise InputError([Problem(f"cannot listen on {host}:{port}: {error.strerror or error}")]) from None
    sock.set_inheritable(True)
    return sock


def serve(settings: UiSettings, sock: socket.socket) -> None:
    """Serve until interrupted (Ctrl-C: background jobs stop and are marked interrupted)."""
    config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock])
