"""The WebSocket audio path against real Home Assistant and the emulator: tones checked by FFT."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    MockHAClientWebSocket,
    WebSocketGenerator,
)

from custom_components.cloud_sip_ua.const import DOMAIN
from emulator import Emulator
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from tests.audio_check import tone_pcm, tone_report
from tests.waiting import wait_until

from .helpers import connected_call, subscribe_message

FRAME_BYTES = 320  # 20 ms of 8 kHz 16-bit PCM


async def subscribe(
    client: MockHAClientWebSocket, message: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """Subscribe; return the subscription id and its start event."""
    await client.send_json_auto_id(message)
    result = await client.receive_json()
    assert result["success"], result
    start = await client.receive_json()
    assert start["id"] == result["id"]
    assert start["event"]["type"] == "start"
    return result["id"], start["event"]


async def receive_audio(client: MockHAClientWebSocket, seconds: float) -> bytes:
    """Collect the streamed call audio for a while."""
    pcm = bytearray()
    async with asyncio.timeout(seconds + 3):
        while len(pcm) < seconds * 16000:
            message = await client.receive_json()
            assert message["event"]["type"] == "audio"
            frame = base64.b64decode(message["event"]["pcm"])
            assert frame and len(frame) % FRAME_BYTES == 0  # whole 20 ms frames
            pcm += frame
    return bytes(pcm)


async def send_microphone(
    client: MockHAClientWebSocket, handler_id: int, pcm: bytes
) -> None:
    """Send PCM as the browser does: one binary message per 20 ms frame, at the call's pace.

    The client is subscribed: for each stretch of the call's audio that comes in, as much
    microphone audio goes out, so the call's own clock paces it, as a sound card would.
    """
    frames = [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]
    owed = 1
    while frames:
        for frame in frames[:owed]:
            await client.send_bytes(bytes([handler_id]) + frame)
        frames = frames[owed:]
        message = await client.receive_json()
        assert message["event"]["type"] == "audio"
        owed = len(base64.b64decode(message["event"]["pcm"])) // FRAME_BYTES


async def test_call_audio_both_ways(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """The caller's tone streams to the client; the client's tone reaches the caller."""
    call = await connected_call(hass, init_integration, emulator, tone_hz=600.0)
    client = await hass_ws_client(hass)
    subscription, start = await subscribe(client, subscribe_message(init_integration))
    assert start["sample_rate"] == 8000
    assert (
        start["call_id"] == init_integration.runtime_data.manager.current_call.call_id
    )

    await receive_audio(client, 0.3)  # the jitter buffer settles
    frequency, snr = tone_report(await receive_audio(client, 1.0))
    assert abs(frequency - 600.0) <= 10, frequency
    assert snr >= 30, snr

    before = len(call.remote_party.recorded_pcm())
    await send_microphone(client, start["binary_handler_id"], tone_pcm(1000.0, 1.5))
    await wait_until(lambda: len(call.remote_party.recorded_pcm()) >= before + 24000)
    heard = call.remote_party.recorded_pcm()[before:]
    frequency, snr = tone_report(
        heard[8000 : 8000 + 16000]
    )  # skip the first half second
    assert abs(frequency - 1000.0) <= 10, frequency
    assert snr >= 25, snr

    media = init_integration.runtime_data.manager.media_of()
    await client.send_json_auto_id(
        {"type": "unsubscribe_events", "subscription": subscription}
    )
    async with asyncio.timeout(3):
        while (message := await client.receive_json())["type"] != "result":
            pass
    assert message["success"]
    assert media._subscriptions == []  # noqa: SLF001  # the stream let go of the call's audio
    await hass.services.async_call(DOMAIN, "hang_up", {}, blocking=True)


async def test_stream_ends_with_the_call(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A hang-up ends the stream with an end event; bad microphone frames never break it."""
    call = await connected_call(hass, init_integration, emulator)
    sensor = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{init_integration.unique_id}-call_state"
    )
    client = await hass_ws_client(hass)
    subscription, start = await subscribe(client, subscribe_message(entity_id=sensor))
    handler = start["binary_handler_id"]
    await client.send_bytes(bytes([handler]) + b"\x01")  # odd length
    await client.send_bytes(
        bytes([handler]) + b"\x00" * 20000
    )  # far too long for one frame
    await client.send_bytes(bytes([handler]) + b"\x00" * FRAME_BYTES)
    await receive_audio(client, 0.2)

    await emulator.remote_hangup(call.call_id)
    async with asyncio.timeout(5):
        while (message := await client.receive_json())["event"]["type"] != "end":
            pass
    assert message["id"] == subscription
    # A frame the browser sent before it heard of the end finds its handler still there.
    caplog.clear()
    await client.send_bytes(bytes([handler]) + b"\x00" * FRAME_BYTES)
    await client.send_json_auto_id({"type": "ping"})
    assert (await client.receive_json())["type"] == "pong"
    assert "non-existing handler" not in caplog.text
    # Unsubscribing after the end is still fine.
    await client.send_json_auto_id(
        {"type": "unsubscribe_events", "subscription": subscription}
    )
    assert (await client.receive_json())["success"]


async def test_targets_by_device_and_the_only_entry(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A device id, or no target with one entry loaded, finds the call; closing the socket cleans up."""
    await connected_call(hass, init_integration, emulator)
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, str(init_integration.unique_id)), init_integration.entry_id
    )
    assert device is not None
    media = init_integration.runtime_data.manager.media_of()
    client = await hass_ws_client(hass)
    await subscribe(client, subscribe_message(device_id=device.id))
    await subscribe(client, subscribe_message())
    assert len(media._subscriptions) == 2  # noqa: SLF001
    await client.close()
    await wait_until(lambda: media._subscriptions == [])  # noqa: SLF001
    await hass.services.async_call(DOMAIN, "hang_up", {}, blocking=True)


async def error_of(client: MockHAClientWebSocket, message: dict[str, Any]) -> str:
    """Send a subscription that must fail; return its error code."""
    await client.send_json_auto_id(message)
    result = await client.receive_json()
    assert not result["success"], result
    code: str = result["error"]["code"]
    return code


async def test_errors(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """No call, a ringing call, unknown calls, entries, devices and entities are refused cleanly."""
    client = await hass_ws_client(hass)
    assert (
        await error_of(client, subscribe_message(init_integration)) == "no_active_call"
    )
    assert (
        await error_of(client, subscribe_message(entry_id="nope")) == "entry_not_found"
    )
    assert (
        await error_of(client, subscribe_message(device_id="nope"))
        == "device_not_found"
    )
    assert (
        await error_of(client, subscribe_message(entity_id="sensor.nope"))
        == "entity_not_found"
    )
    other = MockConfigEntry(domain="demo")
    other.add_to_hass(hass)
    assert (
        await error_of(client, subscribe_message(entry_id=other.entry_id))
        == "entry_not_found"
    )
    assert (
        await error_of(client, subscribe_message(init_integration, device_id="x"))
        == "invalid_format"
    )

    call = await emulator.ring()
    await hass.async_block_till_done()
    assert (
        await error_of(client, subscribe_message(init_integration)) == "not_connected"
    )
    assert (
        await error_of(client, subscribe_message(init_integration, call_id="other"))
        == "unknown_call"
    )
    await emulator.remote_hangup(call.call_id)

    unloaded = MockConfigEntry(domain=DOMAIN, unique_id="second")
    unloaded.add_to_hass(hass)
    assert await error_of(client, subscribe_message(unloaded)) == "entry_not_loaded"
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert await error_of(client, subscribe_message()) == "entry_required"
