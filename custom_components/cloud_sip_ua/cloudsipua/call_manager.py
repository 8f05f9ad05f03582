"""The call state machine: callbacks and user actions in, REST requests, media and events out."""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
import logging
import time
from typing import Any
import uuid

from .callbacks import (
    CallAnswered,
    Callback,
    CallFailed,
    CallHungup,
    CallNotify,
    NewRemoteCall,
    NewRemoteCallResponse,
)
from .calls import Call, CallDirection, CallEvent, CallEventType, CallState, EndReason
from .client import CloudSipUaClient
from .exceptions import CloudSipUaError
from .media.sdes import answer_crypto, generate_crypto
from .media.session import DtmfEvent, MediaSession
from .models import ANSWER_CODECS, PLACE_CODECS, Codec, CryptoEntry
from .requests import AnswerCallRequest, PlaceCallRequest

_LOGGER = logging.getLogger(__name__)

# SIP status the platform reports for a callee that is busy.
SIP_BUSY_HERE = 486
HANGUP_TIMEOUT = 5.0


class SrtpPolicy(StrEnum):
    """Whether calls use SRTP."""

    OFF = "off"
    OFFER = "offer"
    REQUIRE = "require"


class SecondCallPolicy(StrEnum):
    """What happens to an incoming call while another call is active."""

    BUSY = "busy"
    RING = "ring"


class CallError(CloudSipUaError):
    """A call action that makes no sense now."""

    def __init__(self, key: str, message: str) -> None:
        """Keep a stable key that callers can translate."""
        super().__init__(message)
        self.key = key


@dataclass(frozen=True, slots=True)
class CallSettings:
    """How the call manager places, answers and ends calls."""

    media_address: str
    callback_base_url: str | None = None
    bind_host: str = "0.0.0.0"
    port_range: tuple[int, int] = (20000, 20999)
    codec_preference: tuple[Codec, ...] = (Codec.PCMA, Codec.PCMU)
    telephone_event_payload_type: int = 101
    srtp_policy: SrtpPolicy = SrtpPolicy.OFFER
    ring_timeout: float = 60.0
    second_call_policy: SecondCallPolicy = SecondCallPolicy.BUSY
    inactivity_timeout: float = 30.0
    default_source_user: str | None = None


type CallListener = Callable[[CallEvent], None]
type MediaFactory = Callable[..., MediaSession]


class CallManager:
    """Track every call of one tenant and drive it through the REST API and the media stack."""

    def __init__(
        self,
        client: CloudSipUaClient,
        settings: CallSettings,
        *,
        media_factory: MediaFactory = MediaSession,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """Start with no calls."""
        self._client = client
        self.settings = settings
        self._media_factory = media_factory
        self._wall_clock = wall_clock
        self._calls: dict[str, Call] = {}
        self._incoming_keys: dict[str, str] = {}
        self._platform_ids: dict[str, str] = {}
        self._ended: set[str] = set()
        self._listeners: list[CallListener] = []
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.history: deque[Call] = deque(maxlen=10)
        self.counters: Counter[str] = Counter()

    # ---- listeners and lookups

    def add_listener(self, listener: CallListener) -> Callable[[], None]:
        """Call `listener` for every event; return a function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @property
    def calls(self) -> list[Call]:
        """Return the active calls, oldest first."""
        return list(self._calls.values())

    @property
    def current_call(self) -> Call | None:
        """Return the call a user most likely means: connected first, then ringing, then the rest."""
        order = (
            CallState.CONNECTED,
            CallState.RINGING,
            CallState.REMOTE_RINGING,
            CallState.DIALING,
            CallState.ENDING,
        )
        for state in order:
            for call in self._calls.values():
                if call.state is state:
                    return call
        return None

    def get_call(self, call_id: str | None = None) -> Call:
        """Return the named call, or the current one; CallError if there is none."""
        if call_id is None:
            if (call := self.current_call) is None:
                raise CallError("no_active_call", "There is no active call")
            return call
        if (call := self._calls.get(call_id)) is None:
            raise CallError("unknown_call", "No active call has that id")
        return call

    def _emit(self, event_type: CallEventType, call: Call, **extra: Any) -> None:
        """Tell every listener; a failing listener never breaks the state machine."""
        event = CallEvent(event_type, call, **extra)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                _LOGGER.exception("Call event listener failed")

    def _set_state(self, call: Call, state: CallState) -> None:
        """Move a call to a new state and report it."""
        if call.state is state:
            return
        call.state = state
        self._emit(CallEventType.STATE, call)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a coroutine in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- callbacks from the platform

    async def handle_callback(self, callback: Callback) -> NewRemoteCallResponse | None:
        """Apply one callback; return the body to answer `newRemoteCall` with."""
        self.counters["callbacks"] += 1
        match callback:
            case NewRemoteCall():
                return self._on_new_remote_call(callback)
            case CallAnswered():
                self._on_call_answered(callback)
            case CallFailed():
                self._on_call_failed(callback)
            case CallHungup():
                self._on_call_hungup(callback)
            case CallNotify():
                self._on_call_notify(callback)
        return None

    def _find(
        self, session_reference_id: str | None, platform_id: str | None = None
    ) -> Call | None:
        """Find the call a callback belongs to: our id first, then the platform's call id."""
        if session_reference_id and (call := self._calls.get(session_reference_id)):
            return call
        if platform_id and (call_id := self._platform_ids.get(platform_id)):
            return self._calls.get(call_id)
        return None

    def _unknown(self, kind: str) -> None:
        """Count a callback for a call we do not know (late, duplicate, or from before a restart)."""
        self.counters["callbacks_unknown_call"] += 1
        _LOGGER.debug("Ignoring %s for a call that is not active", kind)

    def _on_new_remote_call(self, callback: NewRemoteCall) -> NewRemoteCallResponse:
        """Start ringing, or refuse the call per the second-call and SRTP policies."""
        key = callback.call_id or callback.session_id or callback.reply_id
        if (existing := self._incoming_keys.get(key)) is not None:
            # A redelivered callback: answer the same way, change nothing.
            self.counters["callbacks_duplicate"] += 1
            return NewRemoteCallResponse(existing)
        call = Call(
            call_id=uuid.uuid4().hex,
            direction=CallDirection.INCOMING,
            state=CallState.RINGING,
            codec=self._incoming_codec(callback.codec),
            remote_party=callback.source_user,
            destination=callback.destination_uri,
            started_at=self._wall_clock(),
            reply_id=callback.reply_id,
            site_base_url=callback.site_base_url,
            platform_call_id=callback.call_id,
            offered_crypto=callback.crypto,
            telephone_event_payload_type=callback.telephone_event_payload_type,
        )
        if callback.remote_rtp_ip and callback.remote_rtp_port:
            call.remote_rtp = (callback.remote_rtp_ip, callback.remote_rtp_port)
        self._incoming_keys[key] = call.call_id
        if callback.call_id:
            self._platform_ids[callback.call_id] = call.call_id
        busy = any(
            other.state is not CallState.ENDING for other in self._calls.values()
        )
        self._calls[call.call_id] = call
        if busy and self.settings.second_call_policy is SecondCallPolicy.BUSY:
            self._spawn(self._reject(call, EndReason.BUSY))
        elif (
            self.settings.srtp_policy is SrtpPolicy.REQUIRE
            and answer_crypto(call.offered_crypto) is None
        ):
            self._spawn(self._reject(call, EndReason.SRTP_REQUIRED))
        else:
            self._start_timer(call, self.settings.ring_timeout, EndReason.RING_TIMEOUT)
            self._emit(CallEventType.RING, call)
            self._emit(CallEventType.STATE, call)
        return NewRemoteCallResponse(call.call_id)

    def _incoming_codec(self, offered: Codec | None) -> Codec:
        """Use the codec the caller wants when we may answer with it, else our preference."""
        if offered in ANSWER_CODECS:
            return offered
        return next(
            c
            for c in (*self.settings.codec_preference, Codec.PCMA)
            if c in ANSWER_CODECS
        )

    def _on_call_answered(self, callback: CallAnswered) -> None:
        """Connect the call, or hang up one that nobody wants any more."""
        call = self._find(callback.session_reference_id)
        if call is None:
            self._unknown("callAnswered")
            if callback.reply_id and (
                callback.session_reference_id is None
                or callback.session_reference_id in self._ended
            ):
                # A call we gave up on (or from before a restart) got answered: end it.
                self.counters["orphan_calls_ended"] += 1
                self._spawn(
                    self._hang_up_orphan(callback.reply_id, callback.site_base_url)
                )
            return
        if callback.reply_id:
            call.reply_id = callback.reply_id
        if callback.site_base_url:
            call.site_base_url = callback.site_base_url
        if call.state is CallState.CONNECTED:
            self.counters["callbacks_duplicate"] += 1
            return
        if callback.remote_rtp_ip and callback.remote_rtp_port:
            call.remote_rtp = (callback.remote_rtp_ip, callback.remote_rtp_port)
        if call.hangup_requested:
            self._spawn(self._hang_up(call, EndReason.LOCAL_HANGUP))
            return
        if (
            call.direction is CallDirection.OUTGOING
            and not self._connect_outgoing_media(call, callback)
        ):
            self._spawn(self._hang_up(call, EndReason.SRTP_REQUIRED))
            return
        if call.media is not None and call.remote_rtp is not None:
            call.media.set_remote(*call.remote_rtp)
        # The media session only notices silence after a first packet: catch a remote side
        # that never sends any.
        self._start_timer(call, self.settings.inactivity_timeout, EndReason.NO_MEDIA)
        call.answered_at = self._wall_clock()
        self._set_state(call, CallState.CONNECTED)
        self._emit(CallEventType.ANSWERED, call)

    def _connect_outgoing_media(self, call: Call, callback: CallAnswered) -> bool:
        """Apply the answer's codec and crypto to a placed call; False if SRTP is required but absent."""
        media = call.media
        if media is None:
            return False
        if callback.codec in PLACE_CODECS and callback.codec is not call.codec:
            call.codec = callback.codec
            media.set_codec(call.codec)
        answered = _matching_crypto(call.local_crypto, callback.crypto)
        if call.local_crypto is not None and answered is not None:
            media.enable_srtp(local=call.local_crypto, remote=answered)
            call.srtp = True
        return call.srtp or self.settings.srtp_policy is not SrtpPolicy.REQUIRE

    def _on_call_failed(self, callback: CallFailed) -> None:
        """End a placed call the remote side refused."""
        call = self._find(callback.session_reference_id, callback.sip_call_id)
        if call is None:
            self._unknown("callFailed")
            return
        call.sip_status = callback.sip_status
        call.sip_reason = callback.sip_reason or callback.error_descr
        reason = (
            EndReason.BUSY if callback.sip_status == SIP_BUSY_HERE else EndReason.FAILED
        )
        self._spawn(self._finish(call, reason, CallEventType.FAILED))

    def _on_call_hungup(self, callback: CallHungup) -> None:
        """End a call the remote side (or the platform) hung up."""
        call = self._find(callback.session_reference_id, callback.call_id)
        if call is None:
            self._unknown("callHungup")
            return
        self._spawn(self._finish(call, EndReason.REMOTE_HANGUP, CallEventType.HUNG_UP))

    def _on_call_notify(self, callback: CallNotify) -> None:
        """Report that the callee's phone rings."""
        call = self._find(callback.session_reference_id, callback.sip_call_id)
        if call is None:
            self._unknown("callNotify")
            return
        if callback.event == "ringing" and call.state is CallState.DIALING:
            self._set_state(call, CallState.REMOTE_RINGING)
            self._emit(CallEventType.REMOTE_RINGING, call)

    # ---- user actions

    async def place_call(
        self,
        destination_uri: str,
        *,
        source_user: str | None = None,
        codec: Codec | None = None,
    ) -> Call:
        """Dial out; return the call, which then moves through dialing and remote ringing."""
        if self.settings.callback_base_url is None:
            raise CallError(
                "no_callback_url", "No callback URL is known for placed calls"
            )
        codec = codec or next(
            c for c in self.settings.codec_preference if c in PLACE_CODECS
        )
        call = Call(
            call_id=uuid.uuid4().hex,
            direction=CallDirection.OUTGOING,
            state=CallState.DIALING,
            codec=codec,
            remote_party=destination_uri,
            destination=destination_uri,
            started_at=self._wall_clock(),
            telephone_event_payload_type=self.settings.telephone_event_payload_type,
        )
        media = await self._open_media(call)
        crypto: tuple[CryptoEntry, ...] = ()
        if self.settings.srtp_policy is not SrtpPolicy.OFF:
            call.local_crypto = generate_crypto()
            crypto = (call.local_crypto,)
        request = PlaceCallRequest(
            destination_uri=destination_uri,
            receive_ip=self.settings.media_address,
            receive_port=media.local_port,
            callback_base_url=self.settings.callback_base_url,
            codec=codec,
            source_user=source_user or self.settings.default_source_user,
            telephone_event_payload_type=self.settings.telephone_event_payload_type,
            crypto=crypto,
            session_reference_id=call.call_id,
        )
        # Registered before the request: callbacks may overtake the response.
        self._calls[call.call_id] = call
        self._emit(CallEventType.STATE, call)
        try:
            await self._client.place_call(request)
        except CloudSipUaError:
            await self._finish(call, EndReason.FAILED, CallEventType.FAILED)
            raise
        self._start_timer(call, self.settings.ring_timeout, EndReason.RING_TIMEOUT)
        return call

    async def answer(self, call_id: str | None = None) -> Call:
        """Answer a ringing call: open media, then accept it at the platform."""
        call = self._require(call_id, CallState.RINGING)
        if call.reply_id is None or call.media is not None:
            raise CallError("not_ringing", "The call is already being answered")
        media = await self._open_media(call)
        crypto: tuple[CryptoEntry, ...] = ()
        if self.settings.srtp_policy is not SrtpPolicy.OFF and (
            pair := answer_crypto(call.offered_crypto)
        ):
            remote, call.local_crypto = pair
            media.enable_srtp(local=call.local_crypto, remote=remote)
            call.srtp = True
            crypto = (call.local_crypto,)
        if call.remote_rtp is not None:
            media.set_remote(*call.remote_rtp)
        request = AnswerCallRequest(
            reply_id=call.reply_id,
            receive_ip=self.settings.media_address,
            receive_port=media.local_port,
            codec=call.codec,
            telephone_event_payload_type=call.telephone_event_payload_type
            or self.settings.telephone_event_payload_type,
            crypto=crypto,
            session_reference_id=call.call_id,
        )
        try:
            await self._client.answer_call(request, site_base_url=call.site_base_url)
        except CloudSipUaError:
            call.media = None
            call.srtp = False
            await media.close()
            raise
        return call

    async def send_ringback(self, call_id: str | None = None) -> Call:
        """Tell the caller that we are ringing (180 Ringing)."""
        call = self._require(call_id, CallState.RINGING)
        assert call.reply_id is not None  # noqa: S101 - ringing calls always have one
        await self._client.send_ringback(
            call.reply_id, site_base_url=call.site_base_url
        )
        return call

    async def hang_up(self, call_id: str | None = None) -> Call:
        """End a call: reject when ringing, hang up when connected, cancel when dialing."""
        call = self.get_call(call_id)
        if call.state is CallState.ENDING:
            raise CallError("already_ending", "The call is already ending")
        if call.state is CallState.RINGING and call.media is not None:
            # Answered, but callAnswered (with the replyId that can hang up) is still on its
            # way: hang up when it arrives, or give up after a while.
            call.hangup_requested = True
            self._set_state(call, CallState.ENDING)
            self._start_timer(call, HANGUP_TIMEOUT, EndReason.LOCAL_HANGUP)
        elif call.state is CallState.RINGING:
            await self._reject(call, EndReason.REJECTED, raise_errors=True)
        elif call.state is CallState.CONNECTED:
            await self._hang_up(call, EndReason.LOCAL_HANGUP, raise_errors=True)
        else:
            # A placed call has no replyId before it is answered: hang up as soon as it is.
            call.hangup_requested = True
            await self._finish(call, EndReason.LOCAL_HANGUP, CallEventType.HUNG_UP)
        return call

    async def send_dtmf(
        self, digits: str, *, duration_ms: int = 100, call_id: str | None = None
    ) -> Call:
        """Send DTMF digits as RFC 4733 telephone events."""
        call = self._require(call_id, CallState.CONNECTED)
        assert call.media is not None  # noqa: S101 - connected calls have media
        await call.media.send_dtmf(digits, duration_ms)
        return call

    def media_of(self, call_id: str | None = None) -> MediaSession:
        """Return the media session of a connected call."""
        call = self._require(call_id, CallState.CONNECTED)
        assert call.media is not None  # noqa: S101 - connected calls have media
        return call.media

    def _require(self, call_id: str | None, state: CallState) -> Call:
        """Return the call if it is in `state`; CallError otherwise."""
        call = self.get_call(call_id)
        if call.state is not state:
            raise CallError(
                f"not_{state.value}",
                f"The call is {call.state.value}, not {state.value}",
            )
        return call

    # ---- media, timers and endings

    async def _open_media(self, call: Call) -> MediaSession:
        """Bind a media session for the call and wire its events."""
        media = self._media_factory(
            codec=call.codec,
            telephone_event_payload_type=call.telephone_event_payload_type
            or self.settings.telephone_event_payload_type,
            bind_host=self.settings.bind_host,
            port_range=self.settings.port_range,
            inactivity_timeout=self.settings.inactivity_timeout,
            on_dtmf=lambda event: self._on_dtmf(call, event),
            on_inactive=lambda: self._on_inactive(call),
        )
        await media.start()
        call.media = media
        return media

    def _on_dtmf(self, call: Call, event: DtmfEvent) -> None:
        """Report a digit the remote side pressed."""
        if call.state is CallState.CONNECTED:
            self._emit(
                CallEventType.DTMF,
                call,
                digit=event.digit,
                duration_ms=event.duration_ms,
            )

    def _on_inactive(self, call: Call) -> None:
        """End a connected call whose RTP stopped: the remote side is gone."""
        if call.state is CallState.CONNECTED:
            _LOGGER.info(
                "No RTP for %s s on call %s: ending it",
                self.settings.inactivity_timeout,
                call.call_id,
            )
            self._spawn(self._hang_up(call, EndReason.NO_MEDIA))

    def _start_timer(self, call: Call, delay: float, reason: EndReason) -> None:
        """End the call after `delay` unless something happens first."""
        self._cancel_timer(call)
        loop = asyncio.get_running_loop()
        self._timers[call.call_id] = loop.call_later(
            delay, self._on_timer, call, reason
        )

    def _cancel_timer(self, call: Call) -> None:
        """Forget the call's timer."""
        if (timer := self._timers.pop(call.call_id, None)) is not None:
            timer.cancel()

    def _on_timer(self, call: Call, reason: EndReason) -> None:
        """Give up on a call nobody answered in time."""
        self._timers.pop(call.call_id, None)
        if call.state is CallState.CONNECTED:
            if call.media is not None and call.media.last_packet_at is None:
                _LOGGER.info("No RTP at all on call %s: ending it", call.call_id)
                self._spawn(self._hang_up(call, reason))
        elif call.state is CallState.RINGING:
            self._spawn(self._reject(call, reason))
        elif call.state in (
            CallState.DIALING,
            CallState.REMOTE_RINGING,
            CallState.ENDING,
        ):
            call.hangup_requested = True
            self._spawn(self._finish(call, reason, CallEventType.HUNG_UP))

    async def _reject(
        self, call: Call, reason: EndReason, *, raise_errors: bool = False
    ) -> None:
        """Refuse a ringing call (the platform sends busy) and end it."""
        await self._hang_up(call, reason, raise_errors=raise_errors)

    async def _hang_up(
        self, call: Call, reason: EndReason, *, raise_errors: bool = False
    ) -> None:
        """Ask the platform to end the call, then end it here whatever the answer."""
        self._set_state(call, CallState.ENDING)
        error: CloudSipUaError | None = None
        if call.reply_id is not None:
            try:
                async with asyncio.timeout(HANGUP_TIMEOUT):
                    await self._client.hang_up(
                        call.reply_id, site_base_url=call.site_base_url
                    )
            except CloudSipUaError as err:
                error = err
                _LOGGER.warning("Hanging up call %s failed: %s", call.call_id, err)
            except TimeoutError:
                _LOGGER.warning("Hanging up call %s timed out", call.call_id)
        await self._finish(call, reason, CallEventType.HUNG_UP)
        if error is not None and raise_errors:
            raise error

    async def _hang_up_orphan(self, reply_id: str, site_base_url: str | None) -> None:
        """End a call the platform connected but that we no longer track."""
        try:
            await self._client.hang_up(reply_id, site_base_url=site_base_url)
        except CloudSipUaError as err:
            _LOGGER.warning("Ending an orphaned call failed: %s", err)

    async def _finish(
        self, call: Call, reason: EndReason, event_type: CallEventType
    ) -> None:
        """Release everything the call holds and report its end (once)."""
        if self._calls.pop(call.call_id, None) is None:
            return
        self._cancel_timer(call)
        self._ended.add(call.call_id)
        call.ended_at = self._wall_clock()
        call.end_reason = reason
        if call.media is not None:
            await call.media.close()
        call.state = CallState.IDLE
        self.history.append(call)
        self._emit(event_type, call)
        self._emit(CallEventType.STATE, call)

    async def close(self) -> None:
        """Hang up every call and stop all background work."""
        for call in list(self._calls.values()):
            if call.state in (CallState.RINGING, CallState.CONNECTED):
                await self._hang_up(call, EndReason.SHUTDOWN)
            else:
                await self._finish(call, EndReason.SHUTDOWN, CallEventType.HUNG_UP)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()


def _matching_crypto(
    local: CryptoEntry | None, answered: tuple[CryptoEntry, ...]
) -> CryptoEntry | None:
    """Return the answerer's crypto entry for our offer: same tag and suite."""
    if local is None:
        return None
    return next(
        (e for e in answered if e.tag == local.tag and e.suite == local.suite), None
    )
