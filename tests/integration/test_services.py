"""Actions refuse what makes no sense with translated errors, and map the service's refusals."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cloud_sip_ua.const import DOMAIN
from emulator import Emulator
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .helpers import action, wait_connected


@pytest.mark.parametrize(
    ("service", "data", "key"),
    [
        ("answer", {}, "no_active_call"),
        ("hang_up", {}, "no_active_call"),
        ("send_ringback", {"call_id": "nope"}, "unknown_call"),
        ("send_dtmf", {"digits": "1"}, "no_active_call"),
        ("answer", {"config_entry_id": "missing"}, "entry_not_found"),
        ("answer", {"device_id": "missing"}, "device_not_found"),
    ],
)
async def test_actions_without_a_call(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    service: str,
    data: dict[str, str],
    key: str,
) -> None:
    """Actions on calls that do not exist raise translated validation errors."""
    with pytest.raises(ServiceValidationError) as err:
        await action(hass, service, **data)
    assert err.value.translation_key == key
    assert err.value.translation_domain == DOMAIN


async def test_actions_in_the_wrong_state(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """DTMF needs a connected call; ringback needs a ringing one."""
    call = await emulator.ring()
    with pytest.raises(ServiceValidationError) as err:
        await action(hass, "send_dtmf", digits="1")
    assert err.value.translation_key == "not_connected"
    await action(hass, "answer")
    await wait_connected(init_integration, emulator, call.call_id)
    with pytest.raises(ServiceValidationError) as err:
        await action(hass, "send_ringback")
    assert err.value.translation_key == "not_ringing"
    with pytest.raises(ServiceValidationError) as err:
        await action(hass, "answer")
    assert err.value.translation_key == "not_ringing"
    await action(hass, "hang_up")


async def test_service_refusal_and_errors(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """A 5xx or an expired replyId becomes a translated error; the call survives or ends cleanly."""
    call = await emulator.ring()
    emulator.faults.update({"api_error": 1, "api_error_status": 503})
    with pytest.raises(HomeAssistantError) as err:
        await action(hass, "answer")
    assert err.value.translation_key == "unexpected"
    assert init_integration.runtime_data.manager.current_call is not None
    emulator.expire_reply_ids()
    with pytest.raises(HomeAssistantError) as err:
        await action(hass, "send_ringback")
    assert err.value.translation_key == "refused"
    with pytest.raises(HomeAssistantError):
        await action(hass, "hang_up")
    assert init_integration.runtime_data.manager.calls == []
    await emulator.remote_hangup(call.call_id)


async def test_refused_credentials_start_reauth(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """A 401 during an action raises and asks the user for new credentials."""
    emulator.faults.update({"api_error": 1, "api_error_status": 503})
    manager = init_integration.runtime_data.manager
    client = init_integration.runtime_data.client
    real_post = client._post  # noqa: SLF001

    async def refuse(*args: object, **kwargs: object) -> None:
        from custom_components.cloud_sip_ua.cloudsipua.exceptions import (
            CloudSipUaAuthenticationError,
        )

        raise CloudSipUaAuthenticationError("refused")

    client._post = refuse  # type: ignore[method-assign]  # noqa: SLF001
    try:
        with pytest.raises(HomeAssistantError) as err:
            await action(hass, "place_call", destination="1000")
    finally:
        client._post = real_post  # type: ignore[method-assign]  # noqa: SLF001
    assert err.value.translation_key == "auth_failed"
    assert manager.calls == []
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


@pytest.mark.parametrize("digits", ["12x", "", "1" * 33])
async def test_dtmf_digits_are_validated(
    hass: HomeAssistant, init_integration: MockConfigEntry, digits: str
) -> None:
    """Digits outside 0-9*#A-D are refused with a translated error that names them."""
    with pytest.raises(ServiceValidationError) as err:
        await action(hass, "send_dtmf", digits=digits)
    assert err.value.translation_key == "invalid_digits"
    assert err.value.translation_placeholders == {"digits": digits}


async def test_dtmf_duration_is_validated(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Silly durations are refused by the schema."""
    with pytest.raises(Exception, match="duration|value"):
        await action(hass, "send_dtmf", digits="1", duration=5)


async def test_entry_required_with_two_tenants(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """With two loaded tenants an action must say which one."""
    other = Emulator(
        replace(emulator.config, domain="other.prod-eu-north-1.iotcomms.io", port=0)
    )
    await other.start()
    second = MockConfigEntry(
        domain=DOMAIN,
        title="other.prod-eu-north-1.iotcomms.io",
        unique_id="other.prod-eu-north-1.iotcomms.io",
        data={
            **init_integration.data,
            "domain": "other.prod-eu-north-1.iotcomms.io",
            "webhook_id": "c3" * 32,
            "api_base_url": other.base_url,
        },
        options=dict(init_integration.options),
    )
    second.add_to_hass(hass)
    assert await hass.config_entries.async_setup(second.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await action(hass, "answer")
    assert err.value.translation_key == "entry_required"
    assert await hass.config_entries.async_unload(second.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await action(hass, "answer", config_entry_id=second.entry_id)
    assert err.value.translation_key == "entry_not_loaded"
    await other.stop()


async def test_bad_destination_media_and_connection_errors(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """A bad destination, no free RTP port and an unreachable service each have their message."""
    with pytest.raises(ServiceValidationError) as err:
        await action(hass, "place_call", destination="sip:")
    assert err.value.translation_key == "invalid_request"

    manager = init_integration.runtime_data.manager
    usable = manager.settings
    manager.settings = replace(usable, port_range=(41001, 41001))
    call = await emulator.ring()
    with pytest.raises(HomeAssistantError) as err:
        await action(hass, "answer")
    assert err.value.translation_key == "media_error"
    manager.settings = usable
    await action(hass, "hang_up")
    await emulator.wait_for_state(call.call_id, "ended")

    await emulator.stop()
    try:
        with pytest.raises(HomeAssistantError) as err:
            await action(hass, "place_call", destination="1000")
        assert err.value.translation_key == "cannot_connect"
    finally:
        await emulator.start()
