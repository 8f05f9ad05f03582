"""Fixtures shared by every test."""

from collections.abc import Iterator

import pytest
import pytest_socket

# Imported first so that our custom_components package, not the test plugin's, is the one found.
import custom_components.cloud_sip_ua  # noqa: F401


@pytest.fixture(autouse=True)
def loopback_sockets_only(socket_enabled: None) -> Iterator[None]:
    """Let tests open real sockets, but connect to loopback only."""
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1", "localhost"], allow_unix_socket=True)
    yield
