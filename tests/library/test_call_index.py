"""The identifiers calls are known by: lookup order, first come wins, bounded history."""

from __future__ import annotations

import pytest

from custom_components.cloud_sip_ua.cloudsipua.call_index import (
    CallIndex,
    IdKind,
    Match,
    reference_candidates,
)


@pytest.mark.parametrize(
    ("reference", "candidates"),
    [
        (None, ()),
        ("", ()),
        ("abc", ("abc",)),
        ("20000", ("20000",)),
        ('{"id":"abc"}', ("abc",)),
        ('{"a":{"b":["x",7,true,null]}}', ("7", "x")),
        ("[]", ()),
        ("{not json", ("{not json",)),
        ('{"k":""}', ()),
    ],
)
def test_reference_candidates(
    reference: str | None, candidates: tuple[str, ...]
) -> None:
    """Our id is found as a plain text, a number, or a leaf of an object or array."""
    assert sorted(reference_candidates(reference)) == sorted(candidates)


def test_reference_candidates_are_capped() -> None:
    """A huge object yields at most 16 candidates."""
    huge = "{" + ",".join(f'"k{n}":"v{n}"' for n in range(1000)) + "}"
    assert len(reference_candidates(huge)) == 16


def test_lookup_order_and_first_come_wins() -> None:
    """Kinds are tried in order of trust; an id another live call owns is never moved."""
    index = CallIndex(history=4)
    index.add("a")
    index.add("b")
    index.learn("a", {IdKind.REFERENCE: "a", IdKind.TRACE_ID: "t"})
    index.learn(
        "b", {IdKind.REFERENCE: "b", IdKind.TRACE_ID: "t", IdKind.SIP_CALL_ID: None}
    )
    assert index.known("a", IdKind.TRACE_ID) == "t"
    assert index.known("b", IdKind.TRACE_ID) is None
    # A second value of a kind the call already has is ignored.
    index.learn("a", {IdKind.TRACE_ID: "other"})
    assert index.known("a", IdKind.TRACE_ID) == "t"
    assert index.find({IdKind.TRACE_ID: ("t",), IdKind.REFERENCE: ("b",)}) == Match(
        "b", live=True, kind=IdKind.REFERENCE
    )
    assert index.find({IdKind.TRACE_ID: ("nope", "t")}) == Match(
        "a", live=True, kind=IdKind.TRACE_ID
    )
    assert index.find({IdKind.TRACE_ID: ("t",)}, live=False) is None
    # Learning for a call that is not tracked does nothing.
    index.learn("ghost", {IdKind.TRACE_ID: "g"})
    assert index.find({IdKind.TRACE_ID: ("g",)}) is None


def test_only_another_sip_call_id_is_a_conflict() -> None:
    """A different traceId or reference does not rule a call out; a different Call-ID does."""
    index = CallIndex()
    index.add("a")
    assert not index.conflicts("a", {IdKind.SIP_CALL_ID: ("x",)})
    index.learn("a", {IdKind.SIP_CALL_ID: "sip-a", IdKind.TRACE_ID: "t"})
    assert not index.conflicts("a", {IdKind.TRACE_ID: ("other",)})
    assert not index.conflicts("a", {IdKind.REFERENCE: ("20000",)})
    assert not index.conflicts("a", {IdKind.SIP_CALL_ID: ()})
    assert not index.conflicts("a", {IdKind.SIP_CALL_ID: ("sip-a",)})
    assert index.conflicts("a", {IdKind.SIP_CALL_ID: ("sip-b",)})


def test_retired_calls_are_found_as_ended_within_a_bounded_history() -> None:
    """Ended calls' ids are kept for late callbacks, the oldest forgotten first."""
    index = CallIndex(history=2)
    for n in range(10):
        call = f"c{n}"
        index.add(call)
        index.learn(call, {kind: f"{kind}-{n}" for kind in IdKind})
        index.retire(call)
    sizes = index.sizes()
    assert sizes == {"live_ids": 0, "live_calls": 0, "recent_ids": 2 * len(IdKind)}
    assert index.find({IdKind.TRACE_ID: ("traceId-9",)}) == Match(
        "c9", live=False, kind=IdKind.TRACE_ID
    )
    assert index.find({IdKind.TRACE_ID: ("traceId-9",)}, ended=False) is None
    assert index.find({IdKind.TRACE_ID: ("traceId-0",)}) is None
