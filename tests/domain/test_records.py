"""Tests for grants.domain.records: canonical JSON and the audit hash chain."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

import pytest

from grants.domain.records import GENESIS, canonical_json, chain_hash, sha256_hex, verify_chain

# A fixed event whose bytes and digests are pinned: if these change, every recorded chain
# stops verifying, so the format must not change.
EVENT = {
    "type": "application.submit",
    "application_id": 42,
    "actor": "山田 太郎",
    "amount_yen": 100000000,
    "ok": True,
    "note": None,
    "lines": [{"b": 1, "a": "機器"}],
}
EVENT_JSON = (
    '{"actor":"山田 太郎","amount_yen":100000000,"application_id":42,'
    '"lines":[{"a":"機器","b":1}],"note":null,"ok":true,"type":"application.submit"}'
)
EVENT_SHA256 = "fa0e87eef9d334a11b64c21c12def0457f82ba304f82c9c113955b8d3af7c258"
EVENT_CHAIN_HASH = "1ef322988e4242fcce6e78d87dfbf2a743a47b88572558a29e42e5735d447fa0"


def _chain(bodies: list[dict[str, object]]) -> list[tuple[dict[str, object], str, str]]:
    links, prev = [], GENESIS
    for body in bodies:
        digest = chain_hash(prev, body)
        links.append((body, prev, digest))
        prev = digest
    return links


BODIES: list[dict[str, object]] = [
    {"seq": 0, "tag": "application:create", "actor": "applicant-1"},
    {"seq": 1, "tag": "application:submit", "actor": "applicant-1", "state": "submitted"},
    {"seq": 2, "tag": "application:accept", "actor": "officer-7", "state": "in_review"},
    {"seq": 3, "tag": "record:download", "actor": "auditor-2", "note": "会計検査"},
]


# --- canonical_json ----------------------------------------------------------------------------


def test_canonical_json_fixed_event_pinned_bytes() -> None:
    assert canonical_json(EVENT) == EVENT_JSON.encode("utf-8")


def test_canonical_json_key_order_independent() -> None:
    reordered = dict(reversed(list(EVENT.items())))
    reordered["lines"] = [{"a": "機器", "b": 1}]
    assert canonical_json(reordered) == canonical_json(EVENT)


def test_canonical_json_japanese_text_kept_as_utf8() -> None:
    data = canonical_json({"name": "札幌市", "kana": "さっぽろし"})
    assert data == '{"kana":"さっぽろし","name":"札幌市"}'.encode()
    assert b"\\u" not in data


def test_canonical_json_no_insignificant_whitespace() -> None:
    assert (
        canonical_json({"a": [1, 2, {"b": None}], "c": "x y"})
        == b'{"a":[1,2,{"b":null}],"c":"x y"}'
    )


def test_canonical_json_tuple_and_mapping_proxy_as_plain_json() -> None:
    assert canonical_json(MappingProxyType({"t": (1, "2")})) == b'{"t":[1,"2"]}'


def test_canonical_json_str_enum_written_as_value() -> None:
    class Tag(StrEnum):
        SUBMIT = "application:submit"

    assert canonical_json({"tag": Tag.SUBMIT}) == b'{"tag":"application:submit"}'


@pytest.mark.parametrize("value", [1.0, 0.5, float("nan"), float("inf")])
def test_canonical_json_float_raises_type_error(value: float) -> None:
    with pytest.raises(TypeError, match=r"float .* at \$\.budget\[0\]\.amount_yen"):
        canonical_json({"budget": [{"amount_yen": value}]})


@pytest.mark.parametrize(
    "value",
    [dt.date(2011, 1, 14), dt.datetime(2011, 1, 14, 17, 0, tzinfo=dt.UTC), dt.time(17, 0)],
)
def test_canonical_json_date_or_time_raises_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="ISO 8601"):
        canonical_json({"closes": value})


@pytest.mark.parametrize("value", [Decimal("1"), {1, 2}, b"bytes", object()])
def test_canonical_json_other_types_raise_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="not allowed"):
        canonical_json({"x": value})


def test_canonical_json_non_string_key_raises_type_error() -> None:
    with pytest.raises(TypeError, match="non-string key"):
        canonical_json({1: "one"})


def test_canonical_json_big_int_and_bool_exact() -> None:
    assert (
        canonical_json([10**30, True, False, 0])
        == b"[1000000000000000000000000000000,true,false,0]"
    )


# --- digests and chain links -------------------------------------------------------------------


def test_sha256_hex_fixed_event_pinned() -> None:
    assert sha256_hex(canonical_json(EVENT)) == EVENT_SHA256
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_chain_hash_fixed_event_pinned() -> None:
    assert chain_hash(GENESIS, EVENT) == EVENT_CHAIN_HASH


def test_chain_hash_matches_documented_formula() -> None:
    expected = hashlib.sha256(("0" * 64 + "\n" + EVENT_JSON).encode("utf-8")).hexdigest()
    assert chain_hash(GENESIS, EVENT) == expected


@pytest.mark.parametrize("prev", ["", "0" * 63, "A" * 64, "g" * 64])
def test_chain_hash_bad_prev_hash_raises_value_error(prev: str) -> None:
    with pytest.raises(ValueError, match="64 lowercase hex"):
        chain_hash(prev, EVENT)


# --- verify_chain ------------------------------------------------------------------------------


def test_verify_chain_intact_returns_none() -> None:
    assert verify_chain(_chain(BODIES)) is None
    assert verify_chain([]) is None


@pytest.mark.parametrize("index", range(len(BODIES)))
def test_verify_chain_changed_event_breaks_at_its_index(index: int) -> None:
    links = _chain(BODIES)
    body, prev, digest = links[index]
    links[index] = ({**body, "actor": "someone-else"}, prev, digest)
    assert verify_chain(links) == index


def test_verify_chain_recomputed_changed_event_breaks_at_next_index() -> None:
    links = _chain(BODIES)
    forged = {**BODIES[1], "state": "awarded"}
    links[1] = (forged, links[1][1], chain_hash(links[1][1], forged))
    assert verify_chain(links) == 2


def test_verify_chain_removed_event_breaks_where_it_was() -> None:
    links = _chain(BODIES)
    del links[1]
    assert verify_chain(links) == 1


def test_verify_chain_swapped_events_break_at_first_swap() -> None:
    links = _chain(BODIES)
    links[1], links[2] = links[2], links[1]
    assert verify_chain(links) == 1


def test_verify_chain_first_link_not_genesis_breaks_at_zero() -> None:
    links = _chain(BODIES)
    assert verify_chain(links[1:]) == 0


def test_verify_chain_uncanonicalisable_body_breaks_at_its_index() -> None:
    links = _chain(BODIES)
    body, prev, digest = links[2]
    links[2] = ({**body, "amount": 1.5}, prev, digest)
    assert verify_chain(links) == 2
