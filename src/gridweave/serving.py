"""What `gridweave serve` hands uvicorn besides the app."""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class _NoDelay:
    """Nagle's algorithm off on every connection.

    With several workers uvicorn shares a socket made from a file descriptor, which asyncio does
    not recognise as TCP, so it leaves Nagle on: a response written in two parts then waits for
    the client's delayed ACK, 40 ms on Linux, on every request.
    """

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError, AttributeError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)  # type: ignore[misc]


class NoDelayHttpToolsProtocol(_NoDelay, HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol on httptools (C, llhttp), without Nagle: what serve uses."""


class NoDelayH11Protocol(_NoDelay, H11Protocol):
    """uvicorn's pure-Python HTTP/1.1 protocol (h11), without Nagle."""
