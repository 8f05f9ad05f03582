"""UDP plumbing of a media session: the RTP/RTCP port pair and the protocol feeding a handler."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
import random
import socket

from ..exceptions import NoFreePortError  # noqa: TID252  # the library stays relocatable
from .latching import Address

_LOGGER = logging.getLogger(__name__)


class Endpoint(asyncio.DatagramProtocol):
    """Hands the datagrams of one socket to a handler."""

    def __init__(self, on_datagram: Callable[[bytes, Address], None]) -> None:
        """Remember the handler."""
        self._on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr: Address) -> None:
        """Pass the datagram on."""
        self._on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        """Ignore ICMP errors (e.g. port unreachable before the remote party listens)."""
        _LOGGER.debug("RTP socket error: %s", exc)


def bind_pair(
    bind_host: str, port_range: tuple[int, int]
) -> tuple[socket.socket, socket.socket]:
    """Bind two UDP sockets on an even port and the next one, trying the range in turn."""
    low, high = port_range
    first = low + (low % 2)
    candidates = list(range(first, high, 2))  # port + 1 must stay within the range
    if not candidates:
        raise NoFreePortError(f"port range {low}-{high} holds no even port pair")
    # Start at a random place so concurrent sessions rarely race for the same pair.
    start = random.randrange(len(candidates))
    family = socket.AF_INET6 if ":" in bind_host else socket.AF_INET
    for port in candidates[start:] + candidates[:start]:
        rtp = _try_bind(family, bind_host, port)
        if rtp is None:
            continue
        rtcp = _try_bind(family, bind_host, port + 1)
        if rtcp is None:
            rtp.close()
            continue
        return rtp, rtcp
    raise NoFreePortError(f"no free RTP/RTCP port pair in {low}-{high}")


def _try_bind(
    family: socket.AddressFamily, host: str, port: int
) -> socket.socket | None:
    """Return a non-blocking UDP socket bound to `port`, or None if taken."""
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        return None
    sock.setblocking(False)
    return sock
