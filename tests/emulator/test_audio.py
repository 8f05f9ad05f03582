"""The remote party's audio checked by FFT: its tone comes back from a loopback reflector."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from typing import Any

import pytest

from custom_components.cloud_sip_ua.cloudsipua.media import MediaSession, answer_crypto
from custom_components.cloud_sip_ua.cloudsipua.models import Codec, CryptoEntry
from emulator import EmulatedCall, Emulator
from tests.audio_check import tone_report
from tests.waiting import wait_until

from .conftest import ApiCall
from .helpers import CallbackReceiver

# Seconds of reflected audio analysed, after skipping the silence before it arrives.
ANALYSED_SECONDS = 1.0
SKIPPED_SECONDS = 0.4


class _Echo(asyncio.DatagramProtocol):
    """Sends every datagram straight back to where it came from."""

    transport: asyncio.DatagramTransport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        """Echo."""
        self.transport.sendto(data, addr)


@contextlib.asynccontextmanager
async def udp_echo() -> AsyncIterator[int]:
    """Run a raw UDP echo on loopback; yield its port."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        _Echo, local_addr=("127.0.0.1", 0)
    )
    try:
        yield transport.get_extra_info("sockname")[1]
    finally:
        transport.close()


@contextlib.asynccontextmanager
async def session_reflector(codec: Codec) -> AsyncIterator[MediaSession]:
    """Run a media session that sends back every frame it decodes."""
    session = MediaSession(
        codec=codec,
        bind_host="127.0.0.1",
        port_range=(46000, 47999),
        inactivity_timeout=None,
    )
    await session.start()
    subscription = session.subscribe(8000)

    async def reflect() -> None:
        async for frame in subscription:
            session.enqueue_audio(frame, 8000)

    task = asyncio.create_task(reflect())
    try:
        yield session
    finally:
        subscription.close()
        await session.close()
        await task


async def heard_back(call: EmulatedCall) -> bytes:
    """Wait until the remote party has heard enough of its own tone; return that part."""
    wanted = int((SKIPPED_SECONDS + ANALYSED_SECONDS) * 16000)
    await wait_until(
        lambda: len(call.remote_party.recorded_pcm()) >= wanted,
        10,
        "the tone heard back",
    )
    return call.remote_party.recorded_pcm()[int(SKIPPED_SECONDS * 16000) : wanted]


def assert_one_khz(pcm: bytes) -> None:
    """Check the peak is 1 kHz +- 10 Hz with at least 30 dB SNR."""
    frequency, snr = tone_report(pcm)
    assert abs(frequency - 1000.0) <= 10, frequency
    assert snr >= 30, snr


@pytest.mark.parametrize("srtp", [False, True], ids=["rtp", "srtp"])
@pytest.mark.parametrize("codec", [Codec.PCMA, Codec.PCMU])
async def test_tone_through_a_session_reflector(
    emulator: Emulator,
    receiver: CallbackReceiver,
    api: ApiCall,
    codec: Codec,
    srtp: bool,
) -> None:
    """A device-side media session decodes the tone and sends it back re-encoded."""
    call = await emulator.ring(codec=codec, srtp=srtp, tone_hz=1000.0)
    offer = receiver.named("newRemoteCall")[0].body
    async with session_reflector(codec) as reflector:
        body: dict[str, Any] = {
            "replyId": offer["replyId"],
            "receiveIp": "127.0.0.1",
            "receivePort": reflector.local_port,
            "codec": codec.value,
        }
        if srtp:
            offered = [
                CryptoEntry(e["suite"], e["id"], e["config"]) for e in offer["crypto"]
            ]
            pair = answer_crypto(offered)
            assert pair is not None
            remote, local = pair
            reflector.enable_srtp(local=local, remote=remote)
            body["crypto"] = [local.to_json()]
        assert await api("answerremotecalljwt", body) == (200, {"success": True})
        reflector.set_remote(offer["remoteRtpIp"], offer["remoteRtpPort"])
        assert_one_khz(await heard_back(call))
        stats = call.remote_party.stats
        assert stats.srtp_auth_failures == 0
        assert stats.lost == 0
        assert reflector.stats.srtp_auth_failures == 0
    await emulator.remote_hangup(call.call_id)


@pytest.mark.parametrize("srtp", [False, True], ids=["rtp", "srtp"])
@pytest.mark.parametrize("codec", [Codec.PCMA, Codec.PCMU])
async def test_tone_through_a_udp_echo(
    emulator: Emulator,
    receiver: CallbackReceiver,
    api: ApiCall,
    codec: Codec,
    srtp: bool,
) -> None:
    """A raw UDP echo returns the very packets; with SRTP the answer reuses the offered key."""
    call = await emulator.ring(codec=codec, srtp=srtp, tone_hz=1000.0)
    offer = receiver.named("newRemoteCall")[0].body
    async with udp_echo() as port:
        body: dict[str, Any] = {
            "replyId": offer["replyId"],
            "receiveIp": "127.0.0.1",
            "receivePort": port,
            "codec": codec.value,
        }
        if srtp:
            # The echo cannot re-encrypt, so it "answers" with the offered key itself.
            body["crypto"] = offer["crypto"]
        assert await api("answerremotecalljwt", body) == (200, {"success": True})
        assert_one_khz(await heard_back(call))
        assert call.remote_party.stats.srtp_auth_failures == 0
    await emulator.remote_hangup(call.call_id)
