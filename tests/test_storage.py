"""Storage: round trips, idempotence, tamper detection, no path traversal, whole writes.

Every test of the interface runs on both backends: the local folder and an S3 bucket on a real
S3-compatible server started for the tests (tests/s3_server.py; skipped without moto). What
only a local folder has (paths, renames, fsync) is tested on it alone; the bucket's own
behaviour (its keys, failed uploads, settings) is in tests/test_storage_s3.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest

from grants import storage as storage_module
from grants.storage import Folder, LocalFolder, LocalStorage, Storage, stores_from
from tests import s3_server

DATA = "交付申請書の添付ファイル".encode() * 100
SHA = hashlib.sha256(DATA).hexdigest()
BACKENDS = ["local", "s3"]
s3_endpoint, s3_settings = s3_server.s3_endpoint, s3_server.s3_settings  # the fixtures


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "files")
    return stores_from(request.getfixturevalue("s3_settings")).files


@pytest.fixture(params=BACKENDS)
def folder(request, tmp_path) -> Folder:
    if request.param == "local":
        return LocalFolder(tmp_path / "batches")
    return stores_from(request.getfixturevalue("s3_settings")).batches


@pytest.fixture
def local(tmp_path) -> LocalStorage:
    return LocalStorage(tmp_path / "files")


def names_in(folder: Folder) -> list[str]:
    """Every file in the folder, by its name there (temporary files included)."""
    if isinstance(folder, LocalFolder):
        return sorted(str(p.relative_to(folder.root)) for p in folder.root.rglob("*")
                      if p.is_file())
    found = folder.client.list_objects_v2(Bucket=folder.location.bucket,
                                          Prefix=folder.location.prefix).get("Contents", [])
    return sorted(item["Key"][len(folder.location.prefix):] for item in found)


def tamper(store: Storage, data: bytes) -> None:
    """Replace the stored bytes behind the storage's back."""
    store.folder.write(Storage.name(SHA), data)


# --- content-addressed storage, on both backends ----------------------------------------------


def test_storage_implements_storage_interface(store):
    assert isinstance(store, Storage)


def test_put_new_bytes_returns_sha256_and_reads_back(store):
    assert store.put(DATA) == SHA
    assert store.read(SHA) == DATA
    with store.open(SHA) as stored:
        assert stored.read() == DATA
    assert store.exists(SHA)
    assert store.verify(SHA)


def test_put_stores_under_two_level_fanout_and_nothing_else(store):
    store.put(DATA)
    store.put(b"")
    empty = hashlib.sha256(b"").hexdigest()
    assert names_in(store.folder) == sorted([f"{SHA[:2]}/{SHA[2:4]}/{SHA}",
                                             f"{empty[:2]}/{empty[2:4]}/{empty}"])
    assert store.read(empty) == b""


def test_put_same_bytes_twice_writes_once(store, monkeypatch):
    store.put(DATA)

    def no_second_write(*_args):
        raise AssertionError("an intact copy is kept as it is")

    monkeypatch.setattr(store.folder, "write", no_second_write)
    assert store.put(DATA) == SHA


def test_verify_tampered_file_false(store):
    store.put(DATA)
    tamper(store, DATA.replace("添付".encode(), "改竄".encode(), 1))
    assert store.exists(SHA)
    assert not store.verify(SHA)


def test_verify_truncated_file_false(store):
    store.put(DATA)
    tamper(store, DATA[:10])
    assert not store.verify(SHA)


def test_verify_missing_file_false(store):
    assert not store.exists(SHA)
    assert not store.verify(SHA)


def test_put_again_after_tampering_repairs_file(store):
    store.put(DATA)
    tamper(store, b"tampered")
    assert store.put(DATA) == SHA
    assert store.verify(SHA)
    assert store.read(SHA) == DATA


def test_read_missing_file_raises_file_not_found(store):
    with pytest.raises(FileNotFoundError):
        store.read(SHA)
    with pytest.raises(FileNotFoundError):
        store.open(SHA)


def test_delete_removes_the_file_and_only_it(store):
    other = store.put(b"another file")
    store.put(DATA)
    store.delete(SHA)
    assert not store.exists(SHA) and not store.verify(SHA)
    assert store.verify(other)
    store.delete(SHA)  # already gone: fine
    assert names_in(store.folder) == [Storage.name(other)]


BAD_HASHES = [
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
]


@pytest.mark.parametrize("bad", BAD_HASHES)
@pytest.mark.parametrize("method", ["open", "read", "exists", "verify", "delete"])
def test_storage_bad_hash_raises_value_error(store, bad, method):
    with pytest.raises(ValueError, match="SHA-256"):
        getattr(store, method)(bad)


def test_path_traversal_never_touches_outside_the_folder(store, tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(b"do not read")
    with pytest.raises(ValueError):
        store.read(os.path.relpath(secret, tmp_path / "files"))


# --- named folders (batches), on both backends ------------------------------------------------


def test_folder_writes_whole_files_and_reads_them_back(folder):
    folder.write("batch-1.zip", b"PK zip")
    folder.write(".batch-2.parts/7.pdf", b"%PDF staged")
    assert folder.read("batch-1.zip") == b"PK zip"
    with folder.open(".batch-2.parts/7.pdf") as stream:
        assert stream.read() == b"%PDF staged"
    assert folder.exists("batch-1.zip") and folder.size("batch-1.zip") == 6
    assert not folder.exists("batch-3.zip")
    with pytest.raises(FileNotFoundError):
        folder.read("batch-3.zip")
    with pytest.raises(FileNotFoundError):
        folder.size("batch-3.zip")
    assert names_in(folder) == [".batch-2.parts/7.pdf", "batch-1.zip"]


def test_folder_writer_is_seekable_and_replaces_the_file_only_when_done(folder):
    folder.write("batch-1.zip", b"old")
    with folder.writer("batch-1.zip") as handle:
        handle.write(b"new content")
        handle.seek(0)
        assert handle.read(3) == b"new"
        assert folder.read("batch-1.zip") == b"old"  # not yet
    assert folder.read("batch-1.zip") == b"new content"


def test_folder_writer_that_fails_changes_nothing_and_leaves_nothing(folder):
    folder.write("batch-1.zip", b"old")
    with pytest.raises(RuntimeError, match="render failed"), folder.writer("batch-1.zip") as h:
        h.write(b"half a zip")
        raise RuntimeError("render failed")
    with pytest.raises(OSError, match="disk full"), folder.writer("batch-2.zip") as handle:
        handle.write(b"half")
        raise OSError("disk full")
    assert folder.read("batch-1.zip") == b"old"
    assert names_in(folder) == ["batch-1.zip"]


def test_folder_removes_files_and_folders_whole(folder):
    for name in (".batch-2.parts/1.pdf", ".batch-2.parts/1.json", ".batch-20.parts/1.pdf",
                 "batch-2.zip", "batch-2.zip2"):
        folder.write(name, b"x")
    folder.remove(".batch-2.parts")
    folder.remove("batch-2.zip")
    folder.remove("batch-9.zip")  # none: fine
    assert names_in(folder) == [".batch-20.parts/1.pdf", "batch-2.zip2"]


def test_folder_entries_name_its_top_with_when_they_changed(folder):
    assert folder.entries() == {}  # not made yet
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    for name in ("batch-1.zip", ".batch-2.parts/1.pdf", ".batch-2.parts/1.json"):
        folder.write(name, b"x")
    entries = folder.entries()
    assert sorted(entries) == [".batch-2.parts", "batch-1.zip"]
    for changed in entries.values():
        assert changed.tzinfo is not None
        assert before <= changed <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/../../x", ".", "..", "a//b", "",
                                 "a/", "ファイル.pdf", "a b", None])
@pytest.mark.parametrize("method", ["open", "read", "exists", "size", "remove"])
def test_folder_bad_names_raise_value_error(folder, bad, method):
    with pytest.raises(ValueError, match="not a file name"):
        getattr(folder, method)(bad)


# --- what only a local folder has -------------------------------------------------------------


def test_local_path_is_the_two_level_fanout(local):
    local.put(DATA)
    assert local.path(SHA) == local.root / SHA[:2] / SHA[2:4] / SHA
    assert local.path(SHA).read_bytes() == DATA


def test_local_put_same_bytes_twice_keeps_one_file_untouched(local):
    local.put(DATA)
    first = local.path(SHA).stat()
    assert local.put(DATA) == SHA
    second = local.path(SHA).stat()
    assert (second.st_ino, second.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)
    assert [p for p in local.root.rglob("*") if p.is_file()] == [local.path(SHA)]


def test_local_failed_rename_leaves_nothing_behind(local, monkeypatch):
    def fail(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(storage_module.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        local.put(DATA)
    assert not local.exists(SHA)
    assert names_in(local.folder) == []


def test_local_files_are_private_in_private_folders(local, tmp_path):
    old = os.umask(0)
    try:
        local.put(DATA)
        LocalFolder(tmp_path / "batches").write(".batch-1.parts/1.pdf", b"%PDF")
    finally:
        os.umask(old)
    for path in (local.path(SHA), tmp_path / "batches" / ".batch-1.parts" / "1.pdf"):
        assert path.stat().st_mode & 0o777 == 0o600
        for parent in path.parents:
            if parent == tmp_path:
                break
            assert parent.stat().st_mode & 0o777 == 0o700, parent


@pytest.mark.parametrize("bad", ["../etc/passwd", "A" * 64, None])
def test_local_path_bad_hash_raises_value_error(local, bad):
    with pytest.raises(ValueError, match="SHA-256"):
        local.path(bad)


def test_local_folder_and_stores_from_the_default_settings(tmp_path):
    stores = stores_from({"STORAGE_DIR": str(tmp_path / "files"),
                          "BATCH_DIR": str(tmp_path / "batches")})
    assert isinstance(stores.files, LocalStorage) and stores.files.root == tmp_path / "files"
    assert isinstance(stores.batches, LocalFolder)
    assert stores.batches.root == Path(tmp_path / "batches")
    assert str(stores.batches) == str(tmp_path / "batches")
