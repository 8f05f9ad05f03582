"""Symmetric RTP latching rules."""

from custom_components.cloud_sip_ua.cloudsipua.media.latching import Latch


def test_nothing_is_accepted_before_an_address_is_advertised() -> None:
    """Until the answer names the remote party, no stranger can capture the stream."""
    latch = Latch()
    assert not latch.accepts(("127.0.0.1", 4000))
    assert latch.target is None


def test_latches_onto_the_first_source_then_ignores_others() -> None:
    """Send to the advertised address, then to where valid packets really come from."""
    latch = Latch()
    latch.advertised = ("192.0.2.1", 5000)
    assert latch.target == ("192.0.2.1", 5000)
    assert latch.accepts(("198.51.100.7", 6000))
    latch.latch(("198.51.100.7", 6000))
    assert latch.target == ("198.51.100.7", 6000)
    assert latch.accepts(("198.51.100.7", 6000))
    assert not latch.accepts(("192.0.2.1", 5000))
    latch.latch(("203.0.113.9", 7000))
    assert latch.target == ("198.51.100.7", 6000)
