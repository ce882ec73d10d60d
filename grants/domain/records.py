"""Canonical JSON, SHA-256 digests and the audit hash chain.

An auditor may have to recompute these digests years from now, from a printed or PDF record,
with any JSON library and ``sha256sum``. So the byte format is fixed and written down here, and
must never change for data already recorded:

* **Canonical JSON** is UTF-8, object keys sorted by Unicode code point, no whitespace between
  tokens (``,`` and ``:`` only), non-ASCII characters written as themselves (not ``\\uXXXX``);
  only ``"``, ``\\`` and control characters are escaped, as Python's ``json`` module does. It is
  exactly ``json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
  allow_nan=False).encode("utf-8")``. Allowed values: any mapping with ``str`` keys, ``list`` or
  ``tuple`` (written as arrays), ``str``, ``int``, ``bool`` and ``None``. Floats are refused
  (money is integer yen, ratios are strings like ``"1/2"``: a float's text form is not stable
  across languages), and so are dates, ``Decimal`` and anything else the caller must first turn
  into a string in a documented format.
* **Chain link**: ``hash_n = sha256_hex(prev + "\\n" + canonical_json(event_n))`` where ``prev`` is
  the previous link's hash as 64 lowercase hex ASCII characters, and ``GENESIS`` (64 zeros)
  for the first event. E.g. in a shell: ``printf '%s\\n%s' "$PREV" "$JSON" | sha256sum``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Final

__all__ = [
    "GENESIS", "canonical_json", "chain_hash", "is_sha256_hex", "sha256_hex", "verify_chain",
]

GENESIS: Final = "0" * 64
"""The ``prev_hash`` of the first event of a chain."""

_HEX_DIGITS: Final = frozenset("0123456789abcdef")


def canonical_json(obj: object) -> bytes:
    """Return the canonical UTF-8 JSON bytes of ``obj`` (format in the module docstring).

    Raises:
        TypeError: for a float (NaN and infinities included), a date or datetime, a non-string
            key, or any value that is not dict/list/tuple/str/int/bool/None; the message names
            where it is, e.g. ``$.budget[0].amount_yen``.
    """
    text = json.dumps(_plain(obj, "$"), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8")


def _plain(value: object, path: str) -> object:
    """Return ``value`` as plain dicts/lists, refusing what would not encode stably or exactly."""
    # bool is an int subclass; both are exact. StrEnum/IntEnum members encode as their values.
    if value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        raise TypeError(
            f"canonical_json: float {value!r} at {path} is not allowed; "
            "use integer yen for money and a string such as '1/2' for ratios"
        )
    if isinstance(value, dt.date | dt.time):  # datetime is a date subclass
        raise TypeError(
            f"canonical_json: {type(value).__name__} at {path} is not allowed; "
            "convert it to an ISO 8601 string (with its time zone) first"
        )
    if isinstance(value, Mapping):
        plain: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"canonical_json: non-string key {key!r} at {path}")
            plain[key] = _plain(item, f"{path}.{key}")
        return plain
    if isinstance(value, list | tuple):
        return [_plain(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise TypeError(
        f"canonical_json: {type(value).__name__} at {path} is not allowed "
        "(only mappings, lists, tuples, str, int, bool and None)"
    )


def sha256_hex(data: bytes) -> str:
    """Return the SHA-256 digest of ``data`` as 64 lowercase hex characters."""
    return hashlib.sha256(data).hexdigest()


def is_sha256_hex(text: object) -> bool:
    """Whether ``text`` is written as ``sha256_hex`` writes digests: 64 lowercase hex characters."""
    return isinstance(text, str) and len(text) == 64 and _HEX_DIGITS.issuperset(text)


def chain_hash(prev_hash: str, event: Mapping[str, object]) -> str:
    """Return the hash that links ``event`` to the chain after ``prev_hash``.

    The previous hash is part of the hashed bytes, so changing, removing or reordering any
    earlier event changes every later hash.

    Args:
        prev_hash: the previous event's hash, or ``GENESIS`` for the first event.
        event: the event body; must be valid input for ``canonical_json``.

    Returns:
        ``sha256_hex(prev_hash.encode("ascii") + b"\\n" + canonical_json(event))``.

    Raises:
        ValueError: when ``prev_hash`` is not 64 lowercase hex characters.
        TypeError: when ``event`` is not canonical JSON material.
    """
    if not is_sha256_hex(prev_hash):
        raise ValueError(f"prev_hash must be 64 lowercase hex characters, got {prev_hash!r}")
    return sha256_hex(prev_hash.encode("ascii") + b"\n" + canonical_json(event))


def verify_chain(events: Iterable[tuple[Mapping[str, object], str, str]]) -> int | None:
    """Return the index of the first broken link, or None when the whole chain holds.

    Each item is ``(event_body, prev_hash, hash)`` in chain order. A link is broken when its
    ``prev_hash`` is not the previous item's ``hash`` (``GENESIS`` for the first), when its
    ``hash`` is not ``chain_hash(prev_hash, event_body)``, or when its body cannot be
    canonicalised at all. An edited event breaks at its own index; a removed or inserted event
    breaks at the position where it was. Events cut off at the end leave a valid shorter chain:
    compare with a head recorded elsewhere (``grants.domain.anchors``, the audit PDF) to see that.
    """
    expected_prev = GENESIS
    for index, (body, prev_hash, hash_) in enumerate(events):
        if prev_hash != expected_prev:
            return index
        try:
            recomputed = chain_hash(prev_hash, body)
        except (TypeError, ValueError):
            return index
        if recomputed != hash_:
            return index
        expected_prev = hash_
    return None
