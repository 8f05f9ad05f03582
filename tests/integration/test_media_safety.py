"""A hostile internet at the media ports (issue 19): a real call survives an RTP spraying attacker."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.cloudsipua.call_manager import CallManager
from custom_components.cloud_sip_ua.cloudsipua.media.rtcp import build_rtcp
from custom_components.cloud_sip_ua.cloudsipua.models import Codec
from custom_components.cloud_sip_ua.config_flow import _OPTION_DEFAULTS
from custom_components.cloud_sip_ua.const import (
    CONF_ALLOW_PRIVATE_MEDIA,
    CONF_MEDIA_ADDRESS,
)
from emulator import Emulator
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from tests.audio_check import tone_report
from tests.media.peers import RawPeer, raw_peer
from tests.media.test_hostile import ATTACKER_SSRC, attack_packets
from tests.waiting import wait_until

from .helpers import (
    action,
    collect_call_audio,
    entity_id,
    event_recorder,
    wait_connected,
)

HA_PORTS = range(41000, 42000, 2)  # the entry's RTP range (conftest), even ports


def _answering_port(manager: CallManager) -> int | None:
    """Return the RTP port of the current call's media session, once it has one."""
    call = manager.current_call
    media = call.media if call is not None else None
    return media.local_port if media is not None and media.local_port else None


async def _spray(
    manager: CallManager, attackers: list[RawPeer], swept: asyncio.Event
) -> None:
    """Sweep the even ports with in-sequence RTP bursts; once the port is known, aim at it.

    `swept` is set once every port of the range has had its bursts.
    """
    streams = [attack_packets() for _ in attackers]
    report = build_rtcp(ATTACKER_SSRC, "attacker")
    sweep = iter(list(HA_PORTS) * 1000)
    sprayed = 0
    while True:
        port = _answering_port(manager)
        targets = [port] if port is not None else [next(sweep) for _ in range(5)]
        sprayed += len(targets)
        if sprayed >= len(HA_PORTS):
            swept.set()
        for attacker, packets in zip(attackers, streams, strict=True):
            for target in targets:
                for _ in range(3):
                    attacker.send(next(packets), ("127.0.0.1", target))
                attacker.send(report, ("127.0.0.1", target + 1))
        # The attackers' send rate on real sockets (bursts every 4 ms), not a wait for anything.
        await asyncio.sleep(0.004)


async def test_call_survives_an_rtp_sprayer(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """Attackers on the remote's IP and on another one get no audio and inject no DTMF."""
    activities = event_recorder(hass, entity_id(hass, "event", "call_activity"))
    manager = init_integration.runtime_data.manager
    async with raw_peer("127.0.0.1") as same_ip, raw_peer("127.0.0.2") as other_ip:
        swept = asyncio.Event()
        sprayer = asyncio.create_task(_spray(manager, [same_ip, other_ip], swept))
        try:
            call = await emulator.ring(caller="1234567", tone_hz=440.0)
            await hass.async_block_till_done()
            # The attack is in full swing (every port swept once) before the answer.
            async with asyncio.timeout(5):
                await swept.wait()
            await action(hass, "answer")
            await wait_connected(init_integration, emulator, call.call_id)
            # The caller's tone reaches Home Assistant, the attackers' 3 kHz noise does not.
            heard = await collect_call_audio(init_integration, 1.0, settle=0.3)
            frequency, snr = tone_report(heard)
            assert abs(frequency - 440.0) <= 10, frequency
            assert snr >= 25, snr
            # Home Assistant's audio reaches the caller.
            await wait_until(lambda: call.remote_party.stats.packets_received > 50)
            # The caller's own DTMF still comes through.
            await emulator.send_dtmf(call.call_id, "5")
            await wait_until(lambda: any(a.get("digit") == "5" for a in activities))
            media = manager.media_of()
            stats = media.stats
            # Home Assistant goes on talking to the caller (and would to an attacker it
            # had latched on to) for a few frames of the call's own time.
            sent = call.remote_party.stats.packets_received
            await wait_until(
                lambda: call.remote_party.stats.packets_received >= sent + 5
            )
        finally:
            sprayer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sprayer
    assert same_ip.received == []
    assert other_ip.received == []
    dtmf = [a for a in activities if a.get("event_type") == "dtmf"]
    assert [a["digit"] for a in dtmf] == ["5"]
    assert media.latched_address == ("127.0.0.1", call.remote_party.port)
    assert stats.probation_packets > 50  # the same-IP attacker, never trusted
    assert stats.foreign_packets > 50  # the other-IP attacker
    assert stats.ssrc_changes == 0
    await action(hass, "hang_up")
    await emulator.wait_for_state(call.call_id, "ended")


async def test_private_media_option(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The option defaults to the media address's kind and reaches every media session."""
    manager = init_integration.runtime_data.manager
    # Loopback media address, option unset: private remotes allowed.
    assert manager._media_factory.keywords == {"allow_private_remote": True}  # noqa: SLF001
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert _suggested(result, CONF_ALLOW_PRIVATE_MEDIA) is True
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **_OPTION_DEFAULTS,
            **init_integration.options,
            CONF_MEDIA_ADDRESS: "8.8.8.8",
            CONF_ALLOW_PRIVATE_MEDIA: True,  # a LAN set up on purpose
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    manager = init_integration.runtime_data.manager
    assert manager._media_factory.keywords == {"allow_private_remote": True}  # noqa: SLF001
    # A public media address with the option never set: a forged private remote is refused.
    hass.config_entries.async_update_entry(
        init_integration,
        options={
            k: v
            for k, v in init_integration.options.items()
            if k != CONF_ALLOW_PRIVATE_MEDIA
        },
    )
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert _suggested(result, CONF_ALLOW_PRIVATE_MEDIA) is False
    manager = init_integration.runtime_data.manager
    session = manager._media_factory(  # noqa: SLF001
        codec=Codec.PCMA, bind_host="127.0.0.1"
    )
    session.set_remote("192.168.1.10", 40000)
    assert session.remote_refusal == "private"
    session.set_remote("8.8.4.4", 40000)
    assert session.remote_refusal is None
    await session.close()


def _suggested(result: Any, field: str) -> Any:
    """Return the value a form suggests for `field`."""
    key = next(k for k in result["data_schema"].schema if k == field)
    return key.description["suggested_value"]
