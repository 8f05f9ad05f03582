"""The Assist pipeline and end-of-speech selects: their entities, and what a choice does."""

from __future__ import annotations

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from homeassistant.components.assist_pipeline import async_get_pipelines
from homeassistant.components.assist_pipeline.vad import VadSensitivity
from homeassistant.components.select import (
    ATTR_OPTION,
    ATTR_OPTIONS,
    DOMAIN as SELECT_DOMAIN,
    SERVICE_SELECT_OPTION,
)
from homeassistant.const import ATTR_ENTITY_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .assist_call import satellite_of, with_assist
from .assist_providers import PIPELINE_NAME, Doorkeeper, RecordingEars
from .helpers import entity_id, snapshot_platform_alone


@pytest.fixture
def mock_config_entry(mock_config_entry: MockConfigEntry) -> MockConfigEntry:
    """Return the test entry with Assist on calls, without which there are no selects."""
    return with_assist(mock_config_entry)


async def _select(hass: HomeAssistant, key: str, option: str) -> None:
    """Choose an option of one of the device's selects."""
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: entity_id(hass, "select", key), ATTR_OPTION: option},
        blocking=True,
    )


async def test_all_entities(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every select, as registered and as its first state (alone, they still name the device)."""
    await snapshot_platform_alone(
        hass, mock_config_entry, Platform.SELECT, entity_registry, snapshot
    )


async def test_pipeline_choice_is_the_satellites_and_persists(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    doorstep: tuple[RecordingEars, Doorkeeper],
) -> None:
    """The chosen pipeline is the one the call's satellite runs, also after a reload."""
    pipeline = entity_id(hass, "select", "pipeline")
    assert hass.states.get(pipeline).attributes[ATTR_OPTIONS] == [
        "preferred",
        *sorted(item.name for item in async_get_pipelines(hass)),
    ]
    chosen = next(p for p in async_get_pipelines(hass) if p.name == PIPELINE_NAME)
    satellite = satellite_of(hass)
    assert satellite.pipeline_entity_id == pipeline
    assert satellite._resolve_pipeline() is None  # noqa: SLF001 - the preferred one

    await _select(hass, "pipeline", PIPELINE_NAME)
    assert satellite._resolve_pipeline() == chosen.id  # noqa: SLF001

    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(pipeline).state == PIPELINE_NAME
    assert satellite_of(hass)._resolve_pipeline() == chosen.id  # noqa: SLF001


async def test_end_of_speech_choice_is_the_satellites_and_persists(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The chosen sensitivity sets how long a pause ends the caller's turn, also after a reload."""
    sensitivity = entity_id(hass, "select", "vad_sensitivity")
    satellite = satellite_of(hass)
    assert satellite.vad_sensitivity_entity_id == sensitivity
    assert hass.states.get(sensitivity).state == VadSensitivity.DEFAULT
    default = satellite._resolve_vad_sensitivity()  # noqa: SLF001

    await _select(hass, "vad_sensitivity", VadSensitivity.RELAXED)
    relaxed = VadSensitivity.to_seconds(VadSensitivity.RELAXED)
    assert relaxed > default
    assert satellite._resolve_vad_sensitivity() == relaxed  # noqa: SLF001

    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(sensitivity).state == VadSensitivity.RELAXED
    assert satellite_of(hass)._resolve_vad_sensitivity() == relaxed  # noqa: SLF001
