"""Anchors: the audit chain's head, written down outside the database.

Deleting the newest events leaves a shorter chain that still verifies; only a head remembered
elsewhere shows what is missing. An anchor file holds one anchor per line, appended by
``flask grants audit anchor``, each the canonical JSON (``grants.domain.records``) of::

    {"at": "2026-11-20T01:00:00+00:00", "count": 42, "head": "<64 hex>", "last_id": 42}

``at`` is when the anchor was taken (ISO 8601 with its offset), ``head`` the hash of event
``last_id``, and ``count`` how many events the chain held up to and including it. A chain still
*reaches* an anchor when event ``last_id`` is in it, with that hash, as its ``count``-th event.
Other keys are ignored, so a line may carry a note; blank lines are skipped.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from grants.domain.records import canonical_json, is_sha256_hex

__all__ = ["Anchor", "AnchorFileError", "Unreached", "anchor_line", "check_anchors",
           "parse_anchor_lines"]


class AnchorFileError(ValueError):
    """A line of an anchor file is not an anchor; the message starts with its line number."""


@dataclass(frozen=True)
class Anchor:
    """The chain head at one moment: ``count`` events, the last one ``last_id`` with ``head``."""

    at: dt.datetime
    count: int
    head: str
    last_id: int
    line: int = 0  # where it was read from (1-based); 0 for one not read from a file


@dataclass(frozen=True)
class Unreached:
    """An anchor the chain no longer reaches, and what is now where it pointed."""

    anchor: Anchor
    hash_now: str | None  # the hash event last_id has now; None when the event is gone
    position_now: int | None  # how many events lead up to it now, itself included
    count_now: int  # events in the whole chain now

    @property
    def reason(self) -> str:
        """Say what changed, in the operator's terms."""
        event = self.anchor.last_id
        if self.hash_now is None:
            return f"event {event} is no longer in the chain ({self.count_now} event(s) now)"
        if self.hash_now != self.anchor.head:
            return f"event {event} now has hash {self.hash_now}"
        return (f"event {event} is now event number {self.position_now} of the chain, "
                f"not {self.anchor.count}")


def anchor_line(anchor: Anchor) -> str:
    """The anchor as one line of its file (without the line feed)."""
    return canonical_json({
        "at": anchor.at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "count": anchor.count,
        "head": anchor.head,
        "last_id": anchor.last_id,
    }).decode("utf-8")


def parse_anchor_lines(lines: Iterable[str]) -> list[Anchor]:
    """Read an anchor file's lines, numbered from 1; blank lines are skipped.

    Raises:
        AnchorFileError: at the first line that is not an anchor, naming its number.
    """
    return [_parse(text, number) for number, text in enumerate(lines, start=1) if text.strip()]


def _parse(text: str, number: int) -> Anchor:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise AnchorFileError(f"line {number}: not JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise AnchorFileError(f"line {number}: not a JSON object")
    missing = [key for key in ("at", "count", "head", "last_id") if key not in value]
    if missing:
        raise AnchorFileError(f"line {number}: missing {', '.join(missing)}")
    for key in ("count", "last_id"):
        if type(value[key]) is not int or value[key] < 1:
            raise AnchorFileError(f"line {number}: {key} must be a whole number of at least 1")
    if not is_sha256_hex(value["head"]):
        raise AnchorFileError(f"line {number}: head must be 64 lowercase hex characters")
    return Anchor(_moment(value["at"], number), value["count"], value["head"],
                  value["last_id"], number)


def _moment(value: object, number: int) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise AnchorFileError(f"line {number}: at must be an ISO 8601 time with its offset")
    return moment


def check_anchors(anchors: Sequence[Anchor],
                  positions: Iterable[tuple[int, str]]) -> list[Unreached]:
    """Return the anchors the chain no longer reaches, in their order (empty: all reached).

    Args:
        anchors: the anchors to check.
        positions: ``(event id, hash)`` of every event in chain order; read once, streaming.
    """
    wanted = {anchor.last_id for anchor in anchors}
    seen: dict[int, tuple[int, str]] = {}  # anchored event id -> (its position, its hash)
    count = 0
    for event_id, hash_ in positions:
        count += 1
        if event_id in wanted:
            seen[event_id] = (count, hash_)
    unreached = []
    for anchor in anchors:
        position, hash_ = seen.get(anchor.last_id, (None, None))
        if hash_ != anchor.head or position != anchor.count:
            unreached.append(Unreached(anchor, hash_, position, count))
    return unreached
