"""The call state machine: callbacks and user actions in, REST requests, media and events out."""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from hashlib import sha256
import logging
import time
from typing import Any
import uuid

from .call_index import CallIndex, IdKind, Ids, Match, reference_candidates
from .callbacks import (
    CallAnswered,
    Callback,
    CallFailed,
    CallHungup,
    CallNotify,
    NewRemoteCall,
    NewRemoteCallResponse,
)
from .calls import (
    Call,
    CallDirection,
    CallEvent,
    CallEventType,
    CallSnapshot,
    CallState,
    EndReason,
)
from .client import CloudSipUaClient
from .display_text import display_text
from .exceptions import (
    CallbackRefusedError,
    CallError,
    CloudSipUaError,
    CloudSipUaRequestRefusedError,
)
from .media.clock import Cancellable, Timers, sleep
from .media.sdes import answer_crypto, generate_crypto
from .media.session import DtmfEvent, MediaSession
from .models import ANSWER_CODECS, PLACE_CODECS, Codec, CryptoEntry
from .policies import SecondCallPolicy, SrtpPolicy
from .rate_limit import TokenBucket
from .requests import AnswerCallRequest, PlaceCallRequest

_LOGGER = logging.getLogger(__name__)

# SIP status the platform reports for a callee that is busy.
SIP_BUSY_HERE = 486
HANGUP_TIMEOUT = 5.0
# Ended calls whose identifiers are remembered, so that late callbacks are recognised.
ENDED_CALL_HISTORY = 256
# Orphan hang-ups (callAnswered for no live call) are requests an unsigned, forged callback can
# trigger: a small budget bounds what a flood of them costs.
ORPHAN_HANGUP_RATE = 0.2
ORPHAN_HANGUP_BURST = 5.0


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
    # Placed calls offer SDES only when asked: the documented callAnswered carries no crypto, so
    # the answer's key may never reach us. Incoming calls follow srtp_policy.
    srtp_on_placed_calls: bool = False
    # Waits between retries of a hang-up the cloud did not acknowledge.
    hangup_retry_delays: tuple[float, ...] = (2.0, 10.0, 60.0)


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
        clock: Timers | None = None,
    ) -> None:
        """Start with no calls; `clock` runs the ring, inactivity and hang-up timers.

        The default is the running event loop; tests pass a ManualClock to move time.
        """
        self._client = client
        self.settings = settings
        self._media_factory = media_factory
        self._wall_clock = wall_clock
        self._clock = clock
        self._calls: dict[str, Call] = {}
        self._index = CallIndex(ENDED_CALL_HISTORY)
        # Hang-ups the cloud has not acknowledged yet: call id -> (replyId, site URL).
        self._unacknowledged: dict[str, tuple[str, str | None]] = {}
        self._orphan_budget = TokenBucket(ORPHAN_HANGUP_RATE, ORPHAN_HANGUP_BURST)
        self._logged_once: set[str] = set()
        self._listeners: list[CallListener] = []
        self._timers: dict[str, Cancellable] = {}
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

    def snapshots(self) -> list[CallSnapshot]:
        """Return the public facts of the active calls, oldest first."""
        return [call.snapshot() for call in self._calls.values()]

    def current_snapshot(self) -> CallSnapshot | None:
        """Return the public facts of the current call (see current_call), if there is one."""
        call = self.current_call
        return call.snapshot() if call is not None else None

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
        """Apply one callback; return the body to answer `newRemoteCall` with.

        Raises CallbackRefusedError for a callback that must not be applied (a host our
        credentials must not go to, a callAnswered for a call we never answered).
        """
        self.counters["callbacks"] += 1
        site: str | None = getattr(callback, "site_base_url", None)
        if site is not None and not self._client.site_allowed(site):
            self.counters["callbacks_untrusted_site"] += 1
            raise CallbackRefusedError(
                "untrusted_site", "siteBaseUrl names a host that is not allowed"
            )
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

    def _log_once(self, reason: str, message: str, *args: object) -> None:
        """Log a decision at INFO the first time per reason, later at DEBUG; always count it."""
        self.counters[reason] += 1
        level = logging.DEBUG if reason in self._logged_once else logging.INFO
        self._logged_once.add(reason)
        _LOGGER.log(level, message, *args)

    def _correlate(
        self, kind: str, ids: Ids, waiting: Callable[[Call], bool]
    ) -> Match | None:
        """Find the call a callback belongs to, in this order.

        1. Our sessionReferenceId (any JSON form): we made it, so it names one call for sure,
           live or recently ended.
        2. Another identifier a live call is known by: SIP Call-ID, traceId, connectionId,
           sessionId (learned from the call's earlier callbacks).
        3. The one call waiting for this kind of callback, when exactly one is and the callback
           names no other SIP Call-ID than the call's.
        4. Another identifier a recently ended call was known by: a late callback.
        Identifiers come before ended calls' because the platform may reuse them (its own
        samples send the same ids for every call).
        """
        references: Ids = {IdKind.REFERENCE: ids.get(IdKind.REFERENCE, ())}
        others: Ids = {k: v for k, v in ids.items() if k is not IdKind.REFERENCE}
        if (match := self._index.find(references)) is not None:
            return match
        if (match := self._index.find(others, ended=False)) is not None:
            return match
        candidates = [
            call
            for call in self._calls.values()
            if waiting(call) and not self._index.conflicts(call.call_id, ids)
        ]
        if len(candidates) > 1:
            self._log_once(
                "callbacks_ambiguous",
                "%s names no known call and %d calls could own it: ignored",
                kind,
                len(candidates),
            )
            return None
        if candidates:
            call = candidates[0]
            self._log_once(
                f"matched_by_elimination_{kind}",
                "%s carried no known identifier; matched to call %s, the only one waiting for it",
                kind,
                call.call_id,
            )
            return Match(call.call_id, live=True, kind=IdKind.REFERENCE)
        return self._index.find(others, live=False)

    def _live(self, match: Match | None) -> Call | None:
        """Return the live call a match names."""
        if match is None or not match.live:
            return None
        return self._calls.get(match.call_id)

    def _live_call(
        self, kind: str, ids: Ids, waiting: Callable[[Call], bool]
    ) -> Call | None:
        """Return the live call a callback is for; count and log (once) one for no call."""
        call = self._live(self._correlate(kind, ids, waiting))
        if call is None:
            self._log_once(
                "callbacks_unknown_call", "Ignoring %s for no active call", kind
            )
        return call

    def _learn(self, call: Call, ids: Ids) -> None:
        """Remember the platform's identifiers of a call from one of its callbacks."""
        self._index.learn(
            call.call_id,
            {
                kind: next(iter(values), None)
                for kind, values in ids.items()
                if kind is not IdKind.REFERENCE
            },
        )

    def _on_new_remote_call(self, callback: NewRemoteCall) -> NewRemoteCallResponse:
        """Start ringing, or refuse the call per the second-call and SRTP policies."""
        reply_digest = sha256(callback.reply_id.encode()).hexdigest()
        if (match := self._index.find({IdKind.REPLY_ID: (reply_digest,)})) is not None:
            # The same callback again (same replyId): answer the same way, change nothing.
            self.counters["callbacks_duplicate"] += 1
            return NewRemoteCallResponse(match.call_id)
        call = Call(
            call_id=uuid.uuid4().hex,
            direction=CallDirection.INCOMING,
            state=CallState.RINGING,
            codec=self._send_codec(callback.codec),
            receive_codec=self._incoming_receive_codec(callback.codec),
            remote_party=display_text(callback.source_user),
            destination=display_text(callback.destination_uri, 256),
            started_at=self._wall_clock(),
            reply_id=callback.reply_id,
            site_base_url=callback.site_base_url,
            platform_call_id=callback.call_id,
            offered_crypto=callback.crypto,
            telephone_event_payload_type=callback.telephone_event_payload_type,
        )
        if callback.remote_rtp_ip and callback.remote_rtp_port:
            call.remote_rtp = (callback.remote_rtp_ip, callback.remote_rtp_port)
        busy = any(
            other.state is not CallState.ENDING for other in self._calls.values()
        )
        self._calls[call.call_id] = call
        self._index.add(call.call_id)
        self._index.learn(
            call.call_id,
            {
                IdKind.REFERENCE: call.call_id,
                IdKind.REPLY_ID: reply_digest,
                IdKind.SIP_CALL_ID: callback.call_id,
                IdKind.TRACE_ID: callback.trace_id,
                IdKind.SESSION_ID: callback.session_id,
            },
        )
        if busy and self.settings.second_call_policy is SecondCallPolicy.BUSY:
            self._spawn(self._end(call, EndReason.BUSY, CallEventType.HUNG_UP))
        elif (
            self.settings.srtp_policy is SrtpPolicy.REQUIRE
            and answer_crypto(call.offered_crypto) is None
        ):
            self._spawn(self._end(call, EndReason.SRTP_REQUIRED, CallEventType.HUNG_UP))
        else:
            self._start_timer(call, self.settings.ring_timeout, EndReason.RING_TIMEOUT)
            self._emit(CallEventType.RING, call)
            self._emit(CallEventType.STATE, call)
        return NewRemoteCallResponse(call.call_id)

    def _send_codec(self, wanted: Codec | None) -> Codec:
        """Send what the remote side wants to receive when we can, else our preference."""
        if wanted in PLACE_CODECS:
            return wanted
        return self.settings.codec_preference[0]

    def _incoming_receive_codec(self, offered: Codec | None) -> Codec:
        """Ask to receive the caller's codec when answerremotecalljwt allows it, else ours."""
        if offered in ANSWER_CODECS:
            return offered
        return next(
            c
            for c in (*self.settings.codec_preference, Codec.PCMA)
            if c in ANSWER_CODECS
        )

    def _on_call_answered(self, callback: CallAnswered) -> None:
        """Connect the call, or hang up one that nobody here wants."""
        ids: Ids = {
            IdKind.REFERENCE: reference_candidates(callback.session_reference_id),
            IdKind.TRACE_ID: _present(callback.trace_id),
            IdKind.CONNECTION_ID: _present(callback.connection_id),
        }
        match = self._correlate("callAnswered", ids, _awaits_answer)
        call = self._live(match)
        if call is None:
            self._on_orphan_answer(callback, match)
            return
        if call.direction is CallDirection.INCOMING and not call.answer_sent:
            self.counters["callbacks_refused"] += 1
            raise CallbackRefusedError(
                "not_answered", "callAnswered for a call that was never answered"
            )
        self._learn(call, ids)
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
            self._spawn(self._end(call, EndReason.LOCAL_HANGUP, CallEventType.HUNG_UP))
            return
        try:
            reason = self._connect_media(call, callback)
        except Exception as err:  # noqa: BLE001 - whatever breaks, the call must end cleanly
            self._log_once(
                "callbacks_failed_to_apply",
                "Connecting call %s failed (%s): ending it",
                call.call_id,
                type(err).__name__,
            )
            call.sip_reason = str(err)[:200]
            self._spawn(self._end(call, EndReason.ERROR, CallEventType.FAILED))
            return
        if reason is not None:
            self._spawn(self._end(call, reason, CallEventType.FAILED))
            return
        # The media session only notices silence after a first packet: catch a remote side
        # that never sends any.
        self._start_timer(call, self.settings.inactivity_timeout, EndReason.NO_MEDIA)
        call.answered_at = self._wall_clock()
        self._set_state(call, CallState.CONNECTED)
        self._emit(CallEventType.ANSWERED, call)

    def _on_orphan_answer(self, callback: CallAnswered, match: Match | None) -> None:
        """Hang up an answered call no live call owns; only when no call could own it."""
        if not callback.reply_id:
            self._log_once(
                "callbacks_unknown_call", "Ignoring callAnswered for no active call"
            )
            return
        if match is None and any(map(_awaits_answer, self._calls.values())):
            # Calls are waiting but none could be told apart: hanging up might kill ours.
            return
        if not self._orphan_budget.allow():
            self._log_once(
                "orphan_hangups_throttled",
                "Too many callAnswered for calls that are not active: not hanging them up",
            )
            return
        self._log_once(
            "orphan_calls_ended",
            "callAnswered for %s: hanging it up",
            f"call {match.call_id}, which has ended" if match else "no known call",
        )
        # Never to the callback's siteBaseUrl: an orphan may be forged.
        self._spawn(self._hang_up_orphan(callback.reply_id))

    def _connect_media(self, call: Call, callback: CallAnswered) -> EndReason | None:
        """Point the media at the remote side; return why the call cannot go on, if it cannot."""
        media = call.media
        if media is None:
            return EndReason.ERROR
        # callAnswered's codec is what the remote side wants to receive, in both directions.
        if callback.codec is not None and callback.codec is not call.codec:
            media.set_codec(callback.codec)
            call.codec = callback.codec
        if call.direction is CallDirection.OUTGOING and call.local_crypto is not None:
            answered = _matching_crypto(call.local_crypto, callback.crypto)
            if answered is None:
                # Plain RTP to a callee that took our key would be silence both ways.
                call.sip_reason = "callAnswered confirmed no SRTP key"
                return EndReason.SRTP_NOT_CONFIRMED
            media.enable_srtp(local=call.local_crypto, remote=answered)
            call.srtp = True
        if call.remote_rtp is not None:
            media.set_remote(*call.remote_rtp)
        return None

    def _on_call_failed(self, callback: CallFailed) -> None:
        """End a placed call the remote side refused."""
        ids: Ids = {
            IdKind.REFERENCE: reference_candidates(callback.session_reference_id),
            IdKind.SIP_CALL_ID: _present(callback.sip_call_id),
            IdKind.TRACE_ID: _present(callback.trace_id),
            IdKind.SESSION_ID: _present(callback.session_id),
        }
        if (call := self._live_call("callFailed", ids, _is_dialing)) is None:
            return
        call.sip_status = callback.sip_status
        call.sip_reason = display_text(callback.sip_reason or callback.error_descr, 200)
        reason = (
            EndReason.BUSY if callback.sip_status == SIP_BUSY_HERE else EndReason.FAILED
        )
        # The call never connected at the cloud: there is nothing to hang up there.
        call.reply_id = None
        self._spawn(self._end(call, reason, CallEventType.FAILED))

    def _on_call_hungup(self, callback: CallHungup) -> None:
        """End a call the remote side (or the platform) hung up."""
        ids: Ids = {
            IdKind.REFERENCE: reference_candidates(callback.session_reference_id),
            IdKind.SIP_CALL_ID: _present(callback.call_id),
        }
        if (call := self._live_call("callHungup", ids, _is_live)) is None:
            return
        # Still hung up at the cloud with our replyId: without callback signing this callback
        # may be forged, and a call that really ended just refuses the request.
        self._spawn(self._end(call, EndReason.REMOTE_HANGUP, CallEventType.HUNG_UP))

    def _on_call_notify(self, callback: CallNotify) -> None:
        """Report that the callee's phone rings."""
        ids: Ids = {
            IdKind.REFERENCE: reference_candidates(callback.session_reference_id),
            IdKind.SIP_CALL_ID: _present(callback.sip_call_id),
            IdKind.TRACE_ID: _present(callback.trace_id),
            IdKind.SESSION_ID: _present(callback.session_id),
        }
        if (call := self._live_call("callNotify", ids, _is_dialing)) is None:
            return
        self._learn(call, ids)
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
        if (
            self.settings.srtp_policy is SrtpPolicy.REQUIRE
            and not self.settings.srtp_on_placed_calls
        ):
            raise CallError(
                "srtp_required_placed",
                "SRTP is required, but placed calls do not offer it",
            )
        codec = codec or next(
            c for c in self.settings.codec_preference if c in PLACE_CODECS
        )
        call = Call(
            call_id=uuid.uuid4().hex,
            direction=CallDirection.OUTGOING,
            state=CallState.DIALING,
            # We ask to receive `codec` and send it too until callAnswered says otherwise.
            codec=codec,
            receive_codec=codec,
            remote_party=display_text(destination_uri, 256),
            destination=display_text(destination_uri, 256),
            started_at=self._wall_clock(),
            telephone_event_payload_type=self.settings.telephone_event_payload_type,
        )
        media = await self._open_media(call)
        crypto: tuple[CryptoEntry, ...] = ()
        if self.settings.srtp_on_placed_calls:
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
        self._index.add(call.call_id)
        self._index.learn(call.call_id, {IdKind.REFERENCE: call.call_id})
        self._emit(CallEventType.STATE, call)
        try:
            await self._client.place_call(request)
        except CloudSipUaError:
            await self._end(call, EndReason.FAILED, CallEventType.FAILED)
            raise
        if call.state is not CallState.IDLE:
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
            codec=call.receive_codec or call.codec,
            telephone_event_payload_type=call.telephone_event_payload_type
            or self.settings.telephone_event_payload_type,
            crypto=crypto,
            session_reference_id=call.call_id,
        )
        # Before the request: callAnswered may overtake its response.
        call.answer_sent = True
        try:
            await self._client.answer_call(request, site_base_url=call.site_base_url)
        except CloudSipUaError:
            call.answer_sent = False
            call.media = None
            call.srtp = False
            await media.close()
            raise
        return call

    async def send_ringback(self, call_id: str | None = None) -> Call:
        """Tell the caller that we are ringing (180 Ringing)."""
        call = self._require(call_id, CallState.RINGING)
        if call.reply_id is None:
            raise CallError("not_ringing", "The call cannot be rung back")
        await self._client.send_ringback(
            call.reply_id, site_base_url=call.site_base_url
        )
        return call

    async def hang_up(self, call_id: str | None = None) -> Call:
        """End a call: reject when ringing, hang up when connected, cancel when dialing."""
        call = self.get_call(call_id)
        if call.state is CallState.ENDING:
            raise CallError("already_ending", "The call is already ending")
        if call.state is CallState.RINGING and call.answer_sent:
            # Answered, but callAnswered (with the replyId that can hang up) is still on its
            # way: hang up when it arrives, or give up after a while.
            call.hangup_requested = True
            self._set_state(call, CallState.ENDING)
            self._start_timer(call, HANGUP_TIMEOUT, EndReason.LOCAL_HANGUP)
        elif call.state in (CallState.RINGING, CallState.CONNECTED):
            reason = (
                EndReason.REJECTED
                if call.state is CallState.RINGING
                else EndReason.LOCAL_HANGUP
            )
            await self._end(call, reason, CallEventType.HUNG_UP, raise_errors=True)
        else:
            # A placed call has no replyId before it is answered: hang up as soon as it is.
            call.hangup_requested = True
            await self._end(call, EndReason.LOCAL_HANGUP, CallEventType.HUNG_UP)
        return call

    async def send_dtmf(
        self, digits: str, *, duration_ms: int = 100, call_id: str | None = None
    ) -> Call:
        """Send DTMF digits as RFC 4733 telephone events."""
        call = self.get_call(call_id)
        await self.media_of(call.call_id).send_dtmf(digits, duration_ms)
        return call

    def media_of(self, call_id: str | None = None) -> MediaSession:
        """Return the media session of a connected call."""
        call = self._require(call_id, CallState.CONNECTED)
        if call.media is None:
            raise CallError("no_media", "The call has no audio")
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

    def reply_ids_to_keep(self) -> list[dict[str, str | None]]:
        """Return every replyId that may still end a call at the cloud (for a restart)."""
        kept = {
            call.call_id: (call.reply_id, call.site_base_url)
            for call in self._calls.values()
            if call.reply_id is not None
        }
        kept.update(self._unacknowledged)
        return [
            {"reply_id": reply_id, "site_base_url": site}
            for reply_id, site in kept.values()
        ]

    def sizes(self) -> dict[str, int]:
        """Return how much the manager holds (bounded whatever the number of calls)."""
        return {
            "calls": len(self._calls),
            "timers": len(self._timers),
            "tasks": len(self._tasks),
            "unacknowledged_hangups": len(self._unacknowledged),
            "history": len(self.history),
            "logged_reasons": len(self._logged_once),
            **self._index.sizes(),
        }

    # ---- media, timers and endings

    async def _open_media(self, call: Call) -> MediaSession:
        """Bind a media session for the call and wire its events."""
        media = self._media_factory(
            codec=call.codec,
            telephone_event_payload_type=call.telephone_event_payload_type
            or self.settings.telephone_event_payload_type,
            bind_host=self.settings.bind_host,
            port_range=self.settings.port_range,
            # A public media address refuses private remotes (unless the factory says otherwise).
            media_address=self.settings.media_address,
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
            self._spawn(self._end(call, EndReason.NO_MEDIA, CallEventType.HUNG_UP))

    def _start_timer(self, call: Call, delay: float, reason: EndReason) -> None:
        """End the call after `delay` unless something happens first."""
        self._cancel_timer(call)
        self._timers[call.call_id] = self._timers_clock().call_later(
            delay, self._on_timer, call, reason
        )

    def _timers_clock(self) -> Timers:
        """Return the clock of our timers: the injected one, else the running loop."""
        return self._clock or asyncio.get_running_loop()

    def _cancel_timer(self, call: Call) -> None:
        """Forget the call's timer."""
        if (timer := self._timers.pop(call.call_id, None)) is not None:
            timer.cancel()

    def _on_timer(self, call: Call, reason: EndReason) -> None:
        """Give up on a call nobody answered in time (or that never got any RTP)."""
        self._timers.pop(call.call_id, None)
        if call.state is CallState.CONNECTED:
            if call.media is not None and call.media.last_packet_at is None:
                _LOGGER.info("No RTP at all on call %s: ending it", call.call_id)
                self._spawn(self._end(call, reason, CallEventType.HUNG_UP))
            return
        if call.state is not CallState.RINGING:
            call.hangup_requested = True
        self._spawn(self._end(call, reason, CallEventType.HUNG_UP))

    async def _end(
        self,
        call: Call,
        reason: EndReason,
        event_type: CallEventType,
        *,
        raise_errors: bool = False,
    ) -> None:
        """End a call here, and at the cloud whenever it holds a replyId; report it once.

        Before answering, hangupcalljwt sends busy; after, it hangs up. A hang-up the cloud
        does not acknowledge is retried in the background (and its replyId kept on disk).
        """
        if call.call_id not in self._calls or call.state is CallState.IDLE:
            return
        self._cancel_timer(call)
        error: CloudSipUaError | None = None
        if call.reply_id is not None and call.state is not CallState.ENDING:
            self._set_state(call, CallState.ENDING)
            error = await self._hang_up_at_cloud(call)
        elif call.reply_id is not None:
            error = await self._hang_up_at_cloud(call)
        await self._finish(call, reason, event_type)
        if error is not None and raise_errors:
            raise error

    async def _hang_up_at_cloud(self, call: Call) -> CloudSipUaError | None:
        """Send hangupcalljwt once; queue retries unless the cloud answered; return a refusal."""
        assert call.reply_id is not None  # noqa: S101 - only called with one
        reply_id, site = call.reply_id, call.site_base_url
        try:
            async with asyncio.timeout(HANGUP_TIMEOUT):
                await self._client.hang_up(reply_id, site_base_url=site)
        except CloudSipUaRequestRefusedError as err:
            # The cloud judged the request: the call is gone there (or was never up).
            _LOGGER.debug("The cloud refused hanging up call %s: %s", call.call_id, err)
            return err
        except (CloudSipUaError, TimeoutError) as err:
            _LOGGER.warning(
                "Hanging up call %s failed (%s): retrying in the background",
                call.call_id,
                type(err).__name__,
            )
            self._unacknowledged[call.call_id] = (reply_id, site)
            self._spawn(self._retry_hang_up(call))
        # Ended here and retried in the background: nothing the user needs to act on now.
        return None

    async def _retry_hang_up(self, call: Call) -> None:
        """Retry an unacknowledged hang-up with backoff; report it if the cloud never answers."""
        for delay in self.settings.hangup_retry_delays:
            await sleep(self._timers_clock(), delay)
            if (pending := self._unacknowledged.get(call.call_id)) is None:
                return
            try:
                async with asyncio.timeout(HANGUP_TIMEOUT):
                    await self._client.hang_up(pending[0], site_base_url=pending[1])
            except CloudSipUaRequestRefusedError:
                pass
            except (CloudSipUaError, TimeoutError) as err:
                _LOGGER.debug(
                    "Retrying the hang-up of %s failed: %s", call.call_id, err
                )
                continue
            del self._unacknowledged[call.call_id]
            self._emit(CallEventType.STATE, call)
            return
        _LOGGER.warning(
            "The cloud never acknowledged hanging up call %s; it may still be up there",
            call.call_id,
        )
        self._emit(CallEventType.HANG_UP_FAILED, call)

    async def _hang_up_orphan(self, reply_id: str) -> None:
        """End a call the platform connected but that we no longer track."""
        try:
            await self._client.hang_up(reply_id)
        except CloudSipUaError as err:
            _LOGGER.debug("Ending an orphaned call failed: %s", err)

    async def _finish(
        self, call: Call, reason: EndReason, event_type: CallEventType
    ) -> None:
        """Release everything the call holds and report its end (once)."""
        if self._calls.pop(call.call_id, None) is None:
            return
        self._cancel_timer(call)
        self._index.retire(call.call_id)
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
            await self._end(call, EndReason.SHUTDOWN, CallEventType.HUNG_UP)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()


def _present(value: str | None) -> tuple[str, ...]:
    """Return the identifier as a one-element tuple, or none."""
    return (value,) if value else ()


def _awaits_answer(call: Call) -> bool:
    """Return True for a call a callAnswered may be for: placed and not answered, or answered by us."""
    if call.direction is CallDirection.OUTGOING:
        return call.state in (CallState.DIALING, CallState.REMOTE_RINGING)
    return call.answer_sent and call.state in (CallState.RINGING, CallState.ENDING)


def _is_dialing(call: Call) -> bool:
    """Return True for a placed call that is not answered yet."""
    return call.state in (CallState.DIALING, CallState.REMOTE_RINGING)


def _is_live(call: Call) -> bool:
    """Return True for a call that is not ending."""
    return call.state is not CallState.ENDING


def _matching_crypto(
    local: CryptoEntry | None, answered: tuple[CryptoEntry, ...]
) -> CryptoEntry | None:
    """Return the answerer's crypto entry for our offer: same tag and suite."""
    if local is None:
        return None
    return next(
        (e for e in answered if e.tag == local.tag and e.suite == local.suite), None
    )
