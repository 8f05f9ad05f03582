"""The call manager's edge cases: listeners, codecs, duplicates, timeouts, failures, shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from functools import partial
import logging

import aiohttp
from aiohttp import web
import pytest

from custom_components.cloud_sip_ua.cloudsipua import (
    call_manager as call_manager_module,
)
from custom_components.cloud_sip_ua.cloudsipua.call_manager import (
    CallManager,
    CallSettings,
)
from custom_components.cloud_sip_ua.cloudsipua.callbacks import (
    CallAnswered,
    NewRemoteCall,
    parse_callback_bytes,
)
from custom_components.cloud_sip_ua.cloudsipua.calls import (
    CallEvent,
    CallEventType,
    CallState,
    EndReason,
)
from custom_components.cloud_sip_ua.cloudsipua.client import CloudSipUaClient
from custom_components.cloud_sip_ua.cloudsipua.credentials import (
    PrivateKeyTokenProvider,
)
from custom_components.cloud_sip_ua.cloudsipua.exceptions import CallError
from custom_components.cloud_sip_ua.cloudsipua.media import MediaSession
from custom_components.cloud_sip_ua.cloudsipua.media.clock import (
    FRAME_SECONDS,
    ManualClock,
)
from custom_components.cloud_sip_ua.cloudsipua.media.rtp import build_rtp
from custom_components.cloud_sip_ua.cloudsipua.models import Codec
from custom_components.cloud_sip_ua.cloudsipua.policies import SrtpPolicy
from emulator import Emulator, EmulatorConfig
from tests.integration.conftest import TENANT, KeyPair, _key_pair
from tests.waiting import wait_until


@dataclass
class Rig:
    """The emulator, a callback receiver feeding a call manager, and the manager."""

    emulator: Emulator
    manager: CallManager
    events: list[CallEvent]
    clock: ManualClock  # the manager's timers and its calls' media run on it


@pytest.fixture(scope="module")
def keys() -> tuple[KeyPair, KeyPair]:
    """Return the API and callback-signing key pairs."""
    return _key_pair(), _key_pair()


@pytest.fixture
async def rig(keys: tuple[KeyPair, KeyPair]) -> AsyncIterator[Rig]:
    """Wire the emulator to a call manager through a real callback receiver."""
    api_keys, callback_keys = keys
    holder: dict[str, CallManager] = {}

    async def receive(request: web.Request) -> web.Response:
        callback = parse_callback_bytes(
            request.match_info["name"], await request.read()
        )
        answer = await holder["manager"].handle_callback(callback)
        return web.json_response(answer.to_json() if answer else {})

    app = web.Application()
    app.router.add_post("/cb/{name}", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    callback_url = f"http://127.0.0.1:{port}/cb"
    emulator = Emulator(
        EmulatorConfig(
            domain=TENANT,
            api_public_key_pem=api_keys.public_pem,
            callback_signing_private_key_pem=callback_keys.private_pem,
            default_callback_base_url=callback_url,
            media_port_range=(43000, 43999),
        )
    )
    await emulator.start()
    session = aiohttp.ClientSession()
    client = CloudSipUaClient(
        session,
        TENANT,
        PrivateKeyTokenProvider(api_keys.private_pem, TENANT),
        base_url=emulator.base_url,
    )
    clock = ManualClock()
    manager = CallManager(
        client,
        CallSettings(
            media_address="127.0.0.1",
            bind_host="127.0.0.1",
            callback_base_url=callback_url,
            port_range=(44000, 44999),
        ),
        media_factory=partial(MediaSession, clock=clock),
        clock=clock,
    )
    holder["manager"] = manager
    events: list[CallEvent] = []
    manager.add_listener(events.append)
    yield Rig(emulator, manager, events, clock)
    await manager.close()
    await emulator.stop()
    await session.close()
    await runner.cleanup()


async def test_failing_listener_does_not_break_others(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """A listener that raises is logged; the state machine and other listeners go on."""

    def broken(event: CallEvent) -> None:
        raise RuntimeError("listener bug")

    remove = rig.manager.add_listener(broken)
    with caplog.at_level(logging.ERROR):
        await rig.emulator.ring()
    assert "Call event listener failed" in caplog.text
    assert rig.events[0].type is CallEventType.RING
    remove()
    await rig.manager.hang_up()


async def test_codec_choice_for_incoming_calls(rig: Rig) -> None:
    """The caller's codec is used when we may answer with it, else our preference."""
    call = await rig.emulator.ring(codec=Codec.PCMU)
    assert rig.manager.current_call is not None
    assert rig.manager.current_call.codec is Codec.PCMU
    await rig.emulator.remote_hangup(call.call_id)
    await rig.emulator.wait_for_state(call.call_id, "ended")
    answer = await rig.manager.handle_callback(
        NewRemoteCall(reply_id="gsm-call", call_id="gsm", codec=Codec.GSM)
    )
    assert answer is not None
    # We send what the caller wants to receive, and ask to receive what we may answer with.
    gsm_call = rig.manager.get_call(answer.session_reference_id)
    assert gsm_call.codec is Codec.GSM
    assert gsm_call.receive_codec is Codec.PCMA


async def test_answering_twice_and_ending_twice_are_refused(rig: Rig) -> None:
    """A second answer while the first is under way, or a hang-up of an ending call, is refused."""
    call = await rig.emulator.ring()
    managed = rig.manager.get_call()
    await rig.manager.answer()
    with pytest.raises(CallError) as err:
        await rig.manager.answer(managed.call_id)
    assert err.value.key == "not_ringing"
    await rig.emulator.wait_for_state(call.call_id, "connected")
    await _until(lambda: managed.state is CallState.CONNECTED)
    managed.state = CallState.ENDING
    with pytest.raises(CallError) as err:
        await rig.manager.hang_up(managed.call_id)
    assert err.value.key == "already_ending"
    managed.state = CallState.CONNECTED
    await rig.manager.hang_up()


async def test_hang_up_while_the_answer_is_on_its_way(rig: Rig) -> None:
    """Hanging up right after answering waits for callAnswered's replyId, then hangs up."""
    call = await rig.emulator.ring()
    rig.emulator.faults.update(
        {"callback_delay": 0.2, "callback_names": ["callAnswered"]}
    )
    await rig.manager.answer()
    await rig.manager.hang_up()
    assert rig.manager.get_call().state is CallState.ENDING
    await rig.emulator.wait_for_state(call.call_id, "ended")
    await _until(lambda: rig.manager.calls == [])
    rig.emulator.faults.update({"callback_delay": 0.0})


async def test_answer_that_never_confirms_ends_after_a_while(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hang-up waiting for a callAnswered that never comes ends the call here."""
    monkeypatch.setattr(call_manager_module, "HANGUP_TIMEOUT", 0.1)
    call = await rig.emulator.ring()
    rig.emulator.faults.update({"callback_drop": 1, "callback_names": ["callAnswered"]})
    await rig.manager.answer()
    await rig.manager.hang_up()
    await _advance(rig, 0.12)  # HANGUP_TIMEOUT, on the manager's clock
    await _until(lambda: rig.manager.calls == [])
    await rig.emulator.remote_hangup(call.call_id)


async def test_duplicate_call_answered_only_refreshes(rig: Rig) -> None:
    """A second callAnswered for a connected call changes nothing but the replyId."""
    call = await rig.emulator.ring()
    await rig.manager.answer()
    await rig.emulator.wait_for_state(call.call_id, "connected")
    managed = rig.manager.get_call()
    while managed.state is not CallState.CONNECTED:
        await rig.emulator.wait_for_callback("callAnswered")
    answered = [e for e in rig.events if e.type is CallEventType.ANSWERED]
    await rig.manager.handle_callback(
        CallAnswered(session_reference_id=managed.call_id, reply_id=managed.reply_id)
    )
    assert rig.manager.counters["callbacks_duplicate"] == 1
    assert [e for e in rig.events if e.type is CallEventType.ANSWERED] == answered
    await rig.manager.hang_up()


async def test_placed_call_offering_srtp_without_a_confirmed_key_is_ended(
    rig: Rig,
) -> None:
    """An answer without crypto to a placed call that offered SRTP ends it with a reason."""
    rig.manager.settings = replace(rig.manager.settings, srtp_on_placed_calls=True)
    placed = await rig.manager.place_call("sip:door@example.com")
    assert placed.local_crypto is not None
    await rig.manager.handle_callback(
        CallAnswered(
            session_reference_id=placed.call_id,
            reply_id="not-a-real-reply-id",
            remote_rtp_ip="127.0.0.1",
            remote_rtp_port=43002,
            codec=Codec.PCMU,
        )
    )
    await _until_ended(rig, placed.call_id)
    assert placed.end_reason is EndReason.SRTP_NOT_CONFIRMED
    assert placed.sip_reason == "callAnswered confirmed no SRTP key"
    assert placed.codec is Codec.PCMU


async def test_placed_calls_do_not_offer_srtp_by_default(rig: Rig) -> None:
    """The documented callAnswered carries no key: placed calls are plain unless asked."""
    placed = await rig.manager.place_call("sip:door@example.com")
    assert placed.local_crypto is None
    await rig.manager.hang_up(placed.call_id)


async def test_required_srtp_refuses_plain_placed_calls(rig: Rig) -> None:
    """With SRTP required and placed calls not offering it, placing is refused up front."""
    rig.manager.settings = replace(rig.manager.settings, srtp_policy=SrtpPolicy.REQUIRE)
    with pytest.raises(CallError) as err:
        await rig.manager.place_call("sip:door@example.com")
    assert err.value.key == "srtp_required_placed"
    assert rig.manager.calls == []


async def test_placing_needs_a_callback_url(rig: Rig) -> None:
    """Without a callback base URL the cloud could not report the call."""
    rig.manager.settings = replace(rig.manager.settings, callback_base_url=None)
    with pytest.raises(CallError) as err:
        await rig.manager.place_call("sip:a@b.example")
    assert err.value.key == "no_callback_url"


async def test_dial_timeout_gives_up(rig: Rig) -> None:
    """A placed call nobody answers ends here after the ring timeout."""
    rig.manager.settings = replace(rig.manager.settings, ring_timeout=0.2)
    placed = await rig.manager.place_call("sip:a@b.example")
    await _advance(rig, 0.18)
    assert placed.state is not CallState.IDLE  # still waiting
    await _advance(rig, 0.04)
    await _until_ended(rig, placed.call_id)
    assert placed.end_reason is EndReason.RING_TIMEOUT


async def test_hang_up_timeout_and_refusal_still_end_the_call(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the service is too slow to hang up, the call ends here anyway."""
    monkeypatch.setattr(call_manager_module, "HANGUP_TIMEOUT", 0.1)
    call = await rig.emulator.ring()
    rig.emulator.faults.update({"api_delay": 0.5, "api_operations": ["hangupcalljwt"]})
    await rig.manager.hang_up()
    assert rig.manager.calls == []
    rig.emulator.faults.update({"api_delay": 0.0})
    await rig.emulator.remote_hangup(call.call_id)


async def test_orphan_hang_up_failure_is_logged(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """A connected call we do not know is hung up; a refusal is only logged."""
    with caplog.at_level(logging.DEBUG):
        await rig.manager.handle_callback(
            CallAnswered(session_reference_id=None, reply_id="bogus")
        )
        await _until(lambda: "Ending an orphaned call failed" in caplog.text)


async def test_close_ends_every_call(rig: Rig) -> None:
    """Shutdown hangs up ringing and connected calls and forgets dialing ones."""
    ringing = await rig.emulator.ring()
    placed = await rig.manager.place_call("sip:a@b.example")
    await rig.manager.close()
    assert rig.manager.calls == []
    assert placed.end_reason is EndReason.SHUTDOWN
    await rig.emulator.wait_for_state(ringing.call_id, "ended")


async def _until(condition: Callable[[], bool]) -> None:
    """Wait until a condition holds: callbacks and API calls travel over real HTTP sockets."""
    # Checked on every turn of the loop: no timer of ours runs meanwhile (virtual time).
    await wait_until(condition, interval=0)


async def _advance(rig: Rig, seconds: float) -> None:
    """Move the manager's virtual time in 20 ms steps, letting the loop run after each."""
    for _ in range(round(seconds / FRAME_SECONDS)):
        rig.clock.advance(FRAME_SECONDS)
        for _ in range(4):
            await asyncio.sleep(0)


async def _until_ended(rig: Rig, call_id: str) -> None:
    """Wait until the manager has forgotten the call."""
    await _until(lambda: all(call.call_id != call_id for call in rig.manager.calls))


async def test_connected_call_without_any_rtp_is_ended(rig: Rig) -> None:
    """A placed call answered by a side that never sends RTP is hung up after the timeout."""
    rig.manager.settings = replace(
        rig.manager.settings, inactivity_timeout=0.3, srtp_policy=SrtpPolicy.OFF
    )
    placed = await rig.manager.place_call("sip:silent@example.com")
    await rig.manager.handle_callback(
        CallAnswered(
            session_reference_id=placed.call_id,
            reply_id="silent-reply-id",
            remote_rtp_ip="127.0.0.1",
            remote_rtp_port=9,
        )
    )
    assert placed.state is CallState.CONNECTED
    await _advance(rig, 0.28)
    assert placed.state is CallState.CONNECTED  # the timeout has not passed yet
    await _advance(rig, 0.04)
    await _until_ended(rig, placed.call_id)
    assert placed.end_reason is EndReason.NO_MEDIA


@pytest.mark.parametrize(("errors", "acknowledged"), [(2, True), (10, False)])
async def test_hang_up_retries_follow_the_managers_clock(
    rig: Rig, errors: int, acknowledged: bool
) -> None:
    """A hang-up the cloud fails is retried after each delay of virtual time, then given up."""
    call = await rig.emulator.ring()
    await rig.manager.answer()
    await rig.emulator.wait_for_state(call.call_id, "connected")
    managed = rig.manager.get_call()
    while managed.state is not CallState.CONNECTED:
        await rig.emulator.wait_for_callback("callAnswered")
    rig.emulator.faults.update(
        {"api_error": errors, "api_operations": ["hangupcalljwt"]}
    )
    await rig.manager.hang_up()
    assert rig.manager.calls == []
    assert rig.manager.reply_ids_to_keep() != []
    left = errors - 1
    for delay in rig.manager.settings.hangup_retry_delays:
        await _until(lambda: rig.clock.pending == 1)  # the retry waits for its delay
        assert rig.emulator.faults.api_error == left  # nothing before the delay is up
        await _advance(rig, delay)

        def retried(tried: int = left) -> bool:
            return (
                rig.emulator.faults.api_error < tried
                or rig.manager.reply_ids_to_keep() == []
            )

        await _until(retried)
        if rig.manager.reply_ids_to_keep() == []:
            break
        left = rig.emulator.faults.api_error
    else:
        await _until(
            lambda: any(e.type is CallEventType.HANG_UP_FAILED for e in rig.events)
        )
    failed = [e for e in rig.events if e.type is CallEventType.HANG_UP_FAILED]
    assert (failed == []) is acknowledged
    assert (rig.manager.reply_ids_to_keep() == []) is acknowledged
    rig.emulator.faults.reset()


async def test_hang_up_retry_refused_by_the_cloud_counts_as_done(rig: Rig) -> None:
    """A retry the cloud refuses (the call is gone there) ends the retries quietly."""
    call = await rig.emulator.ring()
    rig.emulator.faults.update({"api_error": 1, "api_operations": ["hangupcalljwt"]})
    await rig.manager.hang_up()
    assert rig.manager.reply_ids_to_keep() != []
    await rig.emulator.remote_hangup(call.call_id)  # the cloud forgets the call
    await _until(lambda: rig.clock.pending == 1)
    await _advance(rig, rig.manager.settings.hangup_retry_delays[0])
    await _until(lambda: rig.manager.reply_ids_to_keep() == [])
    assert not any(e.type is CallEventType.HANG_UP_FAILED for e in rig.events)


async def test_connected_call_whose_rtp_stops_is_ended(rig: Rig) -> None:
    """RTP that flowed and then stopped ends the call after the inactivity timeout."""
    rig.manager.settings = replace(
        rig.manager.settings, inactivity_timeout=0.3, srtp_policy=SrtpPolicy.OFF
    )
    placed = await rig.manager.place_call("sip:talker@example.com")
    loop = asyncio.get_running_loop()
    remote, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    try:
        host, port = remote.get_extra_info("sockname")[:2]
        await rig.manager.handle_callback(
            CallAnswered(
                session_reference_id=placed.call_id,
                reply_id="talker-reply-id",
                remote_rtp_ip=host,
                remote_rtp_port=port,
            )
        )
        media = placed.media
        assert media is not None
        for seq in range(5):  # passes probation, then the remote goes quiet
            remote.sendto(
                build_rtp(8, seq, seq * 160, 0x7A1C, b"\xd5" * 160),
                ("127.0.0.1", media.local_port),
            )
        await _until(lambda: media.last_packet_at is not None)
        await _advance(rig, 0.28)
        assert placed.state is CallState.CONNECTED
        await _advance(rig, 0.06)
        await _until_ended(rig, placed.call_id)
    finally:
        remote.close()
    assert placed.end_reason is EndReason.NO_MEDIA
