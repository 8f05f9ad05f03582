"""Symmetric RTP latching rules: advertised IP only, probation, no takeover of a live source."""

from custom_components.cloud_sip_ua.cloudsipua.media.latching import (
    ALTERNATE_PORT_WAIT,
    CURRENT,
    MAX_CANDIDATES,
    NEW_SOURCE,
    PORT_SILENCE,
    PROBATION,
    PROBATION_PACKETS,
    SSRC_SILENCE,
    Address,
    SourceGuard,
)

ADVERTISED = ("192.0.2.1", 5000)
NAT_PORT = ("192.0.2.1", 6000)


def feed(
    guard: SourceGuard,
    source: Address,
    ssrc: int,
    first_seq: int,
    now: float,
    count: int = PROBATION_PACKETS,
) -> list[int]:
    """Feed `count` in-sequence packets 20 ms apart; return the verdicts."""
    return [
        guard.check(source, ssrc, (first_seq + i) & 0xFFFF, now + i * 0.02)
        for i in range(count)
    ]


def current_ssrc(guard: SourceGuard) -> int | None:
    """Return the current SSRC (a call, so type checkers do not keep an earlier narrowing)."""
    return guard.ssrc


def muxed(guard: SourceGuard) -> bool:
    """Return whether RTCP is muxed (a call, for the same reason)."""
    return guard.rtcp_muxed


def latched(guard: SourceGuard, source: Address = ADVERTISED, ssrc: int = 1) -> None:
    """Latch `guard` onto `source` at time 0."""
    assert feed(guard, source, ssrc, 100, 0.0)[-1] == NEW_SOURCE


def test_nothing_is_accepted_before_an_address_is_advertised() -> None:
    """Until the answer names the remote party, no stranger gets in and nothing is sent."""
    guard = SourceGuard()
    assert not guard.admits(("127.0.0.1", 4000))
    assert guard.latched is None
    assert guard.rtcp_target is None
    assert not guard.rtcp_accepts(("127.0.0.1", 4001), muxed=False)


def test_only_the_advertised_ip_is_admitted() -> None:
    """Other IPs are foreign; the advertised IP's spellings all match."""
    guard = SourceGuard()
    guard.advertise(("::ffff:192.0.2.1", 5000), 0.0)
    assert guard.advertised == ADVERTISED
    assert guard.admits(ADVERTISED)
    assert guard.admits(("::ffff:192.0.2.1", 7000))
    assert not guard.admits(("198.51.100.7", 5000))
    v6 = SourceGuard()
    v6.advertise(("2001:db8:0::1", 5000), 0.0)
    assert v6.admits(("2001:db8::1", 5000))
    assert not v6.admits(("2001:db8::2", 5000))
    guard.advertise(None, 1.0)
    assert not guard.admits(ADVERTISED)


def test_probation_before_latching() -> None:
    """A source latches after PROBATION_PACKETS in sequence; a gap restarts the count."""
    guard = SourceGuard()
    guard.advertise(ADVERTISED, 0.0)
    assert guard.check(ADVERTISED, 1, 10, 0.0) == PROBATION
    assert guard.check(ADVERTISED, 1, 12, 0.02) == PROBATION  # a gap: start again
    assert guard.check(ADVERTISED, 1, 13, 0.04) == PROBATION
    assert guard.ssrc is None
    assert guard.check(ADVERTISED, 1, 14, 0.06) == NEW_SOURCE
    assert guard.latched == ADVERTISED
    assert current_ssrc(guard) == 1
    assert guard.check(ADVERTISED, 1, 15, 0.08) == CURRENT
    # Sequence checks beyond probation are the reception statistics' job.
    assert guard.check(ADVERTISED, 1, 3000, 0.1) == CURRENT
    # Wrapping sequence numbers count as in sequence.
    wrapped = SourceGuard()
    wrapped.advertise(ADVERTISED, 0.0)
    assert feed(wrapped, ADVERTISED, 7, 0xFFFF, 0.0)[-1] == NEW_SOURCE


def test_a_stray_ssrc_never_takes_over_a_live_source() -> None:
    """Another SSRC on the latched address waits until the current one is quiet."""
    guard = SourceGuard()
    guard.advertise(ADVERTISED, 0.0)
    latched(guard)
    now = 0.1
    for seq in range(200):  # a spoofer keeps sending in sequence while the remote talks
        assert guard.check(ADVERTISED, 2, seq, now) == PROBATION
        assert guard.check(ADVERTISED, 1, 103 + seq, now) == CURRENT
        now += 0.02
    assert guard.ssrc == 1
    # The remote changes SSRC for real: the old one stops, the new one takes over later.
    assert feed(guard, ADVERTISED, 3, 50, now)[-1] == PROBATION
    assert guard.check(ADVERTISED, 3, 53, now + SSRC_SILENCE) == NEW_SOURCE
    assert guard.ssrc == 3
    assert guard.check(ADVERTISED, 1, 400, now + 1) == PROBATION


def test_alternate_port_waits_for_the_advertised_one() -> None:
    """Another port of the advertised IP latches only when the advertised port stays silent."""
    guard = SourceGuard()
    guard.advertise(ADVERTISED, 10.0)
    assert feed(guard, NAT_PORT, 5, 0, 10.0, count=20)[-1] == PROBATION
    # The advertised port speaks: it wins at once, the early sprayer never latches.
    assert feed(guard, ADVERTISED, 1, 0, 10.5)[-1] == NEW_SOURCE
    assert guard.latched == ADVERTISED
    # Behind NAT the advertised port never speaks: the other port latches after the wait.
    nat = SourceGuard()
    nat.advertise(ADVERTISED, 10.0)
    assert nat.check(ADVERTISED, 1, 0, 10.1) == PROBATION  # a stray from the right port
    assert feed(nat, NAT_PORT, 5, 0, 10.2)[-1] == PROBATION
    assert nat.check(NAT_PORT, 5, 3, 10.1 + ALTERNATE_PORT_WAIT) == NEW_SOURCE
    assert nat.latched == NAT_PORT
    # The advertised port outranks the learnt one as soon as it proves itself.
    assert feed(nat, ADVERTISED, 1, 50, 20.0)[-1] == NEW_SOURCE
    assert nat.latched == ADVERTISED


def test_port_change_only_after_silence() -> None:
    """Once latched on the advertised port, another port takes over only after PORT_SILENCE."""
    guard = SourceGuard()
    guard.advertise(ADVERTISED, 0.0)
    latched(guard)
    assert feed(guard, NAT_PORT, 1, 0, 0.5)[-1] == PROBATION
    assert guard.check(ADVERTISED, 1, 103, 0.6) == CURRENT
    assert guard.check(NAT_PORT, 1, 3, 0.6 + PORT_SILENCE - 0.01) == PROBATION
    assert guard.check(NAT_PORT, 1, 4, 0.6 + PORT_SILENCE) == NEW_SOURCE
    assert guard.latched == NAT_PORT


def test_candidates_are_bounded() -> None:
    """A spray of SSRCs keeps at most MAX_CANDIDATES on probation; the stalest go first."""
    guard = SourceGuard()
    guard.advertise(ADVERTISED, 0.0)
    guard.check(ADVERTISED, 1, 0, 0.0)
    guard.check(ADVERTISED, 1, 1, 0.0)
    for ssrc in range(100, 100 + MAX_CANDIDATES - 1):
        guard.check(ADVERTISED, ssrc, 0, 0.0)
    assert guard.check(ADVERTISED, 1, 2, 0.0) == NEW_SOURCE  # still tracked
    assert guard.latched == ADVERTISED
    evicting = SourceGuard()
    evicting.advertise(ADVERTISED, 0.0)
    evicting.check(ADVERTISED, 1, 0, 0.0)
    evicting.check(ADVERTISED, 1, 1, 0.0)
    for ssrc in range(100, 100 + MAX_CANDIDATES):
        evicting.check(ADVERTISED, ssrc, 0, 0.0)
    assert evicting.check(ADVERTISED, 1, 2, 0.0) == PROBATION  # evicted: starts again


def test_rtcp_follows_the_latched_source() -> None:
    """RTCP comes from and goes to the latched IP: RTP port + 1, the RTP port, or muxed."""
    guard = SourceGuard()
    guard.advertise(ADVERTISED, 0.0)
    assert not guard.rtcp_accepts(("192.0.2.1", 5001), muxed=False)  # not latched yet
    latched(guard)
    assert guard.rtcp_target == ("192.0.2.1", 5001)
    assert guard.rtcp_accepts(("192.0.2.1", 5001), muxed=False)
    assert guard.rtcp_accepts(ADVERTISED, muxed=False)
    assert not guard.rtcp_accepts(("192.0.2.1", 5003), muxed=False)
    assert not guard.rtcp_accepts(("198.51.100.7", 5001), muxed=False)
    assert not guard.rtcp_accepts(("192.0.2.1", 5001), muxed=True)
    guard.rtcp_valid(ADVERTISED, muxed=False)  # RTCP from the RTP port: answer there
    assert guard.rtcp_target == ADVERTISED
    assert not guard.rtcp_muxed
    assert guard.rtcp_accepts(ADVERTISED, muxed=True)
    guard.rtcp_valid(ADVERTISED, muxed=True)
    assert muxed(guard)
    assert guard.rtcp_target == ADVERTISED


def test_rtcp_port_is_learnt_behind_nat() -> None:
    """With the RTP source on another port, the first valid RTCP port of that IP is learnt."""
    guard = SourceGuard()
    guard.advertise(ADVERTISED, 0.0)
    assert feed(guard, NAT_PORT, 5, 0, ALTERNATE_PORT_WAIT)[-1] == NEW_SOURCE
    assert guard.rtcp_target == ("192.0.2.1", 6001)
    assert guard.rtcp_accepts(("192.0.2.1", 7777), muxed=False)
    guard.rtcp_valid(("192.0.2.1", 7777), muxed=False)
    assert guard.rtcp_target == ("192.0.2.1", 7777)
    assert guard.rtcp_accepts(("192.0.2.1", 7777), muxed=False)
    assert not guard.rtcp_accepts(("192.0.2.1", 8888), muxed=False)
    # A new source forgets what was learnt about the old one.
    assert feed(guard, ADVERTISED, 1, 0, 10.0)[-1] == NEW_SOURCE
    assert guard.rtcp_target == ("192.0.2.1", 5001)
