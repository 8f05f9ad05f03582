"""The call audio player: its entity, local media and URLs into the call, stop, browse, refusals."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest.mock import patch

from aiohttp import web
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.cloud_sip_ua.cloudsipua.policies import SecondCallPolicy
from emulator import Emulator
from homeassistant.components.media_player import (
    ATTR_MEDIA_CONTENT_ID,
    ATTR_MEDIA_CONTENT_TYPE,
    DOMAIN as MP_DOMAIN,
    SERVICE_PLAY_MEDIA,
)
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_MEDIA_STOP, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from tests.audio_check import tone_pcm, tone_report, wav_bytes
from tests.waiting import wait_until

from .helpers import action, entity_id, snapshot_platform_alone, wait_connected


@pytest.fixture
def media_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Give Home Assistant a local media folder with a 600 Hz tone in it."""
    folder = tmp_path / "media"
    folder.mkdir()
    (folder / "tone.wav").write_bytes(wav_bytes(tone_pcm(600.0, 1.0, 8000), 8000))
    hass.config.media_dirs = {"local": str(folder)}
    return folder


async def _play(hass: HomeAssistant, media_id: str) -> None:
    """Play media on the call audio player."""
    await hass.services.async_call(
        MP_DOMAIN,
        SERVICE_PLAY_MEDIA,
        {
            ATTR_ENTITY_ID: entity_id(hass, "media_player", "call_audio"),
            ATTR_MEDIA_CONTENT_ID: media_id,
            ATTR_MEDIA_CONTENT_TYPE: "music",
        },
        blocking=True,
    )


async def _connected_call(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> Any:
    """Ring and answer a call."""
    call = await emulator.ring()
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    return call


async def test_all_entities(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every media player, as registered and as its first state."""
    await snapshot_platform_alone(
        hass, mock_config_entry, Platform.MEDIA_PLAYER, entity_registry, snapshot
    )


async def test_local_media_into_the_call(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    media_dir: Path,
) -> None:
    """A local media source file is decoded and heard by the caller."""
    player = entity_id(hass, "media_player", "call_audio")
    assert hass.states.get(player).state == "off"
    call = await _connected_call(hass, init_integration, emulator)
    assert hass.states.get(player).state == "idle"
    before = len(call.remote_party.recorded_pcm())
    await _play(hass, "media-source://media_source/local/tone.wav")
    assert hass.states.get(player).state == "playing"
    await wait_until(lambda: hass.states.get(player).state == "idle", timeout=5)
    frequency, snr = tone_report(call.remote_party.recorded_pcm()[before:])
    assert abs(frequency - 600) <= 10
    assert snr >= 20
    await action(hass, "hang_up")
    assert hass.states.get(player).state == "off"


async def test_url_into_the_call_and_stop(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    aiohttp_server: object,
) -> None:
    """A plain URL plays; stop cuts it off and returns to idle."""
    app = web.Application()
    long_tone = wav_bytes(tone_pcm(800.0, 10.0, 8000), 8000)
    app.router.add_get(
        "/tone.wav", lambda _: web.Response(body=long_tone, content_type="audio/wav")
    )
    server = await aiohttp_server(app)  # type: ignore[operator]
    player = entity_id(hass, "media_player", "call_audio")
    await _connected_call(hass, init_integration, emulator)
    await _play(hass, f"http://127.0.0.1:{server.port}/tone.wav")
    assert hass.states.get(player).state == "playing"
    await hass.services.async_call(
        MP_DOMAIN, SERVICE_MEDIA_STOP, {ATTR_ENTITY_ID: player}, blocking=True
    )
    assert hass.states.get(player).state == "idle"
    await action(hass, "hang_up")


async def test_stop_acts_on_the_call_it_played_into(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    media_dir: Path,
) -> None:
    """Stop clears the session the player played into, even when another call became current."""
    manager = init_integration.runtime_data.manager
    manager.settings = replace(
        manager.settings, second_call_policy=SecondCallPolicy.RING
    )
    first = await emulator.ring(caller="111")
    second = await emulator.ring(caller="222")
    by_party = {call.remote_party: call for call in manager.calls}
    await action(hass, "answer", call_id=by_party["222"].call_id)
    await wait_connected(init_integration, emulator, second.call_id)
    played_into = manager.media_of(by_party["222"].call_id)
    (media_dir / "long.wav").write_bytes(wav_bytes(tone_pcm(600.0, 10.0, 8000), 8000))
    await _play(hass, "media-source://media_source/local/long.wav")
    await action(hass, "answer", call_id=by_party["111"].call_id)
    await emulator.wait_for_state(first.call_id, "connected")
    await wait_until(lambda: manager.current_call is by_party["111"])
    other = manager.media_of(by_party["111"].call_id)
    with (
        patch.object(played_into, "clear_audio", wraps=played_into.clear_audio) as ours,
        patch.object(other, "clear_audio", wraps=other.clear_audio) as theirs,
    ):
        await hass.services.async_call(
            MP_DOMAIN,
            SERVICE_MEDIA_STOP,
            {ATTR_ENTITY_ID: entity_id(hass, "media_player", "call_audio")},
            blocking=True,
        )
    ours.assert_called_once_with()
    theirs.assert_not_called()
    await action(hass, "hang_up", call_id=by_party["222"].call_id)
    await action(hass, "hang_up", call_id=by_party["111"].call_id)


@pytest.mark.parametrize(
    ("media_id", "key"),
    [
        ("media-source://media_source/local/../../etc/passwd", "media_not_found"),
        ("media-source://media_source/nope/tone.wav", "media_not_found"),
        ("media-source://media_source/local/missing.wav", "media_not_found"),
        ("media-source://tts/nope?message=hi", "media_not_found"),
        ("media-source://no_such_source/item", "media_not_found"),
    ],
)
async def test_bad_media_is_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    media_dir: Path,
    media_id: str,
    key: str,
) -> None:
    """Paths outside the media folder, unknown sources and missing files are refused."""
    await _connected_call(hass, init_integration, emulator)
    with pytest.raises(HomeAssistantError) as err:
        await _play(hass, media_id)
    assert err.value.translation_key == key
    await action(hass, "hang_up")


async def test_undecodable_media_is_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    media_dir: Path,
) -> None:
    """A file ffmpeg cannot decode gives a clear error."""
    (media_dir / "broken.wav").write_bytes(b"RIFF garbage")
    await _connected_call(hass, init_integration, emulator)
    with pytest.raises(HomeAssistantError) as err:
        await _play(hass, "media-source://media_source/local/broken.wav")
    assert err.value.translation_key == "media_decode_failed"
    await action(hass, "hang_up")


async def test_play_without_a_call(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Playing needs a connected call."""
    with pytest.raises(HomeAssistantError) as err:
        await _play(hass, "http://127.0.0.1:1/x.wav")
    assert err.value.translation_key == "no_active_call"


async def test_browse_offers_media_sources(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    media_dir: Path,
    hass_ws_client: object,
) -> None:
    """The player browses Home Assistant's media sources."""
    client = await hass_ws_client(hass)  # type: ignore[operator]
    await client.send_json_auto_id(
        {
            "type": "media_player/browse_media",
            "entity_id": entity_id(hass, "media_player", "call_audio"),
        }
    )
    response = await client.receive_json()
    assert response["success"]
    assert response["result"]["title"] == "Media sources"


async def test_stalled_media_times_out(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    aiohttp_server: Any,
) -> None:
    """A source that never delivers is given up on with a clear error."""
    stalled = asyncio.Event()

    async def never(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await stalled.wait()
        return response

    app = web.Application()
    app.router.add_get("/stalled.wav", never)
    server = await aiohttp_server(app)
    await _connected_call(hass, init_integration, emulator)
    with (
        patch("custom_components.cloud_sip_ua.intercom.audio.DECODE_TIMEOUT", 0.5),
        pytest.raises(HomeAssistantError) as err,
    ):
        await _play(hass, f"http://127.0.0.1:{server.port}/stalled.wav")
    assert err.value.translation_key == "media_decode_failed"
    stalled.set()
    await action(hass, "hang_up")
