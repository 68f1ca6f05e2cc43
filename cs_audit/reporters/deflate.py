"""Data kept deflated in temporary files while an audit runs: the JSON entries and the rows
waiting for a sheet (``DeflatedText``), and a large sheet's rows as one piece of its zip entry
(``DeflatedPiece``), whose head and tail (known only when the workbook is saved) are compressed
around them at the end.

Deflate streams can be concatenated when every piece but the last ends on a byte boundary
without the final-block bit (``Z_SYNC_FLUSH``), as pigz does; the CRC-32 of the whole entry is
combined from the pieces' CRCs (zlib's ``crc32_combine``, which Python's zlib does not offer).
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import itertools
import tempfile
import zlib
import zipfile
from collections.abc import Iterator

# What zipfile.ZIP_DEFLATED uses when given no compression level.
_LEVEL = zlib.Z_DEFAULT_COMPRESSION
_RAW = -zlib.MAX_WBITS
_CHUNK = 1 << 20
# Temporary text is compressed fast: it is read back once or twice, then deleted.
_TEXT_LEVEL = 1
_TEXT_AT_ONCE = 1 << 16


# What a full disk or an exhausted quota says.
_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


class TemporarySpaceError(OSError):
    """The temporary folder the run's data waits in (TMPDIR) is full: a report may be fine to
    write, but nothing can be spooled, so the message names that folder, not the report's."""


@contextlib.contextmanager
def _spooling() -> Iterator[None]:
    try:
        yield
    except OSError as error:
        if error.errno in _NO_SPACE and not isinstance(error, TemporarySpaceError):
            raise TemporarySpaceError(
                error.errno, f"no space left in the temporary folder {tempfile.gettempdir()}") from error
        raise


def _gf2_times(matrix: list[int], vector: int) -> int:
    total = 0
    row = 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, matrix[row]) for row in range(32)]


def crc32_combine(first: int, second: int, second_length: int) -> int:
    """The CRC-32 of A+B from ``first`` = crc32(A), ``second`` = crc32(B) and len(B)."""
    if second_length <= 0:
        return first
    # The operator that appends one zero bit to a CRC, squared into one zero byte; then, for
    # each bit of the length, applied if the bit is set and squared again (2, 4, 8… bytes).
    zeros = [0xEDB88320] + [1 << bit for bit in range(31)]
    for _ in range(3):
        zeros = _gf2_square(zeros)
    while True:
        if second_length & 1:
            first = _gf2_times(zeros, first)
        second_length >>= 1
        if not second_length:
            break
        zeros = _gf2_square(zeros)
    return first ^ second


class DeflatedPiece:
    """Bytes compressed as they are added, into a temporary file: one piece of a deflate stream
    (ended with a sync flush, so that more can follow), with its CRC-32 and length."""

    def __init__(self) -> None:
        with _spooling():
            self._file = tempfile.TemporaryFile()
        self._compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, _RAW)
        self.crc = 0
        self.length = 0
        self._ended = False

    def add(self, data: bytes) -> None:
        """Compress ``data`` after what was added before."""
        self.crc = zlib.crc32(data, self.crc)
        self.length += len(data)
        with _spooling():
            self._file.write(self._compressor.compress(data))

    def compressed(self) -> Iterator[bytes]:
        """The piece's deflate data (no more can be added once it is read)."""
        with _spooling():
            if not self._ended:
                self._file.write(self._compressor.flush(zlib.Z_SYNC_FLUSH))
                self._ended = True
            self._file.flush()
        self._file.seek(0)
        while chunk := self._file.read(_CHUNK):
            yield chunk

    def close(self) -> None:
        self._file.close()


class DeflatedText:
    """Text kept compressed in a temporary file: appended to, then read back (any number of
    times) as the pieces between separators. About an eighth of the disk (or, where the
    temporary folder is a tmpfs, of the memory) the text itself would take."""

    def __init__(self) -> None:
        with _spooling():
            self._file = tempfile.TemporaryFile()
        self._compressor: zlib._Compress | None = zlib.compressobj(_TEXT_LEVEL)
        self._waiting: list[str] = []
        self._waiting_length = 0

    def write(self, text: str) -> None:
        """Append ``text`` (not once the text has been read)."""
        if self._compressor is None:
            raise ValueError("the text has been read; nothing can be added")
        self._waiting.append(text)
        self._waiting_length += len(text)
        if self._waiting_length >= _TEXT_AT_ONCE:
            self._compress_waiting()

    def _compress_waiting(self) -> None:
        if self._waiting and self._compressor is not None:
            # surrogatepass: any str comes back as it was written, even a lone surrogate.
            with _spooling():
                self._file.write(self._compressor.compress(
                    "".join(self._waiting).encode("utf-8", "surrogatepass")))
        self._waiting.clear()
        self._waiting_length = 0

    def split(self, separator: str) -> Iterator[str]:
        """The pieces of the text between ``separator``s, and after the last one if not empty."""
        if self._compressor is not None:
            self._compress_waiting()
            with _spooling():
                self._file.write(self._compressor.flush())
            self._compressor = None
        with _spooling():
            self._file.flush()
        self._file.seek(0)
        decompressor = zlib.decompressobj()
        decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")
        rest = ""
        while chunk := self._file.read(_CHUNK):
            *pieces, rest = (rest + decoder.decode(decompressor.decompress(chunk))).split(separator)
            yield from pieces
        *pieces, rest = (rest + decoder.decode(decompressor.flush(), final=True)).split(separator)
        yield from pieces
        if rest:
            yield rest

    def close(self) -> None:
        self._file.close()


def _deflated(data: bytes, last: bool) -> bytes:
    compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, _RAW)
    return compressor.compress(data) + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


class _AlreadyDeflated:
    """Stands in for the zlib compressor of a zip entry being written: data passes unchanged."""

    @staticmethod
    def compress(data: bytes) -> bytes:
        return data

    @staticmethod
    def flush() -> bytes:
        return b""


def write_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, head: bytes, middle: DeflatedPiece,
                tail: bytes) -> None:
    """Add the entry ``head + middle + tail`` to ``archive`` (deflated, zip64), compressing
    only ``head`` and ``tail``: ``middle`` is copied as it was compressed."""
    crc = crc32_combine(crc32_combine(zlib.crc32(head), middle.crc, middle.length), zlib.crc32(tail), len(tail))
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as writing:
        # zipfile has no way to add data that is already compressed. Its entry writer
        # (_ZipWriteFile, unchanged from Python 3.6 to 3.13) compresses through _compressor and
        # records _crc and _file_size, which close() writes into the headers: the compressor
        # is replaced by a pass-through and the two figures set to those of the plain entry.
        if not all(hasattr(writing, name) for name in ("_compressor", "_crc", "_file_size")):
            raise RuntimeError("this Python's zipfile cannot be given deflated data (cs-audit needs "
                               "zipfile._ZipWriteFile as in Python 3.6-3.13)")
        writing._compressor = _AlreadyDeflated()
        for piece in itertools.chain([_deflated(head, last=False)], middle.compressed(),
                                     [_deflated(tail, last=True)]):
            writing.write(piece)
        writing._crc = crc
        writing._file_size = len(head) + middle.length + len(tail)
