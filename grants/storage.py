"""Where files live: a local folder (the embedded default) or an S3-compatible bucket.

A `Folder` holds named files: `LocalFolder` a directory, `grants.storage_s3.S3Folder` a bucket's
prefix. Two things live in folders. Attachments are content-addressed (`Storage`): a file's name
is the SHA-256 of its bytes, so anyone can check years later that the stored bytes are the ones
submitted, and the same file uploaded twice is stored once. Batch ZIPs, kept PDFs and the
records a batch stages on its way to a ZIP are named after their job (grants.services.batches).
Local files are 0600 in folders made 0700. Pure Python; `stores_of(app)` builds the app's two
folders once from its settings (STORAGE_DIR and BATCH_DIR, or STORAGE_URL).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from grants.filemodes import private_dir

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_SEGMENT = re.compile(r"[A-Za-z0-9_.-]+")
_CHUNK = 1024 * 1024
STORES_KEY = "grants.stores"  # in app.extensions


class StorageError(OSError):
    """The storage could not be reached, or refused (a bucket missing, credentials refused)."""


def checked_name(name: str) -> str:
    """A file's name inside a folder: relative segments of letters, digits, ``._-``, none of
    them ``.`` or ``..``, so no name can reach outside the folder.

    Raises:
        ValueError: any other name.
    """
    segments = name.split("/") if isinstance(name, str) else [""]
    if not all(segment.strip(".") and _SEGMENT.fullmatch(segment)
               for segment in segments):
        raise ValueError(f"not a file name inside a folder: {name!r}")
    return name


class Folder(ABC):
    """Named files, written whole or not at all: a reader never sees half a file."""

    @abstractmethod
    def open(self, name: str) -> BinaryIO:
        """Open a file for reading, as a stream (the caller closes it); FileNotFoundError when
        there is none."""

    @abstractmethod
    def writer(self, name: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """A seekable file to write (and read back) in a ``with`` block: when the block ends
        without an exception its content replaces ``name`` at once; otherwise nothing changes."""

    @abstractmethod
    def exists(self, name: str) -> bool:
        """Say whether a file of this name is there."""

    @abstractmethod
    def size(self, name: str) -> int:
        """The file's size in bytes; FileNotFoundError when there is none."""

    @abstractmethod
    def remove(self, name: str) -> None:
        """Remove the file, or the folder of this name and everything in it; none is fine."""

    @abstractmethod
    def entries(self) -> dict[str, dt.datetime]:
        """The names at the top of the folder (files and folders), each with when it last
        changed (UTC); empty when the folder does not exist yet."""

    def read(self, name: str) -> bytes:
        """The file's bytes; FileNotFoundError when there is none."""
        with self.open(name) as stream:
            return stream.read()

    def write(self, name: str, data: bytes) -> None:
        """Replace ``name`` with ``data``, whole."""
        with self.writer(name) as handle:
            handle.write(data)


class LocalFolder(Folder):
    """A local directory, made 0700 as needed; each file is written to a private temporary file
    beside it, fsynced and renamed into place, so a crash leaves only a stray ``.part`` file."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def __str__(self) -> str:
        return str(self.root)

    def path(self, name: str) -> Path:
        """Where the file ``name`` lives (ValueError for a name that is not one)."""
        return self.root / checked_name(name)

    def open(self, name: str) -> BinaryIO:
        return self.path(name).open("rb")

    @contextlib.contextmanager
    def writer(self, name: str) -> Iterator[BinaryIO]:
        target = self.path(name)
        created = []
        for directory in (target.parent, *target.parent.parents):
            if directory.is_dir():
                break
            created.append(directory)
        private_dir(target.parent)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                        suffix=".part")  # 0600 whatever the umask
        try:
            with os.fdopen(fd, "w+b") as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        for directory in {target.parent, *(made.parent for made in created)}:
            _fsync_directory(directory)

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def size(self, name: str) -> int:
        return self.path(name).stat().st_size

    def remove(self, name: str) -> None:
        path = self.path(name)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)

    def entries(self) -> dict[str, dt.datetime]:
        found = {}
        for path in self.root.iterdir() if self.root.is_dir() else ():
            with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                found[path.name] = dt.datetime.fromtimestamp(path.lstat().st_mtime, dt.UTC)
        return found


class Storage:
    """Content-addressed files in a folder, as ``ab/cd/<sha256>`` so no directory grows too
    large.

    Hashes are lowercase SHA-256 hex. A hash that is not one raises ValueError; a missing file
    raises FileNotFoundError from `open` and `read`, and is False for `exists` and `verify`.
    """

    def __init__(self, folder: Folder) -> None:
        self.folder = folder

    @staticmethod
    def name(sha256: str) -> str:
        """The file's name in the folder.

        Raises:
            ValueError: `sha256` is not 64 lowercase hex digits; so no name given by a request
                can reach outside the folder ("../etc/passwd", "/abs", "AB…").
        """
        if not isinstance(sha256, str) or not _SHA256_HEX.fullmatch(sha256):
            raise ValueError(f"not a lowercase SHA-256 hex digest: {sha256!r}")
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def put(self, data: bytes) -> str:
        """Store `data` under its SHA-256 and return the hash; storing the same bytes again is
        harmless.

        An intact existing copy is kept as it is; a damaged one is replaced, so uploading the
        file again repairs it.
        """
        sha256 = hashlib.sha256(data).hexdigest()
        if not self.verify(sha256):
            self.folder.write(self.name(sha256), data)
        return sha256

    def open(self, sha256: str) -> BinaryIO:
        """Open the stored file for reading, as a stream (the caller closes it)."""
        return self.folder.open(self.name(sha256))

    def read(self, sha256: str) -> bytes:
        """Return the stored bytes."""
        return self.folder.read(self.name(sha256))

    def exists(self, sha256: str) -> bool:
        """Say whether a file is stored under this hash (its bytes are not checked)."""
        return self.folder.exists(self.name(sha256))

    def verify(self, sha256: str) -> bool:
        """Re-hash the stored bytes: False when missing or changed since they were stored.

        Called before a submission is accepted, so an application never points at a file
        that is gone or was altered. The bytes are read whatever the backend: an S3 ETag is
        no SHA-256, and a checksum kept beside the object is only as honest as whoever wrote it.
        """
        digest = hashlib.sha256()
        try:
            with self.open(sha256) as stored:
                while chunk := stored.read(_CHUNK):
                    digest.update(chunk)
        except FileNotFoundError:
            return False
        return digest.hexdigest() == sha256

    def delete(self, sha256: str) -> None:
        """Remove the stored file (retention's purge); a missing one is fine."""
        self.folder.remove(self.name(sha256))


class LocalStorage(Storage):
    """Content-addressed files in a local directory: ``root/ab/cd/<sha256>``."""

    folder: LocalFolder

    def __init__(self, root: Path | str) -> None:
        super().__init__(LocalFolder(root))
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """Return where the file for `sha256` lives (ValueError for a hash that is not one)."""
        return self.folder.path(self.name(sha256))


@dataclass(frozen=True)
class Stores:
    """An installation's two folders."""

    files: Storage  # attachments and evidence, content-addressed
    batches: Folder  # batch ZIPs, kept PDFs, records staged for a ZIP


def stores_from(config: Mapping[str, Any]) -> Stores:
    """The folders the settings name: under STORAGE_URL (``s3://bucket/prefix``), else the
    local STORAGE_DIR and BATCH_DIR."""
    if config.get("STORAGE_URL"):
        from grants.storage_s3 import s3_stores

        return s3_stores(config)
    return Stores(LocalStorage(config["STORAGE_DIR"]), LocalFolder(config["BATCH_DIR"]))


def stores_of(app: Any) -> Stores:
    """The app's folders, built once per app: an S3 client takes a while to make, and one
    client serves every thread."""
    stores = app.extensions.get(STORES_KEY)
    if stores is None:
        stores = app.extensions.setdefault(STORES_KEY, stores_from(app.config))
    return stores


def as_folder(where: Folder | Path | str) -> Folder:
    """A folder as it is, or a local directory named by its path as one."""
    return where if isinstance(where, Folder) else LocalFolder(where)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); where directories cannot be opened, skip it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
