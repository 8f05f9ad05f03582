"""Who may do what with calls: listening needs read permission, everything else control.

Core checks `button.press` on our hang-up button against the user's entity permissions; the
actions and the WebSocket command must hold the same line, or a read-only user could open the
door with DTMF. Automations and scripts run without a user and are not limited here.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from homeassistant.auth.models import User
from homeassistant.auth.permissions.const import CAT_ENTITIES, POLICY_CONTROL
from homeassistant.core import Context, HomeAssistant, ServiceCall, ServiceResponse
from homeassistant.exceptions import Unauthorized, UnknownUser
from homeassistant.helpers import entity_registry as er

from .const import CONF_PLACE_CALLS_ADMIN_ONLY, DEFAULT_PLACE_CALLS_ADMIN_ONLY
from .data import CloudSipUaConfigEntry

type ServiceHandler = Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]
type EntryFinder = Callable[[HomeAssistant, ServiceCall], CloudSipUaConfigEntry]


async def async_check_permission(
    hass: HomeAssistant,
    entry: CloudSipUaConfigEntry,
    context: Context,
    policy: str,
    *,
    admin_only: bool = False,
) -> None:
    """Raise Unauthorized unless the context's user holds `policy` on one of the entry's entities."""
    if context.user_id is None:
        return
    user = await hass.auth.async_get_user(context.user_id)
    if user is None:
        raise UnknownUser(context=context, permission=policy, user_id=context.user_id)
    if not user_may(hass, user, entry, policy, admin_only=admin_only):
        raise Unauthorized(
            context=context,
            permission=policy,
            user_id=context.user_id,
            perm_category=CAT_ENTITIES,
        )


def user_may(
    hass: HomeAssistant,
    user: User,
    entry: CloudSipUaConfigEntry,
    policy: str,
    *,
    admin_only: bool = False,
) -> bool:
    """Return True if the user holds `policy` on one of the entry's entities (admins always)."""
    if user.is_admin:
        return True
    if admin_only:
        return False
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    return any(
        user.permissions.check_entity(entity.entity_id, policy) for entity in entities
    )


def requires_permission(
    policy: str, find_entry: EntryFinder, handler: ServiceHandler
) -> ServiceHandler:
    """Wrap an action so that it runs only for users with `policy` on the targeted entry."""

    async def checked(service_call: ServiceCall) -> ServiceResponse:
        entry = find_entry(service_call.hass, service_call)
        await async_check_permission(
            service_call.hass, entry, service_call.context, policy
        )
        return await handler(service_call)

    return checked


def place_call_permission(
    find_entry: EntryFinder, handler: ServiceHandler
) -> ServiceHandler:
    """Wrap place_call: control permission, and an admin unless the options allow everyone."""

    async def checked(service_call: ServiceCall) -> ServiceResponse:
        entry = find_entry(service_call.hass, service_call)
        await async_check_permission(
            service_call.hass,
            entry,
            service_call.context,
            POLICY_CONTROL,
            admin_only=entry.options.get(
                CONF_PLACE_CALLS_ADMIN_ONLY, DEFAULT_PLACE_CALLS_ADMIN_ONLY
            ),
        )
        return await handler(service_call)

    return checked
