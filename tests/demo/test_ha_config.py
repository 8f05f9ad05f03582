"""The demo's Home Assistant configuration folder."""

from __future__ import annotations

import json
from pathlib import Path

from homeassistant.util.yaml import load_yaml_dict
from scripts.demo_runner.ha_config import PRESEEDED_ONBOARDING_STEPS, write_config

REPO = Path(__file__).resolve().parents[2]


def test_configuration_serves_loopback_with_trusted_login(tmp_path: Path) -> None:
    """The YAML loads, binds 127.0.0.1, lets localhost in and loads the demo voice and door."""
    write_config(tmp_path, repo=REPO, port=18999)
    config = load_yaml_dict(tmp_path / "configuration.yaml")
    assert "http" not in config
    http = json.loads((tmp_path / ".storage" / "http").read_text())["data"]
    assert http["stable"]["server_host"] == ["127.0.0.1"]
    assert http["stable"]["server_port"] == 18999
    assert http["pending"] is None and http["yaml_migration_done"] is True
    core = config["homeassistant"]
    assert core["external_url"] == core["internal_url"] == "http://127.0.0.1:18999"
    providers = [provider["type"] for provider in core["auth_providers"]]
    assert providers == ["trusted_networks", "homeassistant"]
    assert core["auth_providers"][0]["trusted_networks"] == ["127.0.0.1/32", "::1/128"]
    assert "demo_voice" in config and "tts" in config
    assert "demo_door" in config
    assert config["automation"] == []


def test_links_point_into_the_checkout(tmp_path: Path) -> None:
    """The integration, the demo voice and door, and the blueprints are the checkout's own files."""
    write_config(tmp_path, repo=REPO, port=8123)
    custom = tmp_path / "custom_components"
    assert (
        custom / "cloud_sip_ua"
    ).resolve() == REPO / "custom_components" / "cloud_sip_ua"
    assert (custom / "demo_voice" / "manifest.json").is_file()
    assert (custom / "demo_door").resolve() == REPO / "scripts/demo_runner/demo_door"
    blueprints = tmp_path / "blueprints" / "automation" / "cloud_sip_ua"
    assert (blueprints / "doorbell_notify.yaml").is_file()


def test_rewrites_config_and_links_but_keeps_onboarding_and_automations(
    tmp_path: Path,
) -> None:
    """A second run changes the port and fixes links; it keeps state Home Assistant owns."""
    write_config(tmp_path, repo=REPO, port=8123)
    onboarding = tmp_path / ".storage" / "onboarding"
    assert json.loads(onboarding.read_text())["data"]["done"] == list(
        PRESEEDED_ONBOARDING_STEPS
    )
    onboarding.write_text('{"data": {"done": ["user"]}}')
    (tmp_path / "automations.yaml").write_text("- id: mine\n")
    link = tmp_path / "custom_components" / "cloud_sip_ua"
    link.unlink()
    link.symlink_to(tmp_path, target_is_directory=True)

    write_config(tmp_path, repo=REPO, port=9000)

    assert "http://127.0.0.1:9000" in (tmp_path / "configuration.yaml").read_text()
    http = json.loads((tmp_path / ".storage" / "http").read_text())["data"]
    assert http["stable"]["server_port"] == 9000
    assert onboarding.read_text() == '{"data": {"done": ["user"]}}'
    assert (tmp_path / "automations.yaml").read_text() == "- id: mine\n"
    assert link.resolve() == REPO / "custom_components" / "cloud_sip_ua"
