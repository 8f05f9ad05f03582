"""The callback base URL to give the cloud, and a repair issue when the cloud cannot reach it."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.network import NoURLAvailableError, get_url

from ..const import CALLBACK_PATH, DOMAIN

ISSUE_NO_EXTERNAL_URL = "no_external_url"


@callback
def async_callback_base_url(hass: HomeAssistant, webhook_id: str) -> str:
    """Return the base URL for callbacks, raising a repair issue if it is not externally reachable."""
    path = CALLBACK_PATH.format(webhook_id=webhook_id)
    try:
        base = get_url(hass, allow_internal=False, allow_ip=True, prefer_cloud=False)
    except NoURLAvailableError:
        ir.async_create_issue(
            hass,
            DOMAIN,
            ISSUE_NO_EXTERNAL_URL,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_NO_EXTERNAL_URL,
            learn_more_url="https://www.home-assistant.io/docs/configuration/remote/",
        )
        # The http dependency always gives Home Assistant its own local address.
        base = get_url(hass, prefer_external=False, allow_ip=True)
    else:
        ir.async_delete_issue(hass, DOMAIN, ISSUE_NO_EXTERNAL_URL)
    return f"{base}{path}"
