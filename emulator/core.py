"""The emulator: the Cloud SIP UA service's call state machine and its remote parties.

It knows nothing of HTTP serving: server.py runs the web application around it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Coroutine
import logging
from pathlib import Path
import time
from typing import Any, Literal

import aiohttp

from custom_components.cloud_sip_ua.cloudsipua.models import Codec, CryptoEntry

from . import fields, payloads
from .audio import PcmLoop, ToneGenerator, read_wav
from .auth import ApiTokenVerifier
from .callbacks import CallbackRecord, CallbackSender
from .calls import CallDirection, CallState, EmulatedCall
from .config import EmulatorConfig
from .far_end.errors import FarEndError
from .far_end.sdes import answer as answer_crypto, new_crypto as generate_crypto
from .faults import Faults
from .fields import Refusal
from .remote_party import AudioSource, RemoteParty
from .reply_ids import ReplyIdError, ReplyIdIssuer, ReplyStep
from .signing import CallbackSigner
from .timers import Cancellable, Timers, sleep
from .vendor_samples import as_vendor_sample

_LOGGER = logging.getLogger(__name__)

type PlacedCallPolicy = Literal["manual", "answer", "reject"]
PLACED_CALL_POLICIES: tuple[PlacedCallPolicy, ...] = ("manual", "answer", "reject")

OK: dict[str, Any] = {"success": True}


class EmulatorError(Exception):
    """A control request cannot be carried out (unknown call, wrong state, bad value)."""


class UnknownCallError(EmulatorError):
    """No call has this Call-ID."""


def _refused(reason: str) -> dict[str, Any]:
    """Return the API answer for a refused request."""
    return {"success": False, "reason": reason}


class EmulatorCore:
    """Plays the Cloud SIP UA service and the people at the far end of its calls.

    `server.Emulator` serves it over HTTP; the API handlers call `api_request` and the
    control API the methods below.
    """

    def __init__(self, config: EmulatorConfig, *, clock: Timers | None = None) -> None:
        """Check the keys and prepare; timeouts and delays run on `clock` (default: the loop)."""
        self.config = config
        self._clock = clock
        self.faults = Faults()
        self.placed_call_policy: PlacedCallPolicy = "manual"
        # Requests each API operation received, whatever came of them.
        self.api_requests: Counter[str] = Counter()
        self.placed_call_delay = 0.0
        self.placed_call_reject_status = 486
        self.placed_call_reject_reason = "Busy Here"
        self.placed_call_tone_hz = 440.0
        self.placed_call_wav: Path | None = None
        self.verifier = ApiTokenVerifier(
            config.api_public_key_pem,
            require_exp=config.api_jwt_require_exp,
            audience=config.api_jwt_audience,
            issuer=config.api_jwt_issuer,
        )
        self.signer = CallbackSigner(
            config.callback_signing_private_key_pem,
            issuer=config.callback_issuer,
            ttl=config.callback_token_ttl,
        )
        self._reply_ids = ReplyIdIssuer(config.domain, config.reply_id_ttl)
        self._calls: dict[str, EmulatedCall] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ring_timers: dict[str, Cancellable] = {}
        self._changed = asyncio.Event()
        self._http: aiohttp.ClientSession | None = None
        self._sender: CallbackSender | None = None
        self._base_url = ""

    # ----- lifecycle -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Return the API base URL, e.g. `http://127.0.0.1:8080` (empty until served)."""
        return self._base_url

    @property
    def sender(self) -> CallbackSender:
        """Return the callback sender (after start)."""
        if self._sender is None:
            raise EmulatorError("the emulator is not running")
        return self._sender

    async def start(self) -> None:
        """Open the HTTP client that sends the callbacks."""
        self._http = aiohttp.ClientSession()
        self._sender = CallbackSender(
            self._http,
            self.signer,
            self.faults,
            timeout=self.config.callback_timeout,
            retries=self.config.callback_retries,
            backoff=self.config.callback_backoff,
            timers=self._clock,
        )

    async def stop(self) -> None:
        """End every call without callbacks and close the HTTP client."""
        await self._end_calls()
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _end_calls(self) -> None:
        """End every call and pending task without sending callbacks."""
        for timer in self._ring_timers.values():
            timer.cancel()
        self._ring_timers.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for call in self._calls.values():
            await call.remote_party.close()

    # ----- what tests and the control API see --------------------------------------------

    @property
    def calls(self) -> list[EmulatedCall]:
        """Return every call so far, oldest first."""
        return list(self._calls.values())

    @property
    def callback_log(self) -> list[CallbackRecord]:
        """Return every callback sent (or dropped) so far, oldest first."""
        return list(self.sender.log)

    def get_call(self, call_id: str) -> EmulatedCall:
        """Return a call by its SIP Call-ID or raise EmulatorError."""
        try:
            return self._calls[call_id]
        except KeyError:
            raise UnknownCallError(f"no call {call_id!r}") from None

    def expire_reply_ids(self) -> int:
        """Make every replyId handed out so far expired (fault injection); return how many."""
        return self._reply_ids.expire_all()

    async def wait_for_state(
        self, call_id: str, state: str, timeout: float = 5.0
    ) -> EmulatedCall:
        """Wait until a call is in this state; raise TimeoutError if it does not get there."""
        call = self.get_call(call_id)
        async with asyncio.timeout(timeout):
            while call.state != state:
                await self._changed.wait()
        return call

    async def wait_for_callback(
        self,
        name: str,
        call_id: str | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> CallbackRecord:
        """Wait until the count-th callback of this name (for this call) is logged; return it."""
        return await self.sender.wait_for(name, call_id, count=count, timeout=timeout)

    # ----- the remote party's actions ------------------------------------------------------

    async def ring(
        self,
        *,
        caller: str = "1234567",
        callee: str | None = None,
        codec: Codec = Codec.PCMA,
        srtp: bool = False,
        tone_hz: float = 440.0,
        wav: Path | bytes | None = None,
        quirks: bool | None = None,
        callback_base_url: str | None = None,
        telephone_event_payload_type: int | None = 101,
        ring_timeout: float | None = None,
    ) -> EmulatedCall:
        """Start an incoming call ("ring the doorbell"): send newRemoteCall and return the call."""
        try:
            base_url = fields.callback_base_url(
                callback_base_url or self.config.default_callback_base_url
            )
            source = self._audio_source(tone_hz, wav)
        except (Refusal, ValueError) as err:
            raise EmulatorError(str(err)) from err
        try:
            party = self._new_party(Codec(codec), source, telephone_event_payload_type)
            await party.start()
        except FarEndError as err:
            raise EmulatorError(f"the remote party has no media: {err}") from err
        call = EmulatedCall(
            direction=CallDirection.INCOMING,
            state=CallState.RINGING,
            caller=caller,
            callee=callee or f"sip:door@{self.config.domain}",
            codec=Codec(codec),
            remote_party=party,
            callback_base_url=base_url,
            quirks=self.config.quirks if quirks is None else quirks,
            telephone_event_payload_type=telephone_event_payload_type,
            srtp=srtp,
        )
        if srtp:
            call.offered_crypto = [generate_crypto(tag=1)]
        self._add_call(call)
        reply_id = self._reply_ids.issue(call.call_id, ReplyStep.INCOMING)
        self._arm_ring_timer(
            call, self.config.ring_timeout if ring_timeout is None else ring_timeout
        )
        record = await self._send_callback(
            call,
            "newRemoteCall",
            lambda: payloads.new_remote_call(
                call,
                reply_id=reply_id,
                domain=self.config.domain,
                ivr_server=self.config.ivr_server,
            ),
        )
        self._adopt_session_reference(call, record)
        return call

    async def remote_answer(self, call_id: str) -> EmulatedCall:
        """Answer a placed call as the remote party."""
        call = self.get_call(call_id)
        if call.direction is not CallDirection.OUTGOING or call.state not in (
            CallState.CALLING,
            CallState.RINGING,
        ):
            raise EmulatorError("only a placed call that is ringing can be answered")
        party = call.remote_party
        answer: CryptoEntry | None = None
        if call.offered_crypto:
            pair = answer_crypto(call.offered_crypto)
            if pair is None:
                self._fail(call, 488, "Not Acceptable Here")
                return call
            remote, answer = pair
            party.enable_srtp(local=answer, remote=remote)
        assert (
            call.device_rtp is not None
        )  # placed calls always carry the device's address
        party.connect(*call.device_rtp)
        self._connect(call, answer)
        return call

    async def remote_reject(
        self, call_id: str, status: int = 486, reason: str = "Busy Here"
    ) -> EmulatedCall:
        """Refuse a placed call as the remote party: callFailed with this SIP status."""
        call = self.get_call(call_id)
        if not 300 <= status <= 699:
            raise EmulatorError("a rejection needs a SIP status from 300 to 699")
        if call.direction is not CallDirection.OUTGOING or call.state not in (
            CallState.CALLING,
            CallState.RINGING,
        ):
            raise EmulatorError("only a placed call that is ringing can be rejected")
        self._fail(call, status, reason)
        return call

    async def remote_hangup(self, call_id: str) -> EmulatedCall:
        """Hang up as the remote party (an unanswered incoming call is cancelled)."""
        call = self.get_call(call_id)
        if call.ended:
            raise EmulatorError("the call has already ended")
        if (
            call.direction is CallDirection.OUTGOING
            and call.state is not CallState.CONNECTED
        ):
            self._fail(call, 603, "Decline")
        elif call.state is CallState.CONNECTED:
            self._end(call, "remote_hangup")
        else:
            self._end(call, "cancelled", 487, "Request Terminated")
        return call

    async def send_dtmf(
        self, call_id: str, digits: str, duration_ms: int = 100
    ) -> None:
        """Send RFC 4733 DTMF from the remote party on a connected call."""
        call = self.get_call(call_id)
        if call.state is not CallState.CONNECTED:
            raise EmulatorError("DTMF needs a connected call")
        if not digits or any(d not in "0123456789*#ABCDabcd" for d in digits):
            raise EmulatorError("DTMF digits are 0-9, *, # and A-D")
        try:
            await call.remote_party.send_dtmf(digits.upper(), duration_ms=duration_ms)
        except (FarEndError, ValueError) as err:
            raise EmulatorError(f"DTMF could not be sent: {err}") from err
        call.note(f"sent DTMF {digits.upper()}")

    # ----- the vendor API ----------------------------------------------------------------

    async def api_request(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        """Carry out one schema-valid API request; return the JSON answer."""
        handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "answerremotecalljwt": self._api_answer,
            "hangupcalljwt": self._api_hangup,
            "placeremotecalljwt": self._api_place,
            "sendremotecallringbackjwt": self._api_ringback,
        }
        try:
            return handlers[operation](body)
        except (Refusal, ReplyIdError) as err:
            return _refused(str(err))

    def _granted_call(
        self, body: dict[str, Any], operation: str
    ) -> tuple[EmulatedCall, ReplyStep]:
        """Return the call and step the request's replyId grants, or refuse."""
        grant = self._reply_ids.check(body["replyId"], operation)
        call = self._calls.get(grant.call_id)
        if call is None:  # pragma: no cover - calls are never forgotten
            raise ReplyIdError("unknown replyId")
        return call, grant.step

    def _api_ringback(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send 180 Ringing for an incoming call."""
        call, _ = self._granted_call(body, "sendremotecallringbackjwt")
        if call.state is not CallState.RINGING:
            raise Refusal(f"call is {call.state}, not ringing")
        call.ringback_sent = True
        call.note("ringback sent (180 Ringing)")
        return OK

    def _api_answer(self, body: dict[str, Any]) -> dict[str, Any]:
        """Answer an incoming call: media to the device's address, then callAnswered."""
        call, _ = self._granted_call(body, "answerremotecalljwt")
        if call.state is not CallState.RINGING:
            raise Refusal(f"call is {call.state}, not ringing")
        address = fields.receive_address(body)
        codec = fields.codec(body, call.codec)
        payload_type = fields.telephone_event_payload_type(
            body, call.telephone_event_payload_type
        )
        answered = fields.crypto_entries(body)
        keys = self._incoming_srtp_keys(call, answered)
        party = call.remote_party
        if keys is not None:
            try:
                party.enable_srtp(local=keys[0], remote=keys[1])
            except FarEndError as err:
                raise Refusal(f"crypto cannot be used: {err}") from err
        if (reference := fields.optional_text(body, "sessionReferenceId")) is not None:
            call.session_reference_id = reference
        call.codec = codec
        party.set_codec(codec)
        call.telephone_event_payload_type = payload_type
        party.set_telephone_event_payload_type(payload_type)
        party.connect(*address)
        call.device_rtp = address
        self._connect(call, None)
        return OK

    @staticmethod
    def _incoming_srtp_keys(
        call: EmulatedCall, answered: list[CryptoEntry]
    ) -> tuple[CryptoEntry, CryptoEntry] | None:
        """Return (our offered key, their answered key), or None for plain RTP; refuse mismatches."""
        if not call.offered_crypto:
            if answered:
                raise Refusal("crypto answered but SRTP was not offered")
            return None
        for entry in answered:
            for offered in call.offered_crypto:
                if entry.tag == offered.tag and entry.suite == offered.suite:
                    return offered, entry
        raise Refusal(
            "SRTP was offered: answer with a crypto entry echoing an offered id and suite"
        )

    def _api_hangup(self, body: dict[str, Any]) -> dict[str, Any]:
        """Hang up: busy (486) before the answer, a normal hangup after it."""
        call, step = self._granted_call(body, "hangupcalljwt")
        if call.ended:
            raise Refusal("call has already ended")
        if step is ReplyStep.INCOMING:
            if call.state is not CallState.RINGING:
                raise Refusal(
                    "call was answered: hang up with the replyId from callAnswered"
                )
            self._end(call, "busy", 486, "Busy Here")
        else:
            self._end(call, "local_hangup")
        return OK

    def _api_place(self, body: dict[str, Any]) -> dict[str, Any]:
        """Place a call to a SIP URI; callNotify and callAnswered or callFailed follow."""
        destination = fields.destination_uri(body)
        address = fields.receive_address(body)
        codec = fields.codec(body, Codec.PCMA)
        payload_type = fields.telephone_event_payload_type(body, 101)
        offered = fields.crypto_entries(body)
        base_url = fields.callback_base_url(
            body.get("callbackBaseUrl") or self.config.default_callback_base_url
        )
        try:
            source = self._audio_source(self.placed_call_tone_hz, self.placed_call_wav)
        except ValueError as err:
            raise Refusal(f"the remote party has no audio: {err}") from err
        try:
            party = self._new_party(codec, source, payload_type)
            playable = True
        except FarEndError:
            # The remote party cannot set up media for this codec: it will refuse the
            # INVITE with 488, so a PCMA party stands in to keep the call's records.
            party = self._new_party(Codec.PCMA, source, payload_type)
            playable = False
        call = EmulatedCall(
            direction=CallDirection.OUTGOING,
            state=CallState.CALLING,
            caller=fields.optional_text(body, "sourceUser") or "anonymous",
            callee=destination,
            codec=codec,
            remote_party=party,
            callback_base_url=base_url,
            quirks=self.config.quirks,
            telephone_event_payload_type=payload_type,
            srtp=bool(offered),
            session_reference_id=fields.optional_text(body, "sessionReferenceId"),
            device_rtp=address,
            offered_crypto=offered,
        )
        self._add_call(call)
        if playable:
            self._spawn(self._run_placed_call(call))
        else:
            self._fail(call, 488, "Not Acceptable Here")
        return OK

    async def _run_placed_call(self, call: EmulatedCall) -> None:
        """Ring the remote party, then apply the placed-call policy."""
        try:
            await call.remote_party.start()
        except FarEndError as err:
            _LOGGER.warning("Remote party for a placed call has no media: %s", err)
            self._fail(call, 503, "Service Unavailable")
            return
        self._set_state(call, CallState.RINGING)
        self._post_callback(
            call,
            "callNotify",
            lambda: payloads.call_notify(
                call,
                "ringing",
                ivr_server=self.config.ivr_server,
                site_id=self.config.site_id,
                site_base_url=self.config.site_base_url,
            ),
        )
        self._arm_ring_timer(call, self.config.ring_timeout)
        policy = self.placed_call_policy
        if policy == "manual":
            return
        await sleep(self.timers(), self.placed_call_delay)
        if call.state is not CallState.RINGING:
            return
        if policy == "answer":
            await self.remote_answer(call.call_id)
        else:
            await self.remote_reject(
                call.call_id,
                self.placed_call_reject_status,
                self.placed_call_reject_reason,
            )

    # ----- state changes -------------------------------------------------------------------

    def _connect(self, call: EmulatedCall, answer: CryptoEntry | None) -> None:
        """Mark a call connected, start the remote party's audio and send callAnswered."""
        self._cancel_ring_timer(call)
        call.answered_at = time.time()
        self._set_state(call, CallState.CONNECTED)
        call.remote_party.start_playback()
        reply_id = self._reply_ids.issue(call.call_id, ReplyStep.CONNECTED)
        self._post_callback(
            call,
            "callAnswered",
            lambda: payloads.call_answered(
                call,
                reply_id=reply_id,
                answer_crypto=answer.to_json() if answer is not None else None,
                site_id=self.config.site_id,
                site_base_url=self.config.site_base_url,
            ),
        )

    def _end(
        self,
        call: EmulatedCall,
        reason: str,
        sip_status: int | None = None,
        sip_reason: str | None = None,
    ) -> None:
        """End a call that was set up or offered: callHungup, media closed."""
        self._finish(call, CallState.ENDED, reason, sip_status, sip_reason)
        self._post_callback(call, "callHungup", lambda: payloads.call_hungup(call))

    def _fail(self, call: EmulatedCall, sip_status: int, sip_reason: str) -> None:
        """Fail a placed call: callFailed with the remote side's SIP status."""
        reason = "ring_timeout" if sip_status == 408 else "rejected"
        self._finish(call, CallState.FAILED, reason, sip_status, sip_reason)
        self._post_callback(
            call,
            "callFailed",
            lambda: payloads.call_failed(
                call,
                sip_status=sip_status,
                sip_reason=sip_reason,
                domain=self.config.domain,
                ivr_server=self.config.ivr_server,
            ),
        )

    def _finish(
        self,
        call: EmulatedCall,
        state: CallState,
        reason: str,
        sip_status: int | None,
        sip_reason: str | None,
    ) -> None:
        """Record how a call ended and release its media."""
        self._cancel_ring_timer(call)
        call.end_reason = reason
        call.sip_status = sip_status
        call.sip_reason = sip_reason
        call.ended_at = time.time()
        self._set_state(call, state)
        self._spawn(self._release_media(call))

    async def _release_media(self, call: EmulatedCall) -> None:
        """Close the remote party and keep its recording if a state directory is set."""
        party = call.remote_party
        await party.close()
        if self.config.state_dir is not None:
            folder = self.config.state_dir / "recordings"
            wav = party.recorded_wav()
            await asyncio.to_thread(_write_file, folder / f"{call.call_id}.wav", wav)

    def _set_state(self, call: EmulatedCall, state: CallState) -> None:
        """Change a call's state and wake whoever waits for a change."""
        call.state = state
        call.note(f"state {state}")
        self._changed.set()
        self._changed = asyncio.Event()

    def _add_call(self, call: EmulatedCall) -> None:
        """Track a new call."""
        self._calls[call.call_id] = call
        call.note(f"{call.direction} call {call.state}")
        self._changed.set()
        self._changed = asyncio.Event()

    def _arm_ring_timer(self, call: EmulatedCall, timeout: float) -> None:
        """End the call if it is not answered in time."""
        self._ring_timers[call.call_id] = self.timers().call_later(
            timeout, self._ring_timed_out, call
        )

    def _cancel_ring_timer(self, call: EmulatedCall) -> None:
        """Stop a call's ring timer, if it has one."""
        timer = self._ring_timers.pop(call.call_id, None)
        if timer is not None:
            timer.cancel()

    def _ring_timed_out(self, call: EmulatedCall) -> None:
        """Nobody answered: an incoming call is cancelled, a placed one fails with 408."""
        self._ring_timers.pop(call.call_id, None)
        if (
            call.state is CallState.CONNECTED or call.ended
        ):  # pragma: no cover - timer cancelled
            return
        if call.direction is CallDirection.INCOMING:
            self._end(call, "ring_timeout", 487, "Request Terminated")
        else:
            self._fail(call, 408, "Request Timeout")

    def _on_media_inactive(self, call: EmulatedCall) -> None:
        """No RTP from the device for too long: the remote party hangs up."""
        if call.state is CallState.CONNECTED:
            self._end(call, "no_media")

    # ----- helpers -----------------------------------------------------------------------

    def _new_party(
        self, codec: Codec, source: AudioSource, payload_type: int | None
    ) -> RemoteParty:
        """Return an unstarted remote party with the configured media settings."""
        party = RemoteParty(
            codec=codec,
            host=self.config.media_host,
            port_range=self.config.media_port_range,
            source=source,
            telephone_event_payload_type=payload_type,
            inactivity_timeout=self.config.media_inactivity_timeout,
            on_inactive=lambda: self._party_inactive(party),
            timers=self.timers(),
        )
        return party

    def timers(self) -> Timers:
        """Return the clock that ring timeouts, delays and media inactivity run on."""
        return self._clock if self._clock is not None else asyncio.get_running_loop()

    def _party_inactive(self, party: RemoteParty) -> None:
        """Find the call of a party that heard nothing for too long and end it."""
        for call in self._calls.values():
            if call.remote_party is party:
                self._on_media_inactive(call)

    @staticmethod
    def _audio_source(tone_hz: float, wav: Path | bytes | None) -> AudioSource:
        """Return the remote party's audio: a WAV file if given, else a tone."""
        if wav is not None:
            pcm, _rate = read_wav(wav)
            return PcmLoop(pcm)
        return ToneGenerator(tone_hz)

    def _adopt_session_reference(
        self, call: EmulatedCall, record: CallbackRecord
    ) -> None:
        """Take the sessionReferenceId the receiver of newRemoteCall answered with."""
        response = record.response
        if not isinstance(response, dict):
            return
        value = response.get("sessionReferenceId")
        if isinstance(value, str) or (
            isinstance(value, int) and not isinstance(value, bool)
        ):
            call.session_reference_id = str(value)
            call.note("sessionReferenceId set by the newRemoteCall receiver")

    async def _send_callback(
        self, call: EmulatedCall, name: str, build: Callable[[], dict[str, Any]]
    ) -> CallbackRecord:
        """Send one callback of a call after the ones before it; build the body at send time."""
        async with call.callback_lock:
            body = build()
            if self.config.vendor_samples:
                body = as_vendor_sample(name, body)
            record = await self.sender.send(
                name, call.callback_base_url, body, call.call_id
            )
        call.note(f"callback {name}: {record.status or record.error or 'dropped'}")
        return record

    def _post_callback(
        self, call: EmulatedCall, name: str, build: Callable[[], dict[str, Any]]
    ) -> None:
        """Send a callback in the background, in order with the call's other callbacks."""
        self._spawn(self._send_callback(call, name, build))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a background task that stop() will cancel."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        """Forget a finished task and log it if it failed."""
        self._tasks.discard(task)
        if not task.cancelled() and (err := task.exception()) is not None:
            _LOGGER.error("Emulator task failed", exc_info=err)


def _write_file(path: Path, data: bytes) -> None:
    """Write a file, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
