"""The vendor API's OpenAPI document and validation of request and callback bodies against it."""

from __future__ import annotations

from functools import cache
from itertools import islice
import json
import math
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")

# operation path segment -> request schema name in components/schemas
REQUEST_SCHEMAS = {
    "answerremotecalljwt": "AnswerRemoteCallRequest",
    "hangupcalljwt": "HangupCallRequest",
    "placeremotecalljwt": "PlaceRemoteCallRequest",
    "sendremotecallringbackjwt": "RingbackRequest",
}
OPERATIONS = tuple(REQUEST_SCHEMAS)
# A reason names at most this many schema violations.
_MAX_REPORTED = 5


class BodyError(Exception):
    """A request body is not JSON or breaks its schema; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        """Keep the field name next to the message."""
        super().__init__(f"{field}: {message}")
        self.field = field


@cache
def load_document() -> dict[str, Any]:
    """Return the OpenAPI document as a dict (parsed once)."""
    document: dict[str, Any] = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    return document


@cache
def schema_validator(schema_name: str) -> jsonschema_rs.Validator:
    """Return a compiled validator for one schema of components/schemas."""
    document = load_document()
    # References inside the schemas point at #/components/..., so the root carries them.
    root = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": f"#/components/schemas/{schema_name}",
        "components": document["components"],
    }
    return jsonschema_rs.validator_for(root)


def _finite_float(text: str) -> float:
    """Parse a JSON number, refusing ones that overflow to infinity."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:20]}")
    return value


def _refuse_constant(name: str) -> Any:
    """Refuse NaN and Infinity, which are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


def parse_json_body(raw: bytes) -> Any:
    """Parse a request body as strict JSON or raise BodyError."""
    if not raw.strip():
        raise BodyError("body", "a JSON request body is required")
    try:
        return json.loads(
            raw, parse_float=_finite_float, parse_constant=_refuse_constant
        )
    except (ValueError, RecursionError) as err:
        # UnicodeDecodeError and JSONDecodeError are ValueErrors.
        raise BodyError("body", f"not valid JSON ({type(err).__name__})") from err


def _field_of(error: jsonschema_rs.ValidationError) -> str:
    """Return the name of the field a validation error is about."""
    path = ".".join(str(part) for part in error.instance_path)
    if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Required):
        missing = error.kind.property
        return f"{path}.{missing}" if path else missing
    return path or "body"


def validate_body(schema_name: str, body: Any) -> None:
    """Raise BodyError naming the fields that break the schema (the first one in `field`)."""
    try:
        errors = list(
            islice(schema_validator(schema_name).iter_errors(body), _MAX_REPORTED)
        )
    except (ValueError, OverflowError) as err:
        # The validator refuses values nested too deeply for it.
        raise BodyError("body", "too deeply nested to validate") from err
    if errors:
        first, *others = errors
        message = "; ".join(
            [first.message[:200]]
            + [f"{_field_of(e)}: {e.message[:200]}" for e in others]
        )
        raise BodyError(_field_of(first), message)


def validate_request(operation: str, raw: bytes) -> dict[str, Any]:
    """Parse and validate the body of one API operation; return it or raise BodyError."""
    body = parse_json_body(raw)
    validate_body(REQUEST_SCHEMAS[operation], body)
    if not isinstance(
        body, dict
    ):  # pragma: no cover - the schemas all demand an object
        raise BodyError("body", "must be an object")
    return body


def webhook_schema_name(callback: str) -> str:
    """Return the components/schemas name documenting one callback body."""
    ref: str = load_document()["webhooks"][callback]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]
