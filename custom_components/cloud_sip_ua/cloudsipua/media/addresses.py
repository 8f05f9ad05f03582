"""Which remote media addresses a session may talk to: no RTP reflected into private networks."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

type IPAddress = IPv4Address | IPv6Address

# Reasons RemoteAddressPolicy.refusal gives.
NOT_AN_IP = "not_an_ip"
BAD_PORT = "bad_port"
UNSPECIFIED = "unspecified"
MULTICAST = "multicast"
PRIVATE = "private"

_BROADCAST = IPv4Address("255.255.255.255")


def parse_ip(host: str) -> IPAddress | None:
    """Return `host` as an address (IPv4-mapped IPv6 as IPv4), or None if it is no IP literal."""
    try:
        # A scope id (fe80::1%eth0) only says which local interface: drop it.
        address = ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def normalize_host(host: str) -> str:
    """Return one spelling per address, so socket and SDP forms compare equal."""
    address = parse_ip(host)
    return host if address is None else str(address)


def is_non_public(address: IPAddress) -> bool:
    """Tell whether an address is not globally routable (private, loopback, link-local, CGNAT...)."""
    return not address.is_global


def private_remotes_allowed(media_address: str | None) -> bool:
    """Return the default policy: private remotes are fine unless our media address is public."""
    # A session on a LAN or loopback talks to private peers by design; one reachable from the
    # internet must not be talked into sending media to its own network. Unknown (None, no IP
    # literal, unspecified): allowed, as nothing tells us we are public.
    if media_address is None:
        return True
    address = parse_ip(media_address)
    if address is None or address.is_unspecified:
        return True
    return is_non_public(address)


class RemoteAddressPolicy:
    """Decides whether an advertised remote media address may be used at all."""

    __slots__ = ("allow_private",)

    def __init__(self, *, allow_private: bool) -> None:
        """Set whether private, loopback and other non-public remotes are acceptable."""
        self.allow_private = allow_private

    def refusal(self, host: str, port: int) -> str | None:
        """Return why (host, port) must not be used, or None when it may."""
        if not 0 < port < 65536:
            return BAD_PORT
        address = parse_ip(host)
        if address is None:
            return NOT_AN_IP  # a name would be resolved on the packet path, and never latches
        if address.is_unspecified:
            return UNSPECIFIED
        if address.is_multicast or address == _BROADCAST:
            return MULTICAST  # never a single peer: one call must not reach a whole network
        if not self.allow_private and is_non_public(address):
            return PRIVATE
        return None
