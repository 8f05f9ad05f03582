"""Library errors as translated Home Assistant errors; refused credentials start reauth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .cloudsipua.exceptions import (
    CallError,
    CloudSipUaAuthenticationError,
    CloudSipUaConnectionError,
    CloudSipUaError,
    CloudSipUaRequestRefusedError,
    InvalidRequestError,
    MediaError,
)
from .const import DOMAIN


@asynccontextmanager
async def translate_errors(
    hass: HomeAssistant, entry: ConfigEntry
) -> AsyncIterator[None]:
    """Raise what goes wrong inside as a translated HomeAssistantError."""
    try:
        yield
    except CallError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key=err.key
        ) from err
    except InvalidRequestError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_request",
            translation_placeholders={"field": err.field},
        ) from err
    except CloudSipUaAuthenticationError as err:
        entry.async_start_reauth(hass)
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="auth_failed"
        ) from err
    except CloudSipUaRequestRefusedError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="refused",
            translation_placeholders={"reason": err.reason or err.error or "-"},
        ) from err
    except CloudSipUaConnectionError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="cannot_connect"
        ) from err
    except MediaError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="media_error",
            translation_placeholders={"error": str(err)},
        ) from err
    except CloudSipUaError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="unexpected",
            translation_placeholders={"error": str(err)},
        ) from err
