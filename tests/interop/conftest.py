"""Fixtures: the integration test fixtures (Home Assistant, the emulator, a loaded entry), reused."""

from __future__ import annotations

from tests.integration.conftest import (  # noqa: F401  # fixtures are found by name
    api_keys,
    auto_enable_custom_integrations,
    callback_keys,
    callback_signing,
    emulator,
    emulator_options,
    ha_base_url,
    init_integration,
    mock_config_entry,
    tts_cache,
)
