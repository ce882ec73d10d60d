"""Read just enough of a legacy Office file (an OLE2 compound file) to tell what it is.

The directory gives the stream names (WordDocument, Workbook, PowerPoint Document, ...), and a
stream's first sector is enough to see Word's and Excel's password flags. A malformed file raises
ValueError or struct.error; the caller reports it as damaged.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_MAXREGSECT = 0xFFFFFFFA  # sector ids above this are markers (end of chain, free, FAT, DIFAT)


def directory(data: bytes) -> tuple[int, dict[str, tuple[int, int]]]:
    """Return the sector size and {entry name: (start sector, stream size)}."""
    shift, n_fat = struct.unpack_from("<H", data, 0x1E)[0], struct.unpack_from("<I", data, 0x2C)[0]
    if shift not in (9, 12):
        raise ValueError("bad sector size")
    size = 1 << shift
    fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
    difat, seen = struct.unpack_from("<I", data, 0x44)[0], set()
    while difat < _MAXREGSECT:  # more FAT sectors than the header's 109: a chain of DIFAT sectors
        if difat in seen:
            raise ValueError("DIFAT loop")
        seen.add(difat)
        ids = struct.unpack_from(f"<{size // 4}I", data, (difat + 1) * size)
        fat_sectors.extend(ids[:-1])
        difat = ids[-1]
    fat: list[int] = []
    for sector in fat_sectors[:n_fat]:
        fat.extend(struct.unpack_from(f"<{size // 4}I", data, (sector + 1) * size))
    entries: dict[str, tuple[int, int]] = {}
    for sector in _chain(fat, struct.unpack_from("<I", data, 0x30)[0]):
        block = data[(sector + 1) * size : (sector + 2) * size]
        for offset in range(0, len(block) - 127, 128):
            name_len, kind = struct.unpack_from("<HB", block, offset + 64)
            if kind in (1, 2, 5) and 2 <= name_len <= 64:  # storage, stream, root
                name = block[offset : offset + name_len - 2].decode("utf-16-le", "replace")
                entries[name] = struct.unpack_from("<II", block, offset + 116)
    return size, entries


def _chain(fat: list[int], start: int) -> Iterator[int]:
    """Follow a sector chain through the FAT, refusing loops and sectors out of range."""
    seen: set[int] = set()
    sector = start
    while sector < _MAXREGSECT:
        if sector in seen or sector >= len(fat):
            raise ValueError("broken sector chain")
        seen.add(sector)
        yield sector
        sector = fat[sector]


def stream_head(data: bytes, sector_size: int, entry: tuple[int, int]) -> bytes:
    """Return a stream's first sector; streams under 4096 bytes live in the mini stream: skip."""
    start, length = entry
    if length < 4096 or start >= _MAXREGSECT:
        return b""
    offset = (start + 1) * sector_size
    return data[offset : offset + min(sector_size, length)]


def second_biff_record(head: bytes) -> int:
    """Return the type of the record after BOF: FILEPASS there means the workbook is encrypted."""
    if len(head) < 4:
        return -1
    (bof_length,) = struct.unpack_from("<H", head, 2)
    if len(head) < 6 + bof_length:
        return -1
    return struct.unpack_from("<H", head, 4 + bof_length)[0]
