"""Symmetric RTP latching: listen to and answer only the advertised IP, proven by probation."""

from __future__ import annotations

from .addresses import normalize_host

type Address = tuple[str, int]

# Rules (issue 19, "A hostile internet"; RFC 3550 A.1 probation, tightened against attackers):
#
# - Only packets from the advertised IP are considered; every other IP is foreign.
# - A source is an (address, SSRC) pair. A new one is on probation until it delivered
#   PROBATION_PACKETS packets with consecutive sequence numbers; probationary packets are not
#   played, carry no DTMF and never disturb the current source (its jitter buffer stays).
# - Nothing is sent before a source is latched, so a forged advertisement cannot make us
#   reflect a stream at a victim that never sent us anything.
# - The advertised port is authoritative: a source on it replaces a source on another port as
#   soon as it passed probation. Another port of the advertised IP (the remote is behind NAT)
#   latches only after the advertised port stayed silent for ALTERNATE_PORT_WAIT since the
#   advertisement, so an attacker on the same IP spraying early cannot win the race.
# - Once latched, a new SSRC on the same address replaces the current one only after the
#   current one went quiet for SSRC_SILENCE, and another port only after PORT_SILENCE: an
#   attacker can never take over a remote that keeps sending.
# - RTCP is accepted from the latched IP only: the latched RTP address (RFC 5761 muxing, or
#   RTCP sent from the RTP port), RTP port + 1, or, when the RTP source is not on the advertised
#   port (NAT), the first port of that IP that sends valid RTCP.
# - Left open without SRTP: a blind attacker who spoofs the remote's exact IP and port, and
#   finds our port, can race its first packets or take over once it goes quiet (on hold).
#   It never receives our audio (that goes to the real IP); SRTP drops its packets before
#   any of this runs.

# RFC 3550 A.1 MIN_SEQUENTIAL is 2; one more costs only 20 ms.
PROBATION_PACKETS = 3
# Seconds the current source must be quiet before a new SSRC on its address takes over,
SSRC_SILENCE = 0.5
# ... and before another port of the advertised IP takes over.
PORT_SILENCE = 2.0
# Seconds the advertised port may stay silent after the advertisement before NAT is assumed.
ALTERNATE_PORT_WAIT = 2.0
# Sources on probation at once; a spray of SSRCs or ports evicts the stalest.
MAX_CANDIDATES = 8

# Verdicts of SourceGuard.check: play it; it replaced the current source (restart, then play
# it); hold it back, not (yet) trusted.
CURRENT = 0
NEW_SOURCE = 1
PROBATION = 2

type _Key = tuple[str, int, int]  # host, port, SSRC


class _Candidate:
    """A source on probation: its last sequence number and how many followed in order."""

    __slots__ = ("count", "last_seq")

    def __init__(self, seq: int) -> None:
        """Start probation with one packet."""
        self.last_seq = seq
        self.count = 1

    def feed(self, seq: int) -> int:
        """Account one more packet; return how many arrived in sequence so far."""
        self.count = self.count + 1 if seq == (self.last_seq + 1) & 0xFFFF else 1
        self.last_seq = seq
        return self.count


class SourceGuard:
    """Chooses the remote RTP source and RTCP address; nothing is trusted before probation."""

    # What every packet reads comes first: adjacent in memory, one cache line.
    __slots__ = (
        "host",
        "_ssrc",
        "_latched_port",
        "_last_heard",
        "latched",
        "_advertised",
        "_candidates",
        "_latched_key",
        "_preferred_heard_at",
        "_rtcp",
        "_rtcp_muxed",
        "advertised_at",
    )

    def __init__(self) -> None:
        """Start with nothing advertised: every packet is foreign."""
        self._advertised: Address | None = None
        # The advertised IP as normalize_host spells it (read only): a packet from exactly
        # this string is admitted without a call (the packet path's shortcut).
        self.host: str | None = None
        self.advertised_at = 0.0
        self._preferred_heard_at: float | None = None
        self._candidates: dict[_Key, _Candidate] = {}
        # The latched address spelt like the advertised one (to compare), and as the socket
        # reports it (to send to).
        self._latched_key: Address | None = None
        self._latched_port: int | None = None  # the port of _latched_key
        self.latched: Address | None = None
        self._ssrc: int | None = None
        self._last_heard = 0.0
        self._rtcp: Address | None = None
        self._rtcp_muxed = False

    @property
    def advertised(self) -> Address | None:
        """Return the advertised remote RTP address."""
        return self._advertised

    @property
    def rtcp_muxed(self) -> bool:
        """Tell whether the latched source sends RTCP on its RTP port (RFC 5761)."""
        return self._rtcp_muxed

    @property
    def ssrc(self) -> int | None:
        """Return the SSRC of the current source."""
        return self._ssrc

    def advertise(self, address: Address | None, now: float) -> None:
        """Set (or clear) the advertised address; anything learnt about an earlier one is dropped."""
        if address is None:
            self._advertised = self.host = None
        else:
            self.host = normalize_host(address[0])
            self._advertised = (self.host, address[1])
        self.advertised_at = now
        self._preferred_heard_at = None
        self._candidates.clear()
        self._latched_key = self.latched = self._latched_port = None
        self._ssrc = None
        self._rtcp = None
        self._rtcp_muxed = False

    def _same_host(self, host: str) -> bool:
        """Tell whether `host` is the advertised IP (socket and SDP spellings may differ)."""
        advertised = self.host
        return advertised is not None and (
            host == advertised or normalize_host(host) == advertised
        )

    def admits(self, source: Address) -> bool:
        """Tell whether a packet from `source` is worth examining (cheap, before any crypto)."""
        return self._same_host(source[0])

    def check(self, source: Address, ssrc: int, seq: int, now: float) -> int:
        """Classify a valid (and authenticated) RTP packet: CURRENT, NEW_SOURCE or PROBATION."""
        # The latched key's host is always the advertised one (admits() checked the source's),
        # so the current source is told by its port and SSRC alone.
        if ssrc == self._ssrc and source[1] == self._latched_port:
            self._last_heard = now
            return CURRENT
        advertised = self._advertised
        assert advertised is not None  # admits() let the packet in
        address = (advertised[0], source[1])
        if address == advertised:
            self._preferred_heard_at = now
        key = (address[0], address[1], ssrc)
        candidate = self._candidates.get(key)
        if candidate is None:
            if len(self._candidates) >= MAX_CANDIDATES:
                del self._candidates[next(iter(self._candidates))]
            candidate = self._candidates[key] = _Candidate(seq)
            count = 1
        else:
            count = candidate.feed(seq)
            # Most recently active last, so eviction drops the stalest.
            del self._candidates[key]
            self._candidates[key] = candidate
        if count < PROBATION_PACKETS or not self._may_take_over(address, now):
            return PROBATION
        if address != self._latched_key:
            self._rtcp = None
            self._rtcp_muxed = False
        self._latched_key = address
        self._latched_port = address[1]
        self.latched = (source[0], source[1])
        self._ssrc = ssrc
        self._last_heard = now
        self._candidates.clear()
        return NEW_SOURCE

    def _may_take_over(self, address: Address, now: float) -> bool:
        """Tell whether a source that passed probation at `address` may replace the current one."""
        advertised = self._advertised
        latched = self._latched_key
        if latched is None:
            if address == advertised:
                return True
            heard = self._preferred_heard_at
            quiet_since = self.advertised_at if heard is None else heard
            return now - quiet_since >= ALTERNATE_PORT_WAIT
        if address == latched:
            return now - self._last_heard >= SSRC_SILENCE
        if address == advertised:
            return True  # the advertised port outranks a port learnt behind NAT
        return now - self._last_heard >= PORT_SILENCE

    # ---- RTCP -----------------------------------------------------------------------------

    @property
    def rtcp_target(self) -> Address | None:
        """Return where to send RTCP: nowhere before an RTP source is latched."""
        latched = self.latched
        if latched is None:
            return None
        if self._rtcp_muxed:
            return latched
        if self._rtcp is not None:
            return self._rtcp
        return (latched[0], latched[1] + 1)

    def rtcp_accepts(self, source: Address, *, muxed: bool) -> bool:
        """Tell whether RTCP from `source` (on the RTP port if `muxed`) may be examined."""
        latched = self._latched_key
        if latched is None or not self._same_host(source[0]):
            return False
        port = source[1]
        if muxed:
            return port == latched[1]
        if port in (latched[1], latched[1] + 1) or port == self._rtcp_port():
            return True
        # Behind NAT the RTCP port is anybody's guess: the first valid one is learnt.
        return self._rtcp is None and latched != self._advertised

    def _rtcp_port(self) -> int | None:
        """Return the learnt RTCP port, if any."""
        return None if self._rtcp is None else self._rtcp[1]

    def rtcp_valid(self, source: Address, *, muxed: bool) -> None:
        """Note that valid RTCP arrived from an accepted `source`: reply where it came from."""
        latched = self.latched
        assert latched is not None  # rtcp_accepts() let the packet in
        if muxed:
            self._rtcp_muxed = True
        elif self._rtcp is None:
            self._rtcp = (latched[0], source[1])
