"""Fixtures shared by every test."""

import pytest
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
import pytest_socket
from syrupy.assertion import SnapshotAssertion

# Imported first so that our custom_components package, not the test plugin's, is the one found.
import custom_components.cloud_sip_ua  # noqa: F401


@pytest.fixture(autouse=True)
def loopback_sockets_only(socket_enabled: None) -> None:
    """Let tests open real sockets, but connect to loopback only."""
    pytest_socket.socket_allow_hosts(
        ["127.0.0.1", "::1", "localhost"], allow_unix_socket=True
    )


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Serialise Home Assistant objects (states, registry entries) the way core's tests do."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)
