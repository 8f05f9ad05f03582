"""The demo end to end in this process: two real starts, a doorbell call, and a clean stop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass
from pathlib import Path
import re

import aiohttp
import pytest

from scripts.demo_runner import cli
from scripts.demo_runner.check import DoorbellCallCheck, StepResult
from scripts.demo_runner.emulator_control import EmulatorControl
from scripts.demo_runner.entities import INTEGRATION
from scripts.demo_runner.home_assistant import HomeAssistantApi
from scripts.demo_runner.provision import wait_for_door, wait_for_entities
from scripts.demo_runner.saved_state import SavedState
from tests.waiting import wait_until

URLS = re.compile(
    r"Home Assistant\s+(http://127\.0\.0\.1:\d+)/.*?Emulator\s+(http://127\.0\.0\.1:\d+)/",
    re.DOTALL,
)
TENANT = "customer47.prod-eu-north-1.iotcomms.io"


@dataclass
class RunningDemo:
    """A demo started by the test, and how it ended."""

    ha_url: str
    emulator_url: str
    status: int | None = None


def _args(state: Path) -> list[str]:
    """Return the command line of a demo in state on free ports."""
    return ["--state-dir", str(state), "--ha-port", "0", "--emulator-port", "0"]


@contextlib.asynccontextmanager
async def running_demo(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> AsyncIterator[RunningDemo]:
    """Start the demo, wait for its welcome text, and stop it (as Ctrl-C would) at the end."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        cli.run(cli.build_parser().parse_args(_args(state)), stop)
    )
    seen = ""

    def welcomed() -> re.Match[str] | None:
        nonlocal seen
        assert not task.done(), seen
        seen += capsys.readouterr().out
        return URLS.search(seen)

    try:
        found = await wait_until(welcomed, 180, "the welcome text", interval=0.2)
        demo = RunningDemo(found.group(1), found.group(2))
        yield demo
    finally:
        stop.set()
        status = await task
    demo.status = status


async def test_demo_serves_a_doorbell_call_and_stops_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """First start onboards and provisions; the call works; a restart reuses the owner; stop is clean."""
    state = tmp_path / "demo"
    steps: list[StepResult] = []
    async with running_demo(state, capsys) as demo, aiohttp.ClientSession() as session:
        saved = SavedState.load(state / "demo.json")
        assert saved.password and saved.token and saved.entry_id and saved.callback_url
        api = HomeAssistantApi(session, demo.ha_url)
        api.token = saved.token
        entities = await wait_for_entities(api, saved.entry_id, TENANT, 30)
        door = await wait_for_door(api, 30)
        await DoorbellCallCheck(
            api,
            EmulatorControl(session, demo.emulator_url),
            entities,
            20.0,
            steps.append,
            door=door,
        ).run()
        boards = await api.ws_command("lovelace/dashboards/list")
        assert "cloud-sip-ua" in [board["url_path"] for board in boards]
    assert [step.name for step in steps] == [
        "door camera",
        "ring",
        "speaker asked",
        "ringback",
        "answer",
        "tts into the call",
        "dtmf",
        "hang up",
    ]
    assert demo.status == cli.EXIT_INTERRUPTED

    # Free ports again: a new emulator address, so the entry is made anew; the owner stays.
    async with running_demo(state, capsys) as demo, aiohttp.ClientSession() as session:
        again = SavedState.load(state / "demo.json")
        assert again.token == saved.token and again.password == saved.password
        assert again.entry_id != saved.entry_id
        api = HomeAssistantApi(session, demo.ha_url)
        api.token = again.token
        assert [
            entry["entry_id"] for entry in await api.config_entries(INTEGRATION)
        ] == [again.entry_id]
    assert demo.status == cli.EXIT_INTERRUPTED
    assert "demo: stopped" in capsys.readouterr().out


async def test_a_lost_token_is_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An onboarded folder without its token fails with advice, and stops what it started."""
    state = tmp_path / "demo"
    async with running_demo(state, capsys):
        pass
    saved = SavedState.load(state / "demo.json")
    saved.token = None
    saved.save(state / "demo.json")
    assert await cli.run(cli.build_parser().parse_args(_args(state))) == 1
    assert "--reset" in capsys.readouterr().out
