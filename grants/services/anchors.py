"""Anchor the audit chain's head in a file outside the database, and check the chain against it.

The format and the check are in ``grants.domain.anchors``; here are the reads and the file.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.domain.anchors import Anchor, Unreached, anchor_line, check_anchors, parse_anchor_lines
from grants.models import AuditEvent


@dataclass(frozen=True)
class ChainHead:
    """The newest event of the chain and how many events lead up to it, itself included."""

    last_id: int
    hash: str
    count: int
    at: dt.datetime  # when that event happened


def chain_head(session: Session) -> ChainHead | None:
    """Return the chain's head now, or None for an empty chain.

    Appends are serialized and ids grow with them, so counting up to the head's id gives its
    position even while events are being added.
    """
    newest = session.execute(sa.select(AuditEvent.id, AuditEvent.hash, AuditEvent.at)
                             .order_by(AuditEvent.id.desc()).limit(1)).first()
    if newest is None:
        return None
    count = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                           .where(AuditEvent.id <= newest.id))
    return ChainHead(newest.id, newest.hash, count, newest.at)


def anchor(session: Session, path: Path, *, now: dt.datetime) -> Anchor | None:
    """Append the current head to the anchor file; None (nothing written) for an empty chain.

    Raises:
        OSError: when the file cannot be created or written.
    """
    head = chain_head(session)
    if head is None:
        return None
    taken = Anchor(at=now, count=head.count, head=head.hash, last_id=head.last_id)
    append_line(path, anchor_line(taken))
    return taken


def append_line(path: Path, line: str) -> None:
    """Append one line durably: created 0600 if missing, flushed and fsynced before returning.

    A file whose last line lacks its line feed (a write cut short) gets one first, so the new
    line stays whole and the broken one is reported on its own by ``read_anchors``.
    """
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        lead = b"\n" if size and os.pread(fd, 1, size - 1) != b"\n" else b""
        os.write(fd, lead + line.encode("utf-8") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:  # make the new directory entry durable too
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def read_anchors(path: Path) -> list[Anchor]:
    """Read every anchor in the file.

    Raises:
        OSError: when the file cannot be read.
        AnchorFileError: at the first line that is not an anchor (bytes that are not UTF-8
            are read as U+FFFD, so such a line fails as JSON or as a field).
    """
    with path.open("rb") as handle:
        return parse_anchor_lines(line.decode("utf-8", errors="replace") for line in handle)


def check(session: Session, anchors: Sequence[Anchor]) -> list[Unreached]:
    """Return the anchors the chain in the database no longer reaches (empty: all reached)."""
    rows = session.execute(sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id)
                           .execution_options(yield_per=1000))
    try:
        return check_anchors(anchors, ((row.id, row.hash) for row in rows))
    finally:
        rows.close()
