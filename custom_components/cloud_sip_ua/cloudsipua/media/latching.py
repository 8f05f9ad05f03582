"""Symmetric RTP latching: send where the remote really sends from, ignore everybody else."""

from __future__ import annotations

type Address = tuple[str, int]


class Latch:
    """Holds the send target: the advertised address until the first valid packet latches it."""

    __slots__ = ("advertised", "latched")

    def __init__(self) -> None:
        """Start with neither an advertised nor a latched address."""
        self.advertised: Address | None = None
        self.latched: Address | None = None

    @property
    def target(self) -> Address | None:
        """Return where to send: the latched source, else the advertised address."""
        return self.latched or self.advertised

    def accepts(self, source: Address) -> bool:
        """Tell whether a packet from `source` may be processed (cheap, before any crypto).

        Nothing is accepted before a remote address is advertised: until the call's answer
        says who the remote party is, a stranger must not be able to capture the stream.
        """
        latched = self.latched
        if latched is None:
            return self.advertised is not None
        return latched == source

    def latch(self, source: Address) -> None:
        """Latch onto the source of a valid (and, with SRTP, authenticated) packet."""
        if self.latched is None:
            self.latched = (source[0], source[1])
