"""Refuse zip bombs before a workbook is opened: caps on uncompressed size and compression ratio."""

from __future__ import annotations

import zipfile
from pathlib import Path

# A real chat export of a million messages unpacks to a few hundred MB of sheet XML.
MAX_UNCOMPRESSED_BYTES = 1 << 30
# Sheet XML compresses 5-30x; hundreds or thousands to one is a crafted archive.
MAX_COMPRESSION_RATIO = 200
# Small members (styles, relationships) may compress oddly well; only large ones are judged.
RATIO_CHECK_FROM_BYTES = 1 << 20


class UnsafeArchive(ValueError):
    """The archive would unpack to far more than it holds: refused, with the reason."""


def check_archive(path: Path) -> int:
    """The bytes ``path`` unpacks to; raise UnsafeArchive (or zipfile.BadZipFile) when unreasonable."""
    with zipfile.ZipFile(path) as archive:
        total = 0
        for member in archive.infolist():
            total += member.file_size
            if total > MAX_UNCOMPRESSED_BYTES:
                raise UnsafeArchive(f"unpacks to more than {MAX_UNCOMPRESSED_BYTES >> 20} MiB; "
                                    "refused as a possible zip bomb")
            if member.file_size >= RATIO_CHECK_FROM_BYTES:
                ratio = member.file_size / max(member.compress_size, 1)
                if ratio > MAX_COMPRESSION_RATIO:
                    raise UnsafeArchive(f"member {member.filename} is compressed {ratio:.0f}:1 "
                                        f"(at most {MAX_COMPRESSION_RATIO}:1 accepted); refused as "
                                        "a possible zip bomb")
    return total
