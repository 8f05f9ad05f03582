"""The emulator and Home Assistant as child processes, brought up and provisioned together."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
import sys

import aiohttp

from emulator.keys import ensure_key_pair

from .emulator_control import EmulatorControl
from .ha_config import write_config
from .home_assistant import HomeAssistantApi
from .http_json import DemoError
from .processes import ChildProcess
from .provision import (
    RTP_PORTS,
    Keys,
    Provisioned,
    demo_options,
    ensure_dashboard,
    ensure_entry,
    ensure_options,
    ensure_owner,
    ensure_voice,
    wait_for_door,
    wait_for_entities,
)
from .saved_state import SavedState

# The README's example tenant: its device is `customer47`, as are the README's entity ids.
DEMO_DOMAIN = "customer47.prod-eu-north-1.iotcomms.io"


@dataclass(frozen=True, slots=True, kw_only=True)
class StackOptions:
    """Where the demo lives and which ports it uses."""

    repo: Path
    state_dir: Path
    ha_port: int
    emulator_port: int
    domain: str = DEMO_DOMAIN
    start_timeout: float = 180.0

    @property
    def config_dir(self) -> Path:
        """Return Home Assistant's configuration folder."""
        return self.state_dir / "config"

    @property
    def emulator_dir(self) -> Path:
        """Return the emulator's state folder (keys, recordings)."""
        return self.state_dir / "emulator"

    @property
    def log_dir(self) -> Path:
        """Return where the children's output goes."""
        return self.state_dir / "logs"

    @property
    def saved_path(self) -> Path:
        """Return the saved state's file."""
        return self.state_dir / "demo.json"

    @property
    def ha_url(self) -> str:
        """Return Home Assistant's URL."""
        return f"http://127.0.0.1:{self.ha_port}"

    @property
    def emulator_url(self) -> str:
        """Return the emulator's URL."""
        return f"http://127.0.0.1:{self.emulator_port}"


class DemoStack:
    """Runs and provisions both services; stop() ends them whatever happened."""

    def __init__(self, options: StackOptions, session: aiohttp.ClientSession) -> None:
        """Prepare, without starting anything."""
        self.options = options
        self.saved = SavedState.load(options.saved_path)
        self.api = HomeAssistantApi(session, options.ha_url)
        self.emulator = EmulatorControl(session, options.emulator_url)
        self.home_assistant = ChildProcess(
            "Home Assistant",
            [
                sys.executable,
                "-m",
                "homeassistant",
                "-c",
                str(options.config_dir),
                "--skip-pip",
                "--log-no-color",
            ],
            options.log_dir / "home-assistant.log",
            # Not the checkout: `python -m` puts the working folder first on sys.path, and the
            # checkout's custom_components package would hide the config folder's one.
            cwd=options.state_dir,
        )
        self.emulator_process: ChildProcess | None = None

    @property
    def children(self) -> list[ChildProcess]:
        """Return the child processes (started or not)."""
        return [self.home_assistant] + (
            [self.emulator_process] if self.emulator_process else []
        )

    def _keys(self) -> Keys:
        """Make (once) the key pairs the emulator uses, and return the halves the entry needs."""
        api, _ = ensure_key_pair(self.options.emulator_dir, "api")
        signing, _ = ensure_key_pair(self.options.emulator_dir, "callback_signing")
        return Keys(
            api.private_key.read_text(encoding="ascii"),
            signing.public_key.read_text(encoding="ascii"),
        )

    def _emulator_child(self, callback_url: str | None) -> ChildProcess:
        """Return the emulator process, told the tenant's callback base URL when known."""
        options = self.options
        argv = [
            sys.executable,
            "-m",
            "emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(options.emulator_port),
            "--domain",
            options.domain,
            "--state-dir",
            str(options.emulator_dir),
        ]
        if callback_url:
            argv += ["--callback-base-url", callback_url]
        return ChildProcess(
            "emulator", argv, options.log_dir / "emulator.log", cwd=options.repo
        )

    async def _start_emulator(self, callback_url: str | None) -> None:
        """Start the emulator and wait until it answers."""
        self.emulator_process = self._emulator_child(callback_url)
        await self.emulator_process.start()
        await self.emulator.wait_until_serving(30.0)

    async def start(self) -> Provisioned:
        """Start both, onboard, add the entry through the config flow, set it up, add the dashboard."""
        options = self.options
        keys = self._keys()
        write_config(options.config_dir, repo=options.repo, port=options.ha_port)
        # The callback URL of an entry made earlier is known, so the emulator usually starts once.
        known_callback = (
            self.saved.callback_url
            if self.saved.emulator_url == options.emulator_url
            else None
        )
        await self.home_assistant.start()
        _, onboarding = await asyncio.gather(
            self._start_emulator(known_callback),
            self._watch(
                self.home_assistant, self.api.wait_until_serving(options.start_timeout)
            ),
        )
        await ensure_owner(self.api, onboarding, self.saved)
        self.saved.save(options.saved_path)
        await self._watch(
            self.home_assistant, self.api.wait_until_running(options.start_timeout)
        )
        door = await wait_for_door(self.api, 60.0)
        await ensure_voice(self.api)
        entry_id, callback_url = await ensure_entry(
            self.api,
            domain=options.domain,
            emulator_url=options.emulator_url,
            keys=keys,
            saved=self.saved,
        )
        self.saved.save(options.saved_path)
        await ensure_options(self.api, entry_id, demo_options(RTP_PORTS, door))
        if callback_url != known_callback:
            # The tenant's default callback URL is a start-up setting of the emulator.
            await self.stop_emulator()
            await self._start_emulator(callback_url)
        entities = await wait_for_entities(self.api, entry_id, options.domain, 60.0)
        await ensure_dashboard(self.api, entities, door, options.emulator_url)
        return Provisioned(entry_id, callback_url, entities, door)

    @staticmethod
    async def _watch[T](child: ChildProcess, work: Awaitable[T]) -> T:
        """Await work, failing fast if the child exits meanwhile."""
        task = asyncio.ensure_future(work)
        exited = asyncio.ensure_future(child.wait())
        try:
            done, _ = await asyncio.wait(
                {task, exited}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            exited.cancel()
        if task not in done:
            task.cancel()
            raise DemoError(
                f"{child.name} exited with status {child.returncode} while starting"
            )
        return task.result()

    async def stop_emulator(self) -> None:
        """Stop the emulator if it runs."""
        if self.emulator_process is not None:
            await self.emulator_process.stop(timeout=10.0)

    async def stop(self) -> None:
        """Stop both services and wait for them."""
        await asyncio.gather(
            self.home_assistant.stop(timeout=30.0), self.stop_emulator()
        )

    async def wait_for_exit(self) -> ChildProcess:
        """Wait until either service exits; return it."""
        waits = {asyncio.ensure_future(child.wait()): child for child in self.children}
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for future in waits:
                future.cancel()
        return waits[next(iter(done))]
