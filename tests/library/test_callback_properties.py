"""Property tests: no input makes the callback parser raise anything but CallbackParseError."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given, settings, strategies as st

from custom_components.cloud_sip_ua.cloudsipua import (
    CallbackName,
    CallbackParseError,
    parse_callback,
    parse_callback_bytes,
)

_WIRE_KEYS = [
    "replyId", "sessionReferenceId", "remoteRtpIp", "remoteRtpPort", "codec",
    "telephoneEventPayloadType", "crypto", "sourceUser", "destinationUri", "callId", "sessionId",
    "traceId", "httpTransactionId", "domain", "ivrServer", "siteId", "siteBaseUrl",
    "callingPartyNumber", "remotePartyNumber", "callerParticipantId", "calleeParticipantId",
    "connectionId", "callingPartyExpires", "calledPartyExpires", "monitoringParticipant",
    "sipStatus", "sipReason", "errorDescr", "sipCallId", "participantId", "event", "user",
    "remoteUser", "remoteParticipantId",
]  # fmt: skip

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.sampled_from(
        ["PCMA", "10.0.0.1", "::1", "65535", "1e3", "https://x.example", ""]
    )
)
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(max_size=8) | st.sampled_from(["id", "suite", "config"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)
BODIES = st.dictionaries(
    st.sampled_from(_WIRE_KEYS) | st.text(max_size=10), JSON_VALUES, max_size=12
)
NAMES = st.sampled_from(list(CallbackName))


def _parses_or_refuses(name: str, body: Any) -> None:
    """Parse and accept either a model of the right kind or CallbackParseError."""
    try:
        model = parse_callback(name, body)
    except CallbackParseError:
        return
    assert model.name == name
    # Whatever parsed can be written back and parsed again to the same model.
    assert parse_callback(name, json.loads(json.dumps(model.to_json()))) == model


@settings(max_examples=300, deadline=None)
@given(name=NAMES, body=JSON_VALUES)
def test_any_json_value(name: str, body: Any) -> None:
    """Any JSON value gives a model or CallbackParseError."""
    _parses_or_refuses(name, body)


@settings(max_examples=500, deadline=None)
@given(name=NAMES, body=BODIES)
def test_objects_with_known_keys(name: str, body: dict[str, Any]) -> None:
    """Objects whose keys are the documented fields, holding any JSON, never crash the parser."""
    _parses_or_refuses(name, body)


@settings(max_examples=300, deadline=None)
@given(name=NAMES | st.text(max_size=15), raw=st.binary(max_size=200))
def test_arbitrary_bytes(name: str, raw: bytes) -> None:
    """Arbitrary bytes give a model or CallbackParseError."""
    with contextlib.suppress(CallbackParseError):
        parse_callback_bytes(name, raw)


@settings(max_examples=300, deadline=None)
@given(name=NAMES, body=BODIES)
def test_encoded_objects_as_bytes(name: str, body: dict[str, Any]) -> None:
    """The same objects sent as bytes parse the same way as the decoded body."""
    raw = json.dumps(body).encode()
    try:
        from_bytes = parse_callback_bytes(name, raw)
    except CallbackParseError:
        return
    assert from_bytes.name == name
