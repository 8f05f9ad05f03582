"""Listening on speakers: the signed stream URL with real Home Assistant HTTP and the emulator."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import io
import subprocess
import threading
import time

import aiohttp
import av
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.cloudsipua.call_manager import CallManager
from custom_components.cloud_sip_ua.intercom import listen_stream
from custom_components.cloud_sip_ua.intercom.listen import LISTEN_PATH, listen_url
from custom_components.cloud_sip_ua.intercom.listen_stream import (
    encode_mp3,
    mp3_command,
    wav_stream_header,
)
from emulator import Emulator
from homeassistant.components.http.auth import async_sign_path
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from tests.audio_check import tone_report
from tests.waiting import wait_until

from .helpers import action, answer_tone_call
from .speaker import SPEAKER_ENTITY_ID, async_setup_speaker


def manager_of(entry: MockConfigEntry) -> CallManager:
    """Return the loaded entry's call manager."""
    manager: CallManager = entry.runtime_data.manager
    return manager


async def _read_for(response: aiohttp.ClientResponse, seconds: float) -> bytes:
    """Read a streaming body for a while."""
    data = bytearray()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        data += await response.content.readany()
    return bytes(data)


def _decode_mp3(data: bytes) -> tuple[bytes, int]:
    """Decode MP3 bytes to 16-bit mono PCM."""
    with av.open(io.BytesIO(data), format="mp3") as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        pcm = bytearray()
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                pcm += out.to_ndarray().tobytes()
    return bytes(pcm), rate


@pytest.mark.parametrize(
    ("fmt", "rate"), [("wav", 16000), ("wav", 8000), ("mp3", 16000)]
)
async def test_stream_carries_the_callers_tone_and_ends_with_the_call(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    ha_base_url: str,
    fmt: str,
    rate: int,
) -> None:
    """The signed URL starts within a second, carries 440 Hz, and ends at hang-up."""
    await answer_tone_call(hass, init_integration, emulator)
    url = listen_url(
        hass, manager_of(init_integration), init_integration.entry_id, None, fmt
    )
    assert url.startswith(ha_base_url)
    if rate != 16000:
        path = url.removeprefix(ha_base_url).split("?")[0]
        url = ha_base_url + async_sign_path(
            hass, f"{path}?rate={rate}", timedelta(minutes=1), use_content_user=True
        )
    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        async with session.get(url) as response:
            assert response.status == 200
            first = await response.content.readany()
            first_byte_seconds = time.monotonic() - started
            assert first_byte_seconds < 1.0, first_byte_seconds
            body = first + await _read_for(response, 2.0)
            await action(hass, "hang_up")
            async with asyncio.timeout(5):
                body += await response.content.read()
    if fmt == "wav":
        assert response.headers["Content-Type"] == "audio/wav"
        assert body[:44] == wav_stream_header(rate)
        pcm, decoded_rate = body[44:], rate
    else:
        assert response.headers["Content-Type"] == "audio/mpeg"
        pcm, decoded_rate = _decode_mp3(body)
        assert decoded_rate == 16000
    frequency, snr = tone_report(pcm[-decoded_rate:], decoded_rate)
    assert abs(frequency - 440.0) <= 10, frequency
    assert snr >= 20, snr


async def test_refuses_unsigned_expired_and_unknown(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    ha_base_url: str,
) -> None:
    """No signature or an expired one: 401; unknown call, entry or rate: 404 / 400."""
    call_id = await answer_tone_call(hass, init_integration, emulator)
    entry_id = init_integration.entry_id
    path = LISTEN_PATH.format(entry_id=entry_id, call_id=call_id, fmt="wav")

    def signed(target: str, lifetime: timedelta = timedelta(minutes=1)) -> str:
        return ha_base_url + async_sign_path(
            hass, target, lifetime, use_content_user=True
        )

    async with aiohttp.ClientSession() as session:
        async with session.get(ha_base_url + path) as response:
            assert response.status == 401
        async with session.get(signed(path, timedelta(seconds=-5))) as response:
            assert response.status == 401
        tampered = signed(path).replace(call_id, "0" * len(call_id))
        async with session.get(tampered) as response:
            assert response.status == 401
        for target in (
            LISTEN_PATH.format(entry_id=entry_id, call_id="f" * 32, fmt="mp3"),
            LISTEN_PATH.format(entry_id="nope", call_id=call_id, fmt="mp3"),
        ):
            async with session.get(signed(target)) as response:
                assert response.status == 404
        for query in ("?rate=44100", "?rate=x"):
            async with session.get(signed(path + query)) as response:
                assert response.status == 400
        # Once the call has ended, its link is dead.
        await action(hass, "hang_up")
        await hass.async_block_till_done()
        async with session.get(signed(path)) as response:
            assert response.status == 404


async def test_listen_action_plays_on_the_speaker(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    ha_base_url: str,
) -> None:
    """The action hands the speaker a URL it can fetch without logging in; it ends with the call."""
    speaker = await async_setup_speaker(hass)
    call_id = await answer_tone_call(hass, init_integration, emulator)
    try:
        response = await action(
            hass, "listen", media_player_entity_id=SPEAKER_ENTITY_ID, format="wav"
        )
        assert response == {"call_id": call_id}
        assert speaker.urls[0].startswith(f"{ha_base_url}/api/cloud_sip_ua/listen/")
        assert "authSig=" in speaker.urls[0]
        # 1.5 s of the stream (16 kHz WAV after its 44-byte header), not of the clock.
        await wait_until(lambda: len(speaker.received) >= 44 + 48000)
        await action(hass, "hang_up")
        async with asyncio.timeout(5):
            await speaker.finished.wait()
    finally:
        await speaker.async_stop_fetching()
    assert speaker.status == 200
    frequency, snr = tone_report(bytes(speaker.received[44:])[-16000:], 16000)
    assert abs(frequency - 440.0) <= 10, frequency
    assert snr >= 20, snr


async def test_listen_action_needs_a_connected_call(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Without a connected call the action fails with a translated error."""
    await async_setup_speaker(hass)
    with pytest.raises(ServiceValidationError):
        await action(hass, "listen", media_player_entity_id=SPEAKER_ENTITY_ID)


async def test_listen_url_needs_a_reachable_home_assistant(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Without an internal or external URL the link cannot be built."""
    await answer_tone_call(hass, init_integration, emulator)
    await hass.config.async_update(external_url=None, internal_url=None)
    hass.config.api = None
    with pytest.raises(HomeAssistantError) as err:
        listen_url(
            hass, manager_of(init_integration), init_integration.entry_id, None, "mp3"
        )
    assert err.value.translation_key == "no_url"
    await action(hass, "hang_up")


async def test_mp3_encoder_stops_when_its_reader_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Closing the encoder's stream (its last listener went away) stops ffmpeg and the feeder.

    ffmpeg is started off the event loop's thread (spawning blocks its caller).
    """
    frames_sent = 0
    spawned: list[tuple[threading.Thread, subprocess.Popen[bytes]]] = []
    real_spawn = listen_stream.spawn_piped

    def recording_spawn(command: list[str]) -> subprocess.Popen[bytes]:
        process = real_spawn(command)
        spawned.append((threading.current_thread(), process))
        return process

    monkeypatch.setattr(listen_stream, "spawn_piped", recording_spawn)

    async def frames() -> object:
        nonlocal frames_sent
        while True:
            frames_sent += 1
            yield np.zeros(320, dtype="<i2").tobytes()
            await asyncio.sleep(0)  # a live stream gives the loop a turn between frames

    encoder = encode_mp3(frames(), 16000, "ffmpeg")  # type: ignore[arg-type]
    first = await anext(encoder)
    assert first[:2] == b"\xff\xf3"  # an MPEG-2 Layer III frame starts the first chunk
    await encoder.aclose()
    assert frames_sent > 0
    assert mp3_command("ffmpeg", 16000)[0] == "ffmpeg"
    [(thread, process)] = spawned
    assert thread is not threading.current_thread()  # the loop's
    assert process.returncode is not None  # killed and reaped, no zombie left
    assert process.stdin is not None
    assert process.stdin.closed


async def test_listener_leaving_frees_the_stream(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    ha_base_url: str,
) -> None:
    """A speaker that disconnects ends its stream; the call goes on."""
    await answer_tone_call(hass, init_integration, emulator)
    media = init_integration.runtime_data.manager.media_of()
    url = listen_url(
        hass, manager_of(init_integration), init_integration.entry_id, None, "wav"
    )
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        await response.content.readany()
        assert media._subscriptions  # noqa: SLF001 - the stream holds a subscription
    await wait_until(lambda: not media._subscriptions)  # noqa: SLF001
    await action(hass, "hang_up")
