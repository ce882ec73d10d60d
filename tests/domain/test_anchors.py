"""Tests for grants.domain.anchors: the anchor line format and the check against a chain."""

from __future__ import annotations

import datetime as dt

import pytest

from grants.domain.anchors import (
    Anchor,
    AnchorFileError,
    anchor_line,
    check_anchors,
    parse_anchor_lines,
)
from grants.domain.records import GENESIS, chain_hash

AT = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)


def _chain(count: int, first_id: int = 1) -> list[tuple[int, str]]:
    """(id, hash) of a real chain of ``count`` events with ids from ``first_id``."""
    positions, prev = [], GENESIS
    for event_id in range(first_id, first_id + count):
        prev = chain_hash(prev, {"n": event_id})
        positions.append((event_id, prev))
    return positions


def _anchor_at(positions: list[tuple[int, str]], count: int, line: int = 1) -> Anchor:
    event_id, head = positions[count - 1]
    return Anchor(at=AT, count=count, head=head, last_id=event_id, line=line)


def test_a_line_is_canonical_json_and_reads_back_with_its_number():
    anchor = Anchor(at=dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=9))),
                    count=3, head="a" * 64, last_id=7)
    line = anchor_line(anchor)
    assert line == ('{"at":"2026-11-20T01:00:00+00:00","count":3,'
                    f'"head":"{"a" * 64}","last_id":7}}')
    [read] = parse_anchor_lines(["\n", line + "\n"])
    assert read == Anchor(at=AT, count=3, head="a" * 64, last_id=7, line=2)


def test_other_keys_and_blank_lines_are_ignored():
    line = ('{"at":"2026-11-20T10:00:00+09:00","count":1,'
            f'"head":"{"b" * 64}","last_id":1,"note":"x"}}')
    [read] = parse_anchor_lines(["", "   ", line])
    assert (read.at, read.count, read.line) == (AT, 1, 3)


@pytest.mark.parametrize(("text", "message"), [
    ("not json", "line 2: not JSON"),
    ("[1, 2]", "line 2: not a JSON object"),
    ('{"at": "2026-11-20T01:00:00+00:00", "count": 1}', "line 2: missing head, last_id"),
    ('{"at": "2026-11-20T01:00:00+00:00", "count": 0, "head": "HEAD", "last_id": 1}',
     "line 2: count must be a whole number of at least 1"),
    ('{"at": "2026-11-20T01:00:00+00:00", "count": true, "head": "HEAD", "last_id": 1}',
     "line 2: count must be a whole number of at least 1"),
    ('{"at": "2026-11-20T01:00:00+00:00", "count": 1, "head": "HEAD", "last_id": "1"}',
     "line 2: last_id must be a whole number of at least 1"),
    ('{"at": "2026-11-20T01:00:00+00:00", "count": 1, "head": "ABC", "last_id": 1}',
     "line 2: head must be 64 lowercase hex characters"),
    ('{"at": "2026-11-20T01:00:00", "count": 1, "head": "HEAD", "last_id": 1}',
     "line 2: at must be an ISO 8601 time with its offset"),
    ('{"at": "yesterday", "count": 1, "head": "HEAD", "last_id": 1}',
     "line 2: at must be an ISO 8601 time with its offset"),
    ('{"at": 20261120, "count": 1, "head": "HEAD", "last_id": 1}',
     "line 2: at must be an ISO 8601 time with its offset"),
])
def test_a_malformed_line_is_named_by_its_number(text, message):
    good = anchor_line(Anchor(at=AT, count=1, head="c" * 64, last_id=1))
    with pytest.raises(AnchorFileError) as error:
        parse_anchor_lines([good, text.replace("HEAD", "c" * 64), good])
    assert str(error.value).startswith(message)


def test_a_chain_that_grew_still_reaches_every_anchor():
    chain = _chain(6)
    anchors = [_anchor_at(chain, 2, line=1), _anchor_at(chain, 4, line=2),
               _anchor_at(chain, 4, line=3)]
    assert check_anchors(anchors, chain) == []
    assert check_anchors(anchors, iter(chain)) == []  # read once, as a stream


def test_events_cut_off_at_the_end_leave_the_later_anchors_unreached():
    chain = _chain(5, first_id=10)
    anchors = [_anchor_at(chain, 2, line=1), _anchor_at(chain, 5, line=2)]
    [miss] = check_anchors(anchors, chain[:3])
    assert miss.anchor is anchors[1]
    assert (miss.hash_now, miss.position_now, miss.count_now) == (None, None, 3)
    assert miss.reason == "event 14 is no longer in the chain (3 event(s) now)"


def test_a_rewritten_chain_is_caught_by_the_hash_at_the_anchored_event():
    chain = _chain(4)
    anchors = [_anchor_at(chain, 1, line=1), _anchor_at(chain, 3, line=2)]
    rewritten = chain[:1] + [(event_id, "f" * 64) for event_id, _ in chain[1:]]
    [miss] = check_anchors(anchors, rewritten)
    assert miss.anchor is anchors[1]
    assert miss.reason == f"event 3 now has hash {'f' * 64}"


def test_an_event_removed_before_the_anchor_moves_it_to_another_position():
    chain = _chain(4)
    anchor = _anchor_at(chain, 4)
    [miss] = check_anchors([anchor], chain[:1] + chain[2:])  # same hash, one event fewer before
    assert (miss.hash_now, miss.position_now) == (anchor.head, 3)
    assert miss.reason == "event 4 is now event number 3 of the chain, not 4"


def test_an_empty_chain_reaches_no_anchor():
    anchor = _anchor_at(_chain(1), 1)
    assert [miss.anchor for miss in check_anchors([anchor], [])] == [anchor]
