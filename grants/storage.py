"""Content-addressed file storage: a file's name is the SHA-256 of its bytes.

An attachment recorded in a submission is named by its hash, so anyone can check years later that
the stored bytes are the ones submitted, and the same file uploaded twice is stored once. Files
are 0600 in folders made 0700. Pure Python; the app builds a `LocalStorage` from STORAGE_DIR.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from grants.filemodes import private_dir

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1024 * 1024


@runtime_checkable
class Storage(Protocol):
    """Where attachments live; a local directory now, an S3-compatible bucket later.

    Hashes are lowercase SHA-256 hex. A hash that is not one raises ValueError; a missing file
    raises FileNotFoundError from `open` and `read`, and is False for `exists` and `verify`.
    """

    def put(self, data: bytes) -> str:
        """Store `data` and return its SHA-256; storing the same bytes again is harmless."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """Open the stored file for reading (the caller closes it)."""
        ...

    def read(self, sha256: str) -> bytes:
        """Return the stored bytes."""
        ...

    def exists(self, sha256: str) -> bool:
        """Say whether a file is stored under this hash (without checking its bytes)."""
        ...

    def verify(self, sha256: str) -> bool:
        """Say whether the file is there and its bytes still hash to its name."""
        ...


class LocalStorage:
    """Files in a local directory, as `root/ab/cd/<sha256>` so no directory grows too large."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """Return where the file for `sha256` lives.

        Raises:
            ValueError: `sha256` is not 64 lowercase hex digits; so no name given by a request can
                reach outside the root ("../etc/passwd", "/abs", "AB…").
        """
        if not isinstance(sha256, str) or not _SHA256_HEX.fullmatch(sha256):
            raise ValueError(f"not a lowercase SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        """Store `data` under its SHA-256 and return the hash.

        Writes a temporary file in the target directory, fsyncs it and renames it into place, so
        a reader never sees a half-written file and a crash leaves only a stray temporary file.
        An intact existing copy is kept as it is; a damaged one is replaced, so uploading the
        file again repairs it.
        """
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256)
        if self.verify(sha256):
            return sha256
        new_dirs = not target.parent.is_dir()
        private_dir(target.parent)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        for directory in (target.parent, *(target.parents[1:3] if new_dirs else ())):
            _fsync_directory(directory)
        return sha256

    def open(self, sha256: str) -> BinaryIO:
        """Open the stored file for reading; FileNotFoundError when it is not stored."""
        return self.path(sha256).open("rb")

    def read(self, sha256: str) -> bytes:
        """Return the stored bytes; FileNotFoundError when it is not stored."""
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        """Say whether a file is stored under this hash (its bytes are not checked)."""
        return self.path(sha256).is_file()

    def verify(self, sha256: str) -> bool:
        """Re-hash the stored bytes: False when missing or changed since they were stored.

        Called before a submission is accepted, so an application never points at a file
        that is gone or was altered on disk.
        """
        digest = hashlib.sha256()
        try:
            with self.open(sha256) as stored:
                while chunk := stored.read(_CHUNK):
                    digest.update(chunk)
        except FileNotFoundError:
            return False
        return digest.hexdigest() == sha256


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
