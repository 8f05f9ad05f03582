"""The demo's door camera and hall speaker (scripts/demo_runner/demo_door)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
import io
from pathlib import Path
from unittest.mock import patch

from aiohttp import web
from PIL import Image
import pytest

from homeassistant.components.assist_satellite.const import DATA_COMPONENT as SATELLITES
from homeassistant.components.camera import async_get_image
from homeassistant.components.select.const import DATA_COMPONENT as SELECTS
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
from scripts.demo_runner.demo_door import async_setup
from scripts.demo_runner.demo_door.picture import HEIGHT, WIDTH, visitor_picture
from scripts.demo_runner.demo_door.speaker import (
    CALLER_WORDS,
    SILENCE,
    HallSpeaker,
    ReplySelect,
)
from tests.waiting import wait_until

ANSWERS = [{"id": "answer", "sentences": ["answer [it]"]}]


@pytest.fixture(autouse=True)
def tts_cache(tmp_path: Path) -> Iterator[None]:
    """Keep the TTS cache (Assist satellites need TTS) in the test's folder."""
    with patch(
        "homeassistant.components.tts._init_tts_cache_dir", return_value=str(tmp_path)
    ):
        yield


def test_the_picture_is_a_jpeg_that_shows_the_time() -> None:
    """A 640x360 JPEG; another second is another picture (the live view visibly moves)."""
    first = visitor_picture(datetime(2026, 10, 1, 12, 0, 0))
    image = Image.open(io.BytesIO(first))
    assert (image.format, image.size) == ("JPEG", (WIDTH, HEIGHT))
    assert visitor_picture(datetime(2026, 10, 1, 12, 0, 1)) != first


async def _door_components(hass: HomeAssistant) -> None:
    """Set up what the demo door adds its entities to (Assist needs the core integration)."""
    for domain in ("homeassistant", "camera", "select", "assist_satellite"):
        assert await async_setup_component(hass, domain, {})


async def test_setup_adds_the_camera_the_speaker_and_its_reply(
    hass: HomeAssistant,
) -> None:
    """camera.front_door serves the drawn picture; the hall speaker and its reply select exist."""
    await _door_components(hass)
    assert await async_setup(hass, {})
    await hass.async_block_till_done()
    picture = await async_get_image(hass, "camera.front_door")
    assert picture.content_type == "image/jpeg"
    assert picture.content.startswith(b"\xff\xd8")
    speaker = hass.states.get("assist_satellite.hall")
    assert speaker is not None and speaker.attributes["questions"] == 0
    reply = hass.states.get("select.hall_speaker_reply")
    assert reply is not None and reply.state == SILENCE


async def _clip(request: web.Request) -> web.Response:
    """Answer with a (token) clip."""
    return web.Response(body=b"RIFF")


@pytest.fixture
async def clip_url() -> AsyncIterator[str]:
    """Serve a clip on loopback, as Home Assistant serves TTS and the caller's words."""
    app = web.Application()
    app.router.add_get("/clip.wav", _clip)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/clip.wav"
    finally:
        await runner.cleanup()


async def _speaker(hass: HomeAssistant) -> tuple[HallSpeaker, ReplySelect]:
    """Add a speaker that listens briefly, and its reply select."""
    await _door_components(hass)
    reply = ReplySelect()
    speaker = HallSpeaker(reply, listen_seconds=0.3)
    await hass.data[SELECTS].async_add_entities([reply])
    await hass.data[SATELLITES].async_add_entities([speaker])
    return speaker, reply


async def test_a_reply_picked_before_the_question_is_heard_once(
    hass: HomeAssistant, clip_url: str
) -> None:
    """The speaker fetches the question's audio, hears the picked reply, and the select goes silent."""
    speaker, reply = await _speaker(hass)
    await reply.async_select_option("answer it")
    answer = await speaker.async_internal_ask_question(
        question_media_id=clip_url, preannounce=False, answers=ANSWERS
    )
    assert answer is not None and answer.id == "answer"
    state = hass.states.get(speaker.entity_id)
    assert state is not None
    assert {key: state.attributes[key] for key in ("questions", "last_question")} == {
        "questions": 1,
        "last_question": CALLER_WORDS,
    }
    assert state.attributes["last_reply"] == "answer it"
    assert state.attributes["last_media_status"] == 200
    assert reply.current_option == SILENCE
    with pytest.raises(HomeAssistantError, match="No answer"):
        await speaker.async_internal_ask_question(
            question_media_id=clip_url, preannounce=False, answers=ANSWERS
        )


async def test_a_reply_picked_while_it_listens_is_heard(
    hass: HomeAssistant, clip_url: str
) -> None:
    """A reply picked after the question, within the listening time, is the answer."""
    speaker, reply = await _speaker(hass)
    speaker._listen_seconds = 5.0  # noqa: SLF001 - time for the test to pick a reply
    asking = asyncio.ensure_future(
        speaker.async_internal_ask_question(
            question_media_id=clip_url, preannounce=False, answers=ANSWERS
        )
    )
    await wait_until(
        lambda: (
            (state := hass.states.get(speaker.entity_id)) is not None
            and state.attributes["questions"] == 1
            and state.attributes["last_media_status"] == 200
        )
    )
    await reply.async_select_option("We will be right with you")
    answer = await asking
    assert answer is not None
    assert (answer.id, answer.sentence) == (None, "We will be right with you")
