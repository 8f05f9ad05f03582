"""Set Home Assistant up like a newcomer would, but through its APIs: owner, entry, options, dashboard."""

from __future__ import annotations

from dataclasses import dataclass
import secrets
from typing import Any

from .dashboard import DOOR_CODE, ICON, TITLE, dashboard_config
from .entities import (
    INTEGRATION,
    TTS_ENTITY_ID,
    DemoEntities,
    DoorDevices,
    find_door_devices,
    find_entities,
)
from .ha_config import DASHBOARD_URL_PATH
from .home_assistant import HomeAssistantApi, form_values
from .http_json import DemoError, wait_for
from .saved_state import SavedState

OWNER_NAME = "Demo"
OWNER_USERNAME = "demo"
TOKEN_NAME = "scripts/demo"
RTP_PORTS = (20000, 20999)


@dataclass(frozen=True, slots=True)
class Keys:
    """The PEM texts the entry needs: the API private key, the callback-signing public key."""

    api_private_pem: str
    callback_public_pem: str


@dataclass(frozen=True, slots=True)
class Provisioned:
    """What the demo set up."""

    entry_id: str
    callback_url: str
    entities: DemoEntities
    door: DoorDevices


async def ensure_owner(
    api: HomeAssistantApi, onboarding: dict[str, bool], saved: SavedState
) -> None:
    """Onboard a new instance (owner `demo`, a random password), or reuse the saved token."""
    if onboarding.get("user"):
        if not saved.token:
            raise DemoError(
                "this demo folder was onboarded but its token is lost: start again with --reset"
            )
        api.token = saved.token
        return
    saved.password = secrets.token_urlsafe(9)
    await api.onboard(name=OWNER_NAME, username=OWNER_USERNAME, password=saved.password)
    saved.token = await api.long_lived_token(TOKEN_NAME)
    api.token = saved.token


def _entry_steps(domain: str, emulator_url: str, keys: Keys) -> list[dict[str, Any]]:
    """Return the config flow's answers: the private-key menu choice, then the credentials form."""
    return [
        {"next_step_id": "private_key"},
        {
            "domain": domain,
            "private_key": keys.api_private_pem,
            "callback_public_key": keys.callback_public_pem,
            "advanced": {"api_base_url": emulator_url},
        },
    ]


def demo_options(rtp_ports: tuple[int, int], door: DoorDevices) -> dict[str, Any]:
    """Return the option changes: media on loopback, Assist on calls, the hall speaker answers the door.

    The rest keeps its default.
    """
    return {
        "assist": True,
        "media_address": "127.0.0.1",
        "rtp_port_min": rtp_ports[0],
        "rtp_port_max": rtp_ports[1],
        "door_satellites": [door.satellite],
        "door_code": DOOR_CODE,
        "door_tts": TTS_ENTITY_ID,
    }


async def ensure_entry(
    api: HomeAssistantApi,
    *,
    domain: str,
    emulator_url: str,
    keys: Keys,
    saved: SavedState,
) -> tuple[str, str]:
    """Return (entry id, callback URL), creating the entry through the config flow when needed."""
    entries = await api.config_entries(INTEGRATION)
    reusable = [
        entry
        for entry in entries
        if entry["entry_id"] == saved.entry_id
        and saved.emulator_url == emulator_url
        and saved.callback_url
    ]
    if reusable and saved.callback_url:
        return reusable[0]["entry_id"], saved.callback_url
    # An entry pointing at another emulator address (or unknown to demo.json) is replaced.
    for entry in entries:
        await api.delete_config_entry(entry["entry_id"])
    result = await api.config_flow(
        INTEGRATION, _entry_steps(domain, emulator_url, keys)
    )
    entry_id = str(result["result"]["entry_id"])
    callback_url = str(result["description_placeholders"]["callback_url"])
    saved.entry_id, saved.callback_url, saved.emulator_url = (
        entry_id,
        callback_url,
        emulator_url,
    )
    return entry_id, callback_url


async def ensure_options(
    api: HomeAssistantApi, entry_id: str, changes: dict[str, Any]
) -> bool:
    """Answer the options form with changes unless it already shows them; return whether it did.

    An unchanged entry is left alone: saving its options would reload it for nothing.
    """
    flow = "/api/config/config_entries/options/flow"
    result = await api.post(flow, {"handler": entry_id})
    shown = form_values(result.get("data_schema", []))
    if all(shown.get(key) == value for key, value in changes.items()):
        await api.delete(f"{flow}/{result['flow_id']}")
        return False
    await api.options_flow(entry_id, changes, started=result)
    return True


async def wait_for_door(api: HomeAssistantApi, timeout: float) -> DoorDevices:
    """Wait until the demo door's camera, speaker and reply select have states; return their ids."""

    async def ready() -> DoorDevices | None:
        door = find_door_devices(await api.ws_command("config/entity_registry/list"))
        states = [await api.state(entity) for entity in (door.camera, door.satellite)]
        return door if all(states) else None

    found: DoorDevices = await wait_for("the demo door", ready, timeout, interval=0.2)
    return found


async def ensure_voice(api: HomeAssistantApi) -> None:
    """Give the preferred Assist pipeline the demo voice, as a newcomer would in Settings → Voice.

    Satellites speak questions with their pipeline's voice; the pipeline Home Assistant makes
    at the first start has none when no voice was loaded yet.
    """
    listing = await api.ws_command("assist_pipeline/pipeline/list")
    preferred = next(
        pipeline
        for pipeline in listing["pipelines"]
        if pipeline["id"] == listing["preferred_pipeline"]
    )
    if preferred.get("tts_engine"):
        return
    fields = {key: value for key, value in preferred.items() if key != "id"}
    await api.ws_command(
        "assist_pipeline/pipeline/update",
        pipeline_id=preferred["id"],
        **fields | {"tts_engine": TTS_ENTITY_ID, "tts_language": "en-US"},
    )


async def wait_for_entities(
    api: HomeAssistantApi, entry_id: str, domain: str, timeout: float
) -> DemoEntities:
    """Wait until the entry is loaded and its entities have states; return their ids."""

    async def loaded() -> DemoEntities | None:
        entries = await api.config_entries(INTEGRATION)
        if not any(
            entry["entry_id"] == entry_id and entry["state"] == "loaded"
            for entry in entries
        ):
            return None
        registry = await api.ws_command("config/entity_registry/list")
        entities = find_entities(registry, entry_id, domain)
        return entities if await api.state(entities.call_state) else None

    found: DemoEntities = await wait_for(
        "the integration's entities", loaded, timeout, interval=0.2
    )
    return found


async def ensure_dashboard(
    api: HomeAssistantApi, entities: DemoEntities, door: DoorDevices, emulator_url: str
) -> None:
    """Create the dashboard once, and (re)write its cards on every run."""
    dashboards = await api.ws_command("lovelace/dashboards/list")
    if not any(board.get("url_path") == DASHBOARD_URL_PATH for board in dashboards):
        await api.ws_command(
            "lovelace/dashboards/create",
            url_path=DASHBOARD_URL_PATH,
            title=TITLE,
            icon=ICON,
            show_in_sidebar=True,
            require_admin=False,
            mode="storage",
        )
    await api.ws_command(
        "lovelace/config/save",
        url_path=DASHBOARD_URL_PATH,
        config=dashboard_config(entities, door, emulator_url),
    )
