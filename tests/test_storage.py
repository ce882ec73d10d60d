"""Content-addressed storage: round trips, idempotence, tamper detection, no path traversal."""

from __future__ import annotations

import hashlib
import os

import pytest

from grants import storage as storage_module
from grants.storage import LocalStorage, Storage

DATA = "交付申請書の添付ファイル".encode() * 100
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def store(tmp_path) -> LocalStorage:
    return LocalStorage(tmp_path / "files")


def stray_files(store: LocalStorage) -> list[str]:
    return sorted(p.name for p in store.root.rglob("*") if p.is_file() and p.name != SHA)


def test_local_storage_implements_storage_protocol(store):
    assert isinstance(store, Storage)


def test_put_new_bytes_returns_sha256_and_reads_back(store):
    assert store.put(DATA) == SHA
    assert store.read(SHA) == DATA
    with store.open(SHA) as stored:
        assert stored.read() == DATA
    assert store.exists(SHA)
    assert store.verify(SHA)


def test_put_new_bytes_stored_under_two_level_fanout(store):
    store.put(DATA)
    assert store.path(SHA) == store.root / SHA[:2] / SHA[2:4] / SHA
    assert store.path(SHA).read_bytes() == DATA


def test_put_same_bytes_twice_keeps_one_file_untouched(store):
    store.put(DATA)
    first = store.path(SHA).stat()
    assert store.put(DATA) == SHA
    second = store.path(SHA).stat()
    assert (second.st_ino, second.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)
    assert [p for p in store.root.rglob("*") if p.is_file()] == [store.path(SHA)]


def test_put_leaves_no_temporary_files(store):
    store.put(DATA)
    store.put(b"")
    assert stray_files(store) == [hashlib.sha256(b"").hexdigest()]


def test_put_failed_rename_leaves_nothing_behind(store, monkeypatch):
    def fail(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(storage_module.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        store.put(DATA)
    assert not store.exists(SHA)
    assert stray_files(store) == []


def test_verify_tampered_file_on_disk_false(store):
    store.put(DATA)
    path = store.path(SHA)
    path.write_bytes(DATA.replace("添付".encode(), "改竄".encode(), 1))
    assert store.exists(SHA)
    assert not store.verify(SHA)


def test_verify_truncated_file_on_disk_false(store):
    store.put(DATA)
    with open(store.path(SHA), "r+b") as stored:
        stored.truncate(10)
    assert not store.verify(SHA)


def test_verify_missing_file_false(store):
    assert not store.exists(SHA)
    assert not store.verify(SHA)


def test_put_again_after_tampering_repairs_file(store):
    store.put(DATA)
    store.path(SHA).write_bytes(b"tampered")
    assert store.put(DATA) == SHA
    assert store.verify(SHA)
    assert store.read(SHA) == DATA


def test_read_missing_file_raises_file_not_found(store):
    with pytest.raises(FileNotFoundError):
        store.read(SHA)
    with pytest.raises(FileNotFoundError):
        store.open(SHA)


@pytest.mark.parametrize(
    "bad",
    [
        "../etc/passwd",
        "../../" + "a" * 58,
        "/etc/passwd",
        "not-a-hash",
        "",
        "a" * 63,
        "a" * 65,
        "A" * 64,  # uppercase would be a second name for the same file
        "g" * 64,
        "a" * 64 + "\n",
        "a" * 62 + "/.",
        "ａ" * 64,  # full-width letters are not hex digits
        None,
        b"a" * 64,
    ],
)
@pytest.mark.parametrize("method", ["path", "open", "read", "exists", "verify"])
def test_storage_bad_hash_raises_value_error(store, bad, method):
    with pytest.raises(ValueError, match="SHA-256"):
        getattr(store, method)(bad)


def test_path_traversal_never_touches_outside_root(store, tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(b"do not read")
    with pytest.raises(ValueError):
        store.read(os.path.relpath(secret, store.root))
