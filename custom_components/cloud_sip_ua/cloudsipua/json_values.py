"""Exact JSON decoding: numbers keep their text so nothing passes through a float."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
import json
import math
from typing import Any


class JsonNumber(str):
    """A JSON number with a fraction or exponent, kept as the exact text that was sent."""

    __slots__ = ()


def loads_exact(raw: bytes | str) -> Any:
    """Decode JSON, turning non-integer numbers into JsonNumber (integers are exact already)."""
    return json.loads(raw, parse_float=JsonNumber, parse_constant=_reject_constant)


def _reject_constant(name: str) -> Any:
    """Refuse NaN and Infinity, which are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


def canonical_json(value: object) -> str:
    """Return compact JSON with sorted keys, writing numbers exactly as they were received."""
    if isinstance(value, JsonNumber):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None or isinstance(value, (bool, int)):
        return json.dumps(value)
    if isinstance(value, float):
        return json.dumps(value) if math.isfinite(value) else "null"
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else "null"
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda pair: str(pair[0]))
        members = (
            f"{json.dumps(str(key), ensure_ascii=False)}:{canonical_json(item)}"
            for key, item in items
        )
        return "{" + ",".join(members) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical_json(item) for item in value) + "]"
    raise TypeError(f"{type(value).__name__} is not a JSON value")
