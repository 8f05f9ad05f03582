"""The demo's Home Assistant configuration folder: YAML, seeded onboarding, linked integrations."""

from __future__ import annotations

from datetime import UTC, datetime
import json
from pathlib import Path
import shutil
from typing import Any

DASHBOARD_URL_PATH = "cloud-sip-ua"
# Onboarding steps done before Home Assistant starts. The core_config step would start cloud
# integrations (met, radio_browser, google_translate) that need the internet; the location
# and units it asks for are in configuration.yaml instead. The user and integration steps
# still go through the onboarding REST API.
PRESEEDED_ONBOARDING_STEPS = ("core_config", "analytics")
_ONBOARDING_STORAGE_VERSION = 4
_HTTP_STORAGE_VERSION = (2, 2)

_CONFIGURATION = """\
# Written by scripts/demo on every start: changes here are overwritten.
homeassistant:
  name: Cloud SIP UA demo
  time_zone: UTC
  unit_system: metric
  currency: EUR
  country: SE
  language: en
  latitude: 59.3293
  longitude: 18.0686
  elevation: 0
  # The callback base URL the integration shows is built from this.
  external_url: {url}
  internal_url: {url}
  auth_providers:
    # Browsers on this machine log in without a password.
    - type: trusted_networks
      trusted_networks:
        - 127.0.0.1/32
        - ::1/128
      allow_bypass_login: true
    - type: homeassistant
# http (127.0.0.1:{port}) is in .storage/http: Home Assistant 2026.10 reads http YAML once.
# What default_config loads, less what would leave loopback (bluetooth, dhcp, ssdp, zeroconf,
# cloud, go2rtc, homeassistant_alerts): the history and logbook of more-info dialogs need these.
recorder:
history:
logbook:
energy:
sun:
my:
webhook:
conversation:
assist_pipeline:
mobile_app:
tts:
media_source:
demo_voice:
# The demo's door camera and smart speaker (scripts/demo_runner/demo_door).
demo_door:
automation: !include automations.yaml
logger:
  default: warning
  logs:
    # Without the system's libturbojpeg, camera pictures are sent unscaled; no need to say it.
    homeassistant.components.camera.img_util: critical
    custom_components.cloud_sip_ua: info
"""


def configuration_yaml(port: int) -> str:
    """Return configuration.yaml for a Home Assistant serving on 127.0.0.1:port."""
    return _CONFIGURATION.format(url=f"http://127.0.0.1:{port}", port=port)


def _link(link: Path, target: Path) -> None:
    """Point link at target, replacing an outdated link."""
    if link.is_symlink() and link.readlink() == target:
        return
    if link.is_symlink():
        link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target, target_is_directory=True)


def write_config(config_dir: Path, *, repo: Path, port: int) -> None:
    """Write the configuration; link the checkout's integration, demo voice, door and blueprints."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(
        configuration_yaml(port), encoding="utf-8"
    )
    automations = config_dir / "automations.yaml"
    if not automations.exists():
        automations.write_text("[]\n", encoding="utf-8")
    custom = config_dir / "custom_components"
    _link(custom / "cloud_sip_ua", repo / "custom_components" / "cloud_sip_ua")
    here = Path(__file__).resolve().parent
    _link(custom / "demo_voice", here / "demo_voice")
    _link(custom / "demo_door", here / "demo_door")
    # Copied, not linked: Home Assistant's blueprint listing does not follow folder links.
    blueprints = config_dir / "blueprints" / "automation" / "cloud_sip_ua"
    if blueprints.is_symlink():
        blueprints.unlink()
    shutil.copytree(
        repo / "blueprints" / "automation" / "cloud_sip_ua",
        blueprints,
        dirs_exist_ok=True,
    )
    _seed_onboarding(config_dir / ".storage" / "onboarding")
    _write_http_store(config_dir / ".storage" / "http", port)


def _seed_onboarding(path: Path) -> None:
    """Mark the onboarding steps that need no user as done, once, before the first start."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    store = {
        "version": _ONBOARDING_STORAGE_VERSION,
        "minor_version": 1,
        "key": "onboarding",
        "data": {"done": list(PRESEEDED_ONBOARDING_STEPS)},
    }
    path.write_text(json.dumps(store, indent=2), encoding="utf-8")


def http_settings(port: int) -> dict[str, Any]:
    """Return the HTTP server settings: loopback only, on port."""
    return {
        "server_host": ["127.0.0.1"],
        "server_port": port,
        "cors_allowed_origins": ["https://cast.home-assistant.io"],
        "login_attempts_threshold": -1,
        "ip_ban_enabled": True,
        "ssl_profile": "modern",
        "use_x_frame_options": True,
        "created_at": datetime.now(UTC).isoformat(),
        "error": None,
        "error_message": None,
    }


def _write_http_store(path: Path, port: int) -> None:
    """Write the HTTP settings Home Assistant starts with, on every run (the port may change).

    Home Assistant 2026.10 imports `http:` YAML only on the first start, as a trial that it
    reverts (with a restart) unless confirmed within five minutes, and ignores it afterwards.
    Its store holds the confirmed ("stable") settings, which is what the demo writes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    store = {
        "version": _HTTP_STORAGE_VERSION[0],
        "minor_version": _HTTP_STORAGE_VERSION[1],
        "key": "http",
        "data": {
            "stable": http_settings(port),
            "pending": None,
            "yaml_migration_done": True,
        },
    }
    path.write_text(json.dumps(store, indent=2), encoding="utf-8")
