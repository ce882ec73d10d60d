"""Private folders and files: the instance folder, the attachments, the batch ZIPs and the SQLite
database hold applicants' personal data, so only the account that runs the app may read them.

Folders are made 0700 and files 0600 with an explicit chmod, so the result does not depend on
the process's umask; pure Python, used by the app factory, the database and the storage (whose
local folders hold the attachments and the batches).
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path | str) -> Path:
    """Create ``path`` (and any missing parents) owner-only; an existing ``path`` is tightened.

    Folders above the first existing one are only made private when this call creates them:
    a configured parent such as a mounted volume keeps the mode its administrator chose.
    """
    path = Path(path)
    created = []
    for directory in (path, *path.parents):
        if directory.is_dir():
            break
        created.append(directory)
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    for directory in {path, *created}:
        os.chmod(directory, PRIVATE_DIR)
    return path


def private_file(path: Path | str) -> None:
    """Create ``path`` empty when missing, and make it owner-only either way."""
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def tighten(path: Path | str) -> None:
    """Make an existing file owner-only; a missing one is left missing."""
    try:
        os.chmod(path, PRIVATE_FILE)
    except FileNotFoundError:
        return
