"""How a callback finds its call: every identifier a call is known by, live and recently ended.

The platform copies our sessionReferenceId into callbacks, but its own samples show it as a
number and as an empty object, and callAnswered carries no SIP call id. So a call is known by
every identifier the platform has sent for it, looked up in a fixed order of trust, and the
identifiers of ended calls are kept for a bounded while so that a late callback for an ended
call is recognised as such (and never taken for a live one).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
import json


class IdKind(StrEnum):
    """The identifiers a callback can carry, named by their wire field."""

    REFERENCE = "sessionReferenceId"
    SIP_CALL_ID = "sipCallId"
    TRACE_ID = "traceId"
    CONNECTION_ID = "connectionId"
    SESSION_ID = "sessionId"
    REPLY_ID = "replyId"


# The order of trust: our own reference first (we chose it), then the SIP Call-ID, then the
# platform's ids. A replyId (hashed) only ever matches a redelivered newRemoteCall.
LOOKUP_ORDER = (
    IdKind.REFERENCE,
    IdKind.SIP_CALL_ID,
    IdKind.TRACE_ID,
    IdKind.CONNECTION_ID,
    IdKind.SESSION_ID,
    IdKind.REPLY_ID,
)

type Ids = Mapping[IdKind, Iterable[str]]
type _Key = tuple[IdKind, str]


@dataclass(frozen=True, slots=True)
class Match:
    """The call a callback belongs to, whether it is still live, and by which identifier."""

    call_id: str
    live: bool
    kind: IdKind


def reference_candidates(reference: str | None) -> tuple[str, ...]:
    """Return the strings a sessionReferenceId may hold our id in.

    The parser turns numbers into their text and objects into canonical JSON; an object or
    array is searched for string and number leaves, since the service may wrap the value.
    """
    if not reference:
        return ()
    if reference[0] not in "{[":
        return (reference,)
    try:
        value = json.loads(reference)
    except ValueError:
        return (reference,)
    leaves: list[str] = []
    stack = [value]
    while stack and len(leaves) < 16:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and item:
            leaves.append(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            leaves.append(str(item))
    return tuple(leaves)


class CallIndex:
    """Identifiers of live calls, and of the most recently ended ones (bounded)."""

    def __init__(self, history: int = 256) -> None:
        """Remember up to `history` ended calls' identifiers."""
        self._live: dict[_Key, str] = {}
        self._keys_of: dict[str, dict[IdKind, str]] = {}
        self._recent: OrderedDict[_Key, str] = OrderedDict()
        self._recent_limit = history * len(IdKind)

    def add(self, call_id: str) -> None:
        """Start tracking a live call."""
        self._keys_of.setdefault(call_id, {})

    def learn(self, call_id: str, ids: Mapping[IdKind, str | None]) -> None:
        """Remember identifiers of a live call; one it already has of a kind is kept."""
        known = self._keys_of.get(call_id)
        if known is None:
            return
        for kind, value in ids.items():
            if not value or kind in known:
                continue
            key = (kind, value)
            # First come wins: an identifier another live call owns is never moved.
            if self._live.setdefault(key, call_id) == call_id:
                known[kind] = value

    def known(self, call_id: str, kind: IdKind) -> str | None:
        """Return the identifier of `kind` a live call is known by."""
        return self._keys_of.get(call_id, {}).get(kind)

    def find(self, ids: Ids, *, live: bool = True, ended: bool = True) -> Match | None:
        """Return the call the identifiers name, trying kinds in LOOKUP_ORDER."""
        for kind in LOOKUP_ORDER:
            for value in ids.get(kind, ()):
                key = (kind, value)
                if live and (call_id := self._live.get(key)) is not None:
                    return Match(call_id, live=True, kind=kind)
                if ended and (call_id := self._recent.get(key)) is not None:
                    return Match(call_id, live=False, kind=kind)
        return None

    def conflicts(self, call_id: str, ids: Ids) -> bool:
        """Return True if the callback names another SIP Call-ID than the call is known by.

        Only the SIP Call-ID names one call for sure. Our reference may be the platform's own
        number (the samples' 20000), and the vendor's samples show a different traceId in
        callAnswered than in newRemoteCall for what must be one call: neither rules a call out.
        """
        known = self._keys_of.get(call_id, {}).get(IdKind.SIP_CALL_ID)
        values = tuple(ids.get(IdKind.SIP_CALL_ID, ()))
        return known is not None and bool(values) and known not in values

    def retire(self, call_id: str) -> None:
        """Move an ended call's identifiers to the bounded history."""
        for kind, value in self._keys_of.pop(call_id, {}).items():
            key = (kind, value)
            if self._live.get(key) == call_id:
                del self._live[key]
            self._recent[key] = call_id
            self._recent.move_to_end(key)
        while len(self._recent) > self._recent_limit:
            self._recent.popitem(last=False)

    def sizes(self) -> dict[str, int]:
        """Return how many entries each table holds (bounded memory is tested on these)."""
        return {
            "live_ids": len(self._live),
            "live_calls": len(self._keys_of),
            "recent_ids": len(self._recent),
        }
