"""Benchmarks run under pytest to reuse the integration tests' fixtures (real HA, emulator)."""

from tests.conftest import loopback_sockets_only
from tests.integration.conftest import (
    api_keys,
    auto_enable_custom_integrations,
    callback_keys,
    emulator,
    ha_base_url,
    init_integration,
    mock_config_entry,
    tts_cache,
)

__all__ = [
    "api_keys",
    "auto_enable_custom_integrations",
    "callback_keys",
    "emulator",
    "ha_base_url",
    "init_integration",
    "loopback_sockets_only",
    "mock_config_entry",
    "tts_cache",
]
