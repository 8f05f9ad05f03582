"""WebSocket commands: stream a call's audio to the browser and take its microphone back."""

from __future__ import annotations

import base64
import logging
from typing import Any

import probatio

from homeassistant.auth.permissions.const import POLICY_CONTROL, POLICY_READ
from homeassistant.components.websocket_api import async_register_command
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import ERR_UNAUTHORIZED
from homeassistant.components.websocket_api.decorators import websocket_command
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError

from ..cloudsipua.exceptions import CallError
from ..cloudsipua.media.session import AudioSubscription
from ..const import ATTR_CALL_ID, ATTR_CONFIG_ENTRY_ID, DOMAIN, SAMPLE_RATE
from ..intercom.listen_stream import FrameBatches
from ..intercom.talk import MicrophoneFeed
from ..permissions import user_may
from ..target import ATTR_DEVICE_ID, ATTR_ENTITY_ID, target_entry

_LOGGER = logging.getLogger(__name__)

COMMAND_SUBSCRIBE_AUDIO = f"{DOMAIN}/audio/subscribe"
# The card names its entry `entry_id`; actions say config_entry_id.
ATTR_ENTRY_ID = "entry_id"
ATTR_TALK = "talk"


@callback
def async_register_websocket_commands(hass: HomeAssistant) -> None:
    """Register the integration's WebSocket commands."""
    async_register_command(hass, ws_subscribe_audio)


@websocket_command(
    {
        probatio.Required("type"): COMMAND_SUBSCRIBE_AUDIO,
        probatio.Exclusive(ATTR_ENTRY_ID, "target"): str,
        probatio.Exclusive(ATTR_DEVICE_ID, "target"): str,
        probatio.Exclusive(ATTR_ENTITY_ID, "target"): str,
        probatio.Optional(ATTR_CALL_ID): str,
        # The card talks back; a listen-only client says talk: false.
        probatio.Optional(ATTR_TALK, default=True): bool,
    }
)
@callback
def ws_subscribe_audio(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Stream a connected call's audio as base64 PCM events; take binary microphone frames back."""
    msg_id: int = msg["id"]
    try:
        entry = target_entry(
            hass, {**msg, ATTR_CONFIG_ENTRY_ID: msg.get(ATTR_ENTRY_ID)}
        )
        call = entry.runtime_data.manager.get_call(msg.get(ATTR_CALL_ID))
        media = entry.runtime_data.manager.media_of(call.call_id)
    except ServiceValidationError as err:
        connection.send_error(msg_id, str(err.translation_key), str(err))
        return
    except CallError as err:
        connection.send_error(msg_id, err.key, str(err))
        return
    # Listening needs read permission on the call's entities; talking into it, control.
    policy = POLICY_CONTROL if msg[ATTR_TALK] else POLICY_READ
    if not user_may(hass, connection.user, entry, policy):
        connection.send_error(msg_id, ERR_UNAUTHORIZED, "Not allowed for this user")
        return

    stream = _AudioStream(
        connection,
        msg_id,
        media.subscribe(SAMPLE_RATE),
        MicrophoneFeed(media) if msg[ATTR_TALK] else None,
    )
    connection.subscriptions[msg_id] = stream.stop
    connection.send_result(msg_id)
    # The first event repeats the setup: a subscribeMessage client never sees the result.
    connection.send_event(
        msg_id,
        {
            "type": "start",
            "call_id": call.call_id,
            "sample_rate": SAMPLE_RATE,
            "binary_handler_id": stream.handler_id,
        },
    )
    entry.async_create_background_task(
        hass, stream.run(), f"{DOMAIN} audio stream {msg_id}"
    )


class _AudioStream:
    """One browser's audio link to one call: call audio out as events, microphone frames in."""

    # Frames per event: one, so no frame is held. Pairs would save a third of a card's CPU
    # (0.04% of a core, benchmarks/listen_bench.py) but add 20 ms to a two-way conversation, and
    # the card's playback buffer (40 ms before it starts) would need 80 ms to keep its 20 ms of
    # slack with 40 ms events. Frames that are ready together (after a stall) go in one event.
    frames_per_event = 1

    def __init__(
        self,
        connection: ActiveConnection,
        msg_id: int,
        subscription: AudioSubscription,
        feed: MicrophoneFeed | None,
    ) -> None:
        """Take the call's audio subscription; accept microphone frames when talking is allowed."""
        self._connection = connection
        self._msg_id = msg_id
        self._subscription = subscription
        self.feed = feed
        self.handler_id, self._unregister = connection.async_register_binary_handler(
            self._on_microphone
        )
        self._ended = False
        self._stopped = False

    @callback
    def _on_microphone(
        self,
        _hass: HomeAssistant,
        _connection: ActiveConnection,
        payload: bytes,
    ) -> None:
        """Send one browser microphone frame into the call (late frames after its end are dropped)."""
        if not self._ended and self.feed is not None:
            self.feed.feed(payload)

    @callback
    def stop(self) -> None:
        """Release the call's audio and the binary handler: the client unsubscribed or left."""
        if self._stopped:
            return
        self._stopped = True
        self._unregister()
        self._end()

    @callback
    def _end(self) -> None:
        """Release the call's audio (idempotent).

        The binary handler stays until the client unsubscribes: microphone frames it sent before
        it heard of the end would otherwise hit a missing handler, which Home Assistant logs as an error.
        """
        if self._ended:
            return
        self._ended = True
        self._subscription.close()
        if self.feed is None:
            return
        stats = self.feed.stats
        _LOGGER.debug(
            "Talk stream ended: %s frames in, %s dropped, %s rejected",
            stats.frames,
            stats.dropped,
            stats.rejected,
        )

    async def run(self) -> None:
        """Forward the call's audio as it plays out; tell the client when the call ends."""
        try:
            batches = FrameBatches(self._subscription, frames=self.frames_per_event)
            async for pcm in batches:
                self._connection.send_event(
                    self._msg_id,
                    {"type": "audio", "pcm": base64.b64encode(pcm).decode("ascii")},
                )
        finally:
            ended_by_call = not self._stopped
            self._end()
        if ended_by_call:
            self._connection.send_event(self._msg_id, {"type": "end"})
