"""The check mode: one whole doorbell call driven through Home Assistant's REST API, every step observed.

With the demo door it also sees the door camera's picture and the hall speaker asked on the ring.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import time
from typing import Any

from .audio_level import loudest_window_rms, wav_frame_count
from .dashboard import GREETING
from .emulator_control import EmulatorControl
from .entities import INTEGRATION, TTS_ENTITY_ID, DemoEntities, DoorDevices
from .home_assistant import HomeAssistantApi
from .http_json import DemoError, wait_for

# 16-bit RMS of the loudest 20 ms window that counts as sound (-36 dBFS); silence is near 0.
SOUND_RMS = 500.0
DTMF_DIGITS = "1#"
JPEG_START = b"\xff\xd8"
# What the integration's satellite flow asks on a ring (intercom/satellite_relay.py).
RING_QUESTION = "Someone is at the door"


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step that was observed, and how long it took."""

    name: str
    seconds: float
    detail: str


@dataclass(slots=True)
class DoorbellCallCheck:
    """Ring, ring back, answer, speak, send DTMF and hang up; observe each through both APIs."""

    api: HomeAssistantApi
    emulator: EmulatorControl
    entities: DemoEntities
    timeout: float = 20.0
    report: Callable[[StepResult], None] = lambda result: None
    door: DoorDevices | None = None
    results: list[StepResult] = field(default_factory=list)
    _call_id: str = ""
    _questions_before: int = 0

    async def run(self) -> list[StepResult]:
        """Run every step in order; raise DemoError at the first one not observed."""
        door_steps = self.door is not None
        steps: list[tuple[str, Callable[[], Awaitable[str]]]] = [
            *([("door camera", self._camera)] if door_steps else []),
            ("ring", self._ring),
            *([("speaker asked", self._speaker_asked)] if door_steps else []),
            ("ringback", self._ringback),
            ("answer", self._answer),
            ("tts into the call", self._speak),
            ("dtmf", self._dtmf),
            ("hang up", self._hang_up),
        ]
        for name, step in steps:
            started = time.monotonic()
            try:
                detail = await step()
            except DemoError as err:
                raise DemoError(f"step {name!r} failed: {err}") from err
            result = StepResult(name, time.monotonic() - started, detail)
            self.results.append(result)
            self.report(result)
        return self.results

    async def _ha_state(self, entity_id: str, wanted: str) -> dict[str, Any]:
        """Wait until an entity has the wanted state; return the state object."""

        async def probe() -> dict[str, Any] | None:
            state = await self.api.state(entity_id)
            return state if state and state["state"] == wanted else None

        found: dict[str, Any] = await wait_for(
            f"{entity_id} to be {wanted}", probe, self.timeout
        )
        return found

    async def _emulator_call(
        self, what: str, test: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any]:
        """Wait until the emulator's view of the call passes test; return it."""

        async def probe() -> dict[str, Any] | None:
            call = await self.emulator.call(self._call_id)
            return call if test(call) else None

        found: dict[str, Any] = await wait_for(
            f"the emulator's call to show {what}", probe, self.timeout
        )
        return found

    async def _action(self, service: str, data: dict[str, Any] | None = None) -> None:
        """Perform one of the integration's actions on the current call."""
        await self.api.call_action(INTEGRATION, service, data)

    async def _camera(self) -> str:
        """Fetch the door camera's picture as the card's still image does."""
        assert self.door is not None
        kind, body = await self.api.get_bytes(f"/api/camera_proxy/{self.door.camera}")
        if kind != "image/jpeg" or not body.startswith(JPEG_START):
            raise DemoError(
                f"{self.door.camera} sent {kind} ({len(body)} bytes), not a JPEG"
            )
        return f"{self.door.camera} sent a {len(body)} byte JPEG"

    async def _speaker_asked(self) -> str:
        """See the hall speaker play the ring's question (its audio fetched fine)."""
        assert self.door is not None
        satellite = self.door.satellite

        async def asked() -> dict[str, Any] | None:
            state = await self.api.state(satellite)
            attributes = state["attributes"] if state else {}
            return (
                attributes
                if attributes.get("questions", 0) > self._questions_before
                and attributes.get("last_media_status") == 200
                else None
            )

        attributes: dict[str, Any] = await wait_for(
            f"{satellite} to be asked", asked, self.timeout
        )
        question = str(attributes.get("last_question"))
        if not question.startswith(RING_QUESTION):
            raise DemoError(f"{satellite} was asked {question!r}")
        return f"{satellite} asked {question!r}"

    async def _ring(self) -> str:
        """Ring through the emulator; see the doorbell event and the ringing call state."""
        before = await self.api.state(self.entities.doorbell)
        if self.door is not None and (
            speaker := await self.api.state(self.door.satellite)
        ):
            self._questions_before = int(speaker["attributes"].get("questions", 0))
        call = await self.emulator.ring(caller="Front door", tone_hz=440.0)
        self._call_id = str(call["call_id"])

        async def rang() -> dict[str, Any] | None:
            state = await self.api.state(self.entities.doorbell)
            fresh = state is not None and (
                before is None or state["state"] != before["state"]
            )
            return (
                state
                if fresh and state and state["attributes"].get("event_type") == "ring"
                else None
            )

        event: dict[str, Any] = await wait_for(
            f"{self.entities.doorbell} to fire ring", rang, self.timeout
        )
        if not event["attributes"].get("call_id"):
            raise DemoError("the doorbell event names no call")
        await self._ha_state(self.entities.call_state, "ringing")
        return f"doorbell event from {event['attributes'].get('caller')!r}, call state ringing"

    async def _ringback(self) -> str:
        """Send ringback; see the emulator get it."""
        await self._action("send_ringback")
        await self._emulator_call(
            "ringback", lambda call: bool(call.get("ringback_sent"))
        )
        return "the emulator got the ringback"

    async def _answer(self) -> str:
        """Answer; see the call connected on both sides."""
        await self._action("answer")
        await self._ha_state(self.entities.call_state, "connected")
        await self._ha_state(self.entities.in_call, "on")
        await self._emulator_call(
            "connected", lambda call: call.get("state") == "connected"
        )
        return "call state connected, in call on, the emulator's call connected"

    async def _speak(self) -> str:
        """Speak with the demo voice into the call; hear it in the emulator's recording."""
        before = await self.emulator.recording(self._call_id)
        mark = wav_frame_count(before)
        # Speech heard after tts.speak only proves something if the call was quiet before it.
        if (quiet := loudest_window_rms(before)) >= SOUND_RMS:
            raise DemoError(f"the call was not quiet before speaking (RMS {quiet:.0f})")
        await self.api.call_action(
            "tts",
            "speak",
            {
                "entity_id": TTS_ENTITY_ID,
                "media_player_entity_id": self.entities.call_audio,
                "message": GREETING,
            },
        )

        async def heard() -> float | None:
            level = loudest_window_rms(
                await self.emulator.recording(self._call_id), mark
            )
            return level if level >= SOUND_RMS else None

        level: float = await wait_for(
            "the speech in the emulator's recording", heard, self.timeout, interval=0.2
        )
        return f"the visitor heard it (loudest 20 ms RMS {level:.0f})"

    async def _dtmf(self) -> str:
        """Send DTMF; see the emulator receive the digits."""
        await self._action("send_dtmf", {"digits": DTMF_DIGITS})
        wanted = list(DTMF_DIGITS)
        await self._emulator_call(
            f"DTMF {DTMF_DIGITS}",
            lambda call: call.get("dtmf_received", [])[-len(wanted) :] == wanted,
        )
        return f"the emulator received {DTMF_DIGITS}"

    async def _hang_up(self) -> str:
        """Hang up; see the call end on both sides."""
        await self._action("hang_up")
        await self._ha_state(self.entities.call_state, "idle")
        await self._emulator_call("ended", lambda call: call.get("state") == "ended")
        return "call state idle, the emulator's call ended"
