"""Length-prefixed pickle frames: the requests and results on a renderer's pipes.

A warm renderer serves many documents over one pair of pipes, so each message says how long
it is. Both ends are our own code (the parent and ``grants.rendering.child``): pickle is safe
here, and nothing in a frame comes from a document but the job's data.
"""

from __future__ import annotations

import pickle
import struct
from typing import IO, Any

HEADER = struct.Struct("!Q")  # the pickle's length in bytes


def pack(message: Any) -> bytes:
    """One frame holding ``message``."""
    data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def read(stream: IO[bytes]) -> Any:
    """The next message on a blocking ``stream``; EOFError when the other end closed it."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        raise EOFError("the pipe was closed")
    (size,) = HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the pipe was closed in the middle of a message")
    return pickle.loads(data)  # noqa: S301 (our own process wrote it)


def complete(buffer: bytes | bytearray) -> bytes | None:
    """The pickle of the first frame in ``buffer`` once all of it has arrived, else None."""
    if len(buffer) < HEADER.size:
        return None
    (size,) = HEADER.unpack_from(buffer)
    end = HEADER.size + size
    return bytes(buffer[HEADER.size:end]) if len(buffer) >= end else None
