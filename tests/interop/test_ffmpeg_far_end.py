"""ffmpeg as the far end of whole calls through Home Assistant, plain and SRTP.

The emulator only does the signalling here. The audio Home Assistant hears is made by ffmpeg
(a sine, PCMA, optionally SRTP with `-srtp_out_suite`), and what Home Assistant sends is
received by a second ffmpeg from an SDP file and written to a WAV. Nothing of our media code
runs at the far end. Between them stands a byte relay on the address the call advertises, so
that the far end sends and receives on one port (symmetric RTP), which ffmpeg's two processes
cannot do alone; it forwards datagrams and reads none of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
import socket
from typing import Any
import wave

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.const import CONF_SRTP_PLACED_CALLS
from emulator import Emulator, payloads
from homeassistant.core import HomeAssistant
from tests.audio_check import tone_pcm, tone_report
from tests.integration.helpers import action, collect_call_audio
from tests.waiting import wait_until

FAR_END_HZ = 700.0
HOME_HZ = 1000.0
SUITE = "AES_CM_128_HMAC_SHA1_80"


@dataclass
class Relay:
    """Forwards the far end's datagrams to Home Assistant from one port, and back."""

    advertised: socket.socket = field(init=False)
    inbound: socket.socket = field(init=False)
    home: tuple[str, int] | None = None
    far_end_receiver: tuple[str, int] | None = None
    forwarded: int = 0
    returned: int = 0

    def __post_init__(self) -> None:
        """Bind the advertised port and the port ffmpeg sends to."""
        self.advertised = _udp()
        self.inbound = _udp()

    @property
    def port(self) -> int:
        """Return the port the call advertises (where Home Assistant sends)."""
        return int(self.advertised.getsockname()[1])

    @property
    def inbound_port(self) -> int:
        """Return the port ffmpeg's sender sends to."""
        return int(self.inbound.getsockname()[1])

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Forward in both directions from now on."""
        loop.add_reader(self.inbound, self._from_far_end)
        loop.add_reader(self.advertised, self._from_home)

    def _from_far_end(self) -> None:
        data = self.inbound.recv(4096)
        if self.home is not None:
            self.advertised.sendto(data, self.home)
            self.forwarded += 1

    def _from_home(self) -> None:
        data = self.advertised.recv(4096)
        if self.far_end_receiver is not None:
            self.advertised.sendto(data, self.far_end_receiver)
            self.returned += 1

    def close(self, loop: asyncio.AbstractEventLoop) -> None:
        """Stop forwarding and free the ports."""
        loop.remove_reader(self.inbound)
        loop.remove_reader(self.advertised)
        self.inbound.close()
        self.advertised.close()


def _udp() -> socket.socket:
    """Return a non-blocking UDP socket on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    return sock


def _free_even_port() -> int:
    """Return a free even port whose odd neighbour is free too (ffmpeg's RTP/RTCP pair)."""
    for _ in range(50):
        with _udp() as probe:
            port = probe.getsockname()[1] & ~1
        with contextlib.suppress(OSError), _udp_at(port), _udp_at(port + 1):
            return port
    raise RuntimeError("no free port pair")


def _udp_at(port: int) -> socket.socket:
    """Return a UDP socket bound to a given loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    return sock


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    """Run a relay for one call."""
    loop = asyncio.get_running_loop()
    forwarder = Relay()
    forwarder.start(loop)
    yield forwarder
    forwarder.close(loop)


async def _ffmpeg_receiver(
    folder: Path, port: int, seconds: float, key: str | None
) -> tuple[asyncio.subprocess.Process, Path]:
    """Start ffmpeg receiving PCMA (SRTP with `key`) on `port` into a WAV file."""
    crypto = f"a=crypto:1 {SUITE} inline:{key}\n" if key else ""
    sdp = folder / "home.sdp"
    sdp.write_text(
        "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=home\nc=IN IP4 127.0.0.1\nt=0 0\n"
        f"m=audio {port} RTP/{'SAVP' if key else 'AVP'} 8\na=rtpmap:8 PCMA/8000\n{crypto}",
        encoding="utf-8",
    )
    wav = folder / "heard.wav"
    process = await asyncio.create_subprocess_exec(
        "ffmpeg", "-hide_banner", "-loglevel", "error",
        "-protocol_whitelist", "file,udp,rtp,srtp", "-i", str(sdp),
        "-t", str(seconds), "-y", str(wav),
    )  # fmt: skip
    return process, wav


async def _ffmpeg_sender(port: int, seconds: float, key: str | None) -> Any:
    """Start ffmpeg sending a sine as PCMA (SRTP with `key`) to `port`."""
    srtp = ["-srtp_out_suite", SUITE, "-srtp_out_params", key] if key else []
    scheme = "srtp" if key else "rtp"
    return await asyncio.create_subprocess_exec(
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
        "-f", "lavfi", "-i", f"sine=frequency={FAR_END_HZ:g}:sample_rate=8000:duration={seconds:g}",
        "-c:a", "pcm_alaw", "-ar", "8000", "-ac", "1", "-f", "rtp", *srtp,
        f"{scheme}://127.0.0.1:{port}?pkt_size={172 + (10 if key else 0)}",
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


def _inline_key(config: str) -> str:
    """Return the base64 key||salt of an SDES `inline:` config."""
    return config.removeprefix("inline:").split("|", 1)[0]


async def _talk_both_ways(
    entry: MockConfigEntry,
    relay: Relay,
    tmp_path: Path,
    *,
    far_end_key: str | None,
    home_key: str | None,
) -> None:
    """Run both ffmpegs against the connected call and check what each side heard."""
    manager = entry.runtime_data.manager
    call = manager.current_call
    assert call is not None
    assert call.media is not None
    relay.home = ("127.0.0.1", call.media.local_port)
    receiver_port = _free_even_port()
    relay.far_end_receiver = ("127.0.0.1", receiver_port)
    receiver, wav = await _ffmpeg_receiver(tmp_path, receiver_port, 3.0, home_key)
    sender = await _ffmpeg_sender(relay.inbound_port, 5.0, far_end_key)
    try:
        # Home Assistant speaks only once the far end's packets proved it (latching).
        await wait_until(lambda: call.media.latched_address is not None, timeout=5)
        playing = asyncio.create_task(
            manager.media_of().play_audio(tone_pcm(HOME_HZ, 4.0), 8000)
        )
        heard = await collect_call_audio(entry, 1.5, settle=0.5)
        async with asyncio.timeout(15):
            assert await receiver.wait() == 0
        playing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await playing
    finally:
        for process in (sender, receiver):
            if process.returncode is None:
                process.kill()
                await process.wait()
    frequency, snr = tone_report(heard)
    assert abs(frequency - FAR_END_HZ) <= 10, frequency
    assert snr >= 30, snr
    with wave.open(str(wav)) as recording:
        pcm = recording.readframes(recording.getnframes())
    # The first half second may be silence before our audio starts.
    frequency, snr = tone_report(pcm[8000:])
    assert abs(frequency - HOME_HZ) <= 10, frequency
    assert snr >= 20, snr
    assert relay.forwarded > 50
    assert relay.returned > 50


def _advertise(monkeypatch: pytest.MonkeyPatch, name: str, relay: Relay) -> None:
    """Make the emulator's callback `name` advertise the relay as the far end's media address."""
    original: Callable[..., dict[str, Any]] = getattr(payloads, name)

    def body(*args: Any, **kwargs: Any) -> dict[str, Any]:
        built = original(*args, **kwargs)
        built["remoteRtpIp"] = "127.0.0.1"
        built["remoteRtpPort"] = relay.port
        return built

    monkeypatch.setattr(payloads, name, body)


@pytest.mark.parametrize("srtp", [False, True], ids=["pcma", "srtp"])
async def test_incoming_call_with_ffmpeg_at_the_far_end(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    relay: Relay,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    srtp: bool,
) -> None:
    """A doorbell call: ffmpeg's 700 Hz reaches Home Assistant, our 1 kHz reaches ffmpeg."""
    _advertise(monkeypatch, "new_remote_call", relay)
    call = await emulator.ring(srtp=srtp)
    await action(hass, "answer")
    await emulator.wait_for_state(call.call_id, "connected")
    # The emulator's own far end stays silent: ffmpeg is the far end.
    await call.remote_party.close()
    ours = init_integration.runtime_data.manager.current_call
    assert ours is not None
    assert ours.srtp is srtp
    await _talk_both_ways(
        init_integration,
        relay,
        tmp_path,
        far_end_key=_inline_key(call.offered_crypto[0].config) if srtp else None,
        home_key=_inline_key(ours.local_crypto.config) if ours.local_crypto else None,
    )
    await action(hass, "hang_up")
    await emulator.wait_for_state(call.call_id, "ended")


@pytest.mark.parametrize("srtp", [False, True], ids=["pcma", "srtp"])
async def test_placed_call_with_ffmpeg_at_the_far_end(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    relay: Relay,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    srtp: bool,
) -> None:
    """An alarm call-out answered by ffmpeg: audio both ways, plain and SRTP."""
    if srtp:
        hass.config_entries.async_update_entry(
            init_integration,
            options={**init_integration.options, CONF_SRTP_PLACED_CALLS: True},
        )
        assert await hass.config_entries.async_reload(init_integration.entry_id)
    _advertise(monkeypatch, "call_answered", relay)
    await action(hass, "place_call", destination="sip:alarm@example.com", codec="PCMA")
    await wait_until(lambda: any(c.direction == "outgoing" for c in emulator.calls))
    placed = next(c for c in emulator.calls if c.direction == "outgoing")
    await emulator.wait_for_state(placed.call_id, "ringing")
    await emulator.remote_answer(placed.call_id)
    manager = init_integration.runtime_data.manager
    await wait_until(lambda: any(c.state == "connected" for c in manager.calls))
    await placed.remote_party.close()
    ours = manager.current_call
    assert ours is not None
    assert ours.srtp is srtp
    far_end_key = None
    if srtp:
        answered = next(
            r.body
            for r in emulator.callback_log
            if r.call_id == placed.call_id and r.name == "callAnswered"
        )
        far_end_key = _inline_key(answered["crypto"][0]["config"])
    await _talk_both_ways(
        init_integration,
        relay,
        tmp_path,
        far_end_key=far_end_key,
        home_key=_inline_key(ours.local_crypto.config) if ours.local_crypto else None,
    )
    await action(hass, "hang_up")
    await emulator.wait_for_state(placed.call_id, "ended")
