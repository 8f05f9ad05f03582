"""Raw UDP helpers for session tests: a packet recorder/sender and an impairing proxy."""

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib

type Address = tuple[str, int]


class RawPeer(asyncio.DatagramProtocol):
    """A bare UDP socket on 127.0.0.1 that records what it receives."""

    def __init__(self) -> None:
        """Start with nothing received."""
        self.received: list[tuple[bytes, Address]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Address) -> None:
        """Record a datagram."""
        self.received.append((data, addr))

    @property
    def address(self) -> Address:
        """Return the bound address."""
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return host, port

    def send(self, data: bytes, addr: Address) -> None:
        """Send one datagram."""
        assert self.transport is not None
        self.transport.sendto(data, addr)

    def close(self) -> None:
        """Close the socket."""
        if self.transport is not None:
            self.transport.close()


async def open_peer[P: asyncio.DatagramProtocol](
    factory: Callable[[], P], host: str = "127.0.0.1"
) -> P:
    """Bind a protocol to an ephemeral port on `host` (any 127.x.y.z is loopback on Linux)."""
    loop = asyncio.get_running_loop()
    _transport, protocol = await loop.create_datagram_endpoint(
        factory, local_addr=(host, 0)
    )
    return protocol


class ImpairingProxy(RawPeer):
    """Relays between a client and `target`, dropping, duplicating, reordering or corrupting some.

    Datagrams from `target` go back to the last client address, so symmetric latching on both
    sides keeps all traffic flowing through the proxy.
    """

    def __init__(
        self,
        target: Address,
        *,
        drop_every: int = 0,
        duplicate_every: int = 0,
        swap_every: int = 0,
        corrupt_every: int = 0,
    ) -> None:
        """Configure the impairments (0 disables one)."""
        super().__init__()
        self.target = target
        self.drop_every = drop_every
        self.duplicate_every = duplicate_every
        self.swap_every = swap_every
        self.corrupt_every = corrupt_every
        self.count = 0
        self.client: Address | None = None
        self._held: bytes | None = None

    def datagram_received(self, data: bytes, addr: Address) -> None:
        """Forward with impairments (client to target), or relay back unchanged."""
        if addr == self.target:
            if self.client is not None:
                self.send(data, self.client)
            return
        self.client = addr
        self.count += 1
        count = self.count
        if self.drop_every and count % self.drop_every == 0:
            return
        if self.corrupt_every and count % self.corrupt_every == 0:
            corrupted = bytearray(data)
            corrupted[-1] ^= 0xFF
            data = bytes(corrupted)
        if self.swap_every and count % self.swap_every == 0 and self._held is None:
            self._held = data  # sent after the next packet
            return
        self.send(data, self.target)
        if self._held is not None:
            self.send(self._held, self.target)
            self._held = None
        if self.duplicate_every and count % self.duplicate_every == 0:
            self.send(data, self.target)


@contextlib.asynccontextmanager
async def raw_peer(host: str = "127.0.0.1") -> AsyncIterator[RawPeer]:
    """Yield a RawPeer on `host` and close it afterwards."""
    peer = await open_peer(RawPeer, host)
    try:
        yield peer
    finally:
        peer.close()
        await asyncio.sleep(0)
