"""The control API (JSON under /control/) that tests and the demo page drive the emulator with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from custom_components.cloud_sip_ua.cloudsipua.models import Codec

from .calls import EmulatedCall
from .core import PLACED_CALL_POLICIES, EmulatorCore, EmulatorError, UnknownCallError

EMULATOR_KEY: web.AppKey[EmulatorCore] = web.AppKey("emulator")

type _Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _BadInput(Exception):
    """A control request carries a value of the wrong type."""


def _emulator(request: web.Request) -> EmulatorCore:
    """Return the emulator serving this request."""
    return request.app[EMULATOR_KEY]


async def _json_object(request: web.Request) -> dict[str, Any]:
    """Return the request body as a JSON object ({} when empty)."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise _BadInput("body is not valid JSON") from err
    if not isinstance(body, dict):
        raise _BadInput("body must be a JSON object")
    return body


def _value(body: dict[str, Any], name: str, kinds: tuple[type, ...]) -> Any:
    """Return a field of a control request if present (None if not), checking its type."""
    value = body.get(name)
    if value is None:
        return None
    # bool is an int in Python but not a number in JSON.
    if isinstance(value, bool) and bool not in kinds:
        raise _BadInput(f"{name} has the wrong type")
    if not isinstance(value, kinds):
        raise _BadInput(f"{name} has the wrong type")
    return value


def _text(body: dict[str, Any], name: str) -> str | None:
    """Return an optional string field."""
    value: str | None = _value(body, name, (str,))
    return value


def _flag(body: dict[str, Any], name: str) -> bool | None:
    """Return an optional boolean field."""
    value: bool | None = _value(body, name, (bool,))
    return value


def _number(body: dict[str, Any], name: str) -> float | None:
    """Return an optional number field."""
    value: float | None = _value(body, name, (int, float))
    return None if value is None else float(value)


def _integer(body: dict[str, Any], name: str) -> int | None:
    """Return an optional integer field."""
    value: int | None = _value(body, name, (int,))
    return value


def _call(request: web.Request) -> EmulatedCall:
    """Return the call named in the path."""
    return _emulator(request).get_call(request.match_info["call_id"])


@web.middleware
async def control_errors(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Turn emulator and input errors into JSON answers."""
    try:
        response: web.StreamResponse = await handler(request)
    except UnknownCallError as err:
        return web.json_response({"error": str(err)}, status=404)
    except EmulatorError as err:
        return web.json_response({"error": str(err)}, status=409)
    except _BadInput as err:
        return web.json_response({"error": str(err)}, status=400)
    return response


async def info(request: web.Request) -> web.Response:
    """Describe the emulator: tenant, URLs, keys to give to the client and the integration."""
    emulator = _emulator(request)
    config = emulator.config
    return web.json_response(
        {
            "domain": config.domain,
            "api_base_url": emulator.base_url,
            "default_callback_base_url": config.default_callback_base_url,
            "ring_timeout": config.ring_timeout,
            "quirks": config.quirks,
            "callback_signing_public_key_pem": emulator.signer.public_key_pem.decode(),
        }
    )


async def list_calls(request: web.Request) -> web.Response:
    """List every call, newest first."""
    calls = _emulator(request).calls
    return web.json_response([call.to_json() for call in reversed(calls)])


async def ring(request: web.Request) -> web.Response:
    """Ring the doorbell: start an incoming call."""
    body = await _json_object(request)
    codec_name = _text(body, "codec") or "PCMA"
    if codec_name not in Codec.__members__:
        raise _BadInput("codec must be PCMA, PCMU or GSM")
    wav_path = _text(body, "wav_path")
    call = await _emulator(request).ring(
        caller=_text(body, "caller") or "1234567",
        callee=_text(body, "callee") or None,
        codec=Codec(codec_name),
        srtp=bool(_flag(body, "srtp")),
        tone_hz=_number(body, "tone_hz") or 440.0,
        wav=Path(wav_path) if wav_path else None,
        quirks=_flag(body, "quirks"),
        callback_base_url=_text(body, "callback_base_url") or None,
        ring_timeout=_number(body, "ring_timeout"),
    )
    return web.json_response(call.to_json(), status=201)


async def get_call(request: web.Request) -> web.Response:
    """Show one call."""
    return web.json_response(_call(request).to_json())


async def answer(request: web.Request) -> web.Response:
    """Answer a placed call as the remote party."""
    call = await _emulator(request).remote_answer(request.match_info["call_id"])
    return web.json_response(call.to_json())


async def reject(request: web.Request) -> web.Response:
    """Reject a placed call as the remote party."""
    body = await _json_object(request)
    call = await _emulator(request).remote_reject(
        request.match_info["call_id"],
        status=_integer(body, "status") or 486,
        reason=_text(body, "reason") or "Busy Here",
    )
    return web.json_response(call.to_json())


async def hangup(request: web.Request) -> web.Response:
    """Hang up as the remote party."""
    call = await _emulator(request).remote_hangup(request.match_info["call_id"])
    return web.json_response(call.to_json())


async def dtmf(request: web.Request) -> web.Response:
    """Send DTMF from the remote party."""
    body = await _json_object(request)
    digits = _text(body, "digits") or ""
    duration = _integer(body, "duration_ms") or 100
    await _emulator(request).send_dtmf(request.match_info["call_id"], digits, duration)
    return web.json_response({"sent": digits})


async def recording(request: web.Request) -> web.Response:
    """Return what the remote party heard, as WAV."""
    call = _call(request)
    return web.Response(
        body=call.remote_party.recorded_wav(),
        content_type="audio/wav",
        headers={"Content-Disposition": f'attachment; filename="{call.call_id}.wav"'},
    )


async def stats(request: web.Request) -> web.Response:
    """Return the remote party's RTP statistics."""
    return web.json_response(asdict(_call(request).remote_party.stats))


async def list_callbacks(request: web.Request) -> web.Response:
    """List every callback sent, newest first, with its outcome."""
    log = _emulator(request).callback_log
    return web.json_response([record.to_json() for record in reversed(log)])


async def clear_callbacks(request: web.Request) -> web.Response:
    """Forget the callback log."""
    _emulator(request).sender.log.clear()
    return web.json_response({"cleared": True})


def _policy_json(emulator: EmulatorCore) -> dict[str, Any]:
    """Return what the remote party does with placed calls."""
    return {
        "policy": emulator.placed_call_policy,
        "delay": emulator.placed_call_delay,
        "reject_status": emulator.placed_call_reject_status,
        "reject_reason": emulator.placed_call_reject_reason,
        "tone_hz": emulator.placed_call_tone_hz,
    }


async def get_policy(request: web.Request) -> web.Response:
    """Show the placed-call policy."""
    return web.json_response(_policy_json(_emulator(request)))


async def put_policy(request: web.Request) -> web.Response:
    """Change the placed-call policy."""
    emulator = _emulator(request)
    body = await _json_object(request)
    policy = _text(body, "policy") or emulator.placed_call_policy
    delay = _number(body, "delay")
    delay = emulator.placed_call_delay if delay is None else delay
    status = _integer(body, "reject_status") or emulator.placed_call_reject_status
    tone = _number(body, "tone_hz") or emulator.placed_call_tone_hz
    for choice in PLACED_CALL_POLICIES:
        if policy == choice:
            break
    else:
        raise _BadInput("policy must be manual, answer or reject")
    if delay < 0 or not 300 <= status <= 699 or not 0 < tone < 4000:
        raise _BadInput(
            "delay >= 0, reject_status 300-699 and 0 < tone_hz < 4000 are needed"
        )
    emulator.placed_call_policy = choice
    emulator.placed_call_delay = delay
    emulator.placed_call_reject_status = status
    emulator.placed_call_reject_reason = (
        _text(body, "reject_reason") or emulator.placed_call_reject_reason
    )
    emulator.placed_call_tone_hz = tone
    return web.json_response(_policy_json(emulator))


async def get_faults(request: web.Request) -> web.Response:
    """Show the fault settings."""
    return web.json_response(_emulator(request).faults.to_json())


async def put_faults(request: web.Request) -> web.Response:
    """Change fault settings (only the ones named)."""
    faults = _emulator(request).faults
    try:
        faults.update(await _json_object(request))
    except ValueError as err:
        raise _BadInput(str(err)) from err
    return web.json_response(faults.to_json())


async def clear_faults(request: web.Request) -> web.Response:
    """Clear every fault."""
    faults = _emulator(request).faults
    faults.reset()
    return web.json_response(faults.to_json())


async def expire_reply_ids(request: web.Request) -> web.Response:
    """Expire every replyId handed out so far."""
    return web.json_response({"expired": _emulator(request).expire_reply_ids()})


async def signing_key(request: web.Request) -> web.Response:
    """Return the public key callbacks are signed with."""
    return web.Response(
        body=_emulator(request).signer.public_key_pem,
        content_type="application/x-pem-file",
    )


def control_app(emulator: EmulatorCore) -> web.Application:
    """Return the control API as an application to mount at /control/."""
    app = web.Application(middlewares=[control_errors])
    app[EMULATOR_KEY] = emulator
    router = app.router
    router.add_get("/info", info)
    router.add_get("/callback-signing-key.pem", signing_key)
    router.add_get("/calls", list_calls)
    router.add_post("/ring", ring)
    router.add_get("/calls/{call_id}", get_call)
    router.add_post("/calls/{call_id}/answer", answer)
    router.add_post("/calls/{call_id}/reject", reject)
    router.add_post("/calls/{call_id}/hangup", hangup)
    router.add_post("/calls/{call_id}/dtmf", dtmf)
    router.add_get("/calls/{call_id}/recording.wav", recording)
    router.add_get("/calls/{call_id}/stats", stats)
    router.add_get("/callbacks", list_callbacks)
    router.add_delete("/callbacks", clear_callbacks)
    router.add_get("/policy", get_policy)
    router.add_put("/policy", put_policy)
    router.add_get("/faults", get_faults)
    router.add_put("/faults", put_faults)
    router.add_delete("/faults", clear_faults)
    router.add_post("/faults/expire-reply-ids", expire_reply_ids)
    return app
