"""Bytes to text: the one place that decides a file's encoding.

Chinese shops hand us UTF-8 from web back ends, UTF-8 with a BOM or GB18030 from Excel/WPS on
Chinese Windows, and UTF-16 from "Unicode text" saves. The order below (BOM, strict UTF-8,
strict GB18030) never guesses: each step either decodes every byte or is rejected.
"""

from __future__ import annotations

import codecs
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

# Longest BOMs first: the UTF-32 LE BOM starts with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class EncodingProblem(ValueError):
    """The file's bytes are not text in any encoding we accept; carries the line."""

    def __init__(self, line: int, reason: str):
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


# A file read whole (the platform formats, GB18030 text, a pipe) may hold at most this: as much as
# a workbook may unpack to, and far more than any chat export read whole.
MAX_WHOLE_FILE_BYTES = 1 << 30
# Bytes read at a time when checking that a file decodes; the decoded text is dropped.
CHECK_CHUNK_BYTES = 1 << 20
# Codecs a file is streamed in (an explicit --encoding outside them reads the file whole):
# those whose decoding in chunks is known to give what decoding all at once gives.
STREAMED_CODECS = frozenset({
    "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be",
    "gb18030", "gbk", "gb2312", "big5", "ascii", "iso8859-1", "cp1252",
})


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def sniff_bom(data: bytes) -> str | None:
    """Return the codec named by a byte-order mark at the start of ``data``, if any."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec
    return None


def decode_bytes(data: bytes, encoding: str = "auto",
                 on_bad_line: Callable[[int, str], None] | None = None) -> tuple[str, str]:
    """Decode a whole file; return ``(text, encoding_used)``.

    With ``encoding="auto"``: a BOM decides; otherwise strict UTF-8, then strict GB18030. An
    explicit encoding is applied strictly. A file mixing encodings (mostly UTF-8 with some lines
    saved as GB18030, as happens when exports are concatenated) is never decoded into garbage:
    with ``on_bad_line`` each line that is not UTF-8 is reported through it (line, reason) and
    left out (an empty line takes its place, so line numbers stay right); without it, the file
    is rejected. Raises :class:`EncodingProblem` naming the line of the first bad byte.
    """
    if encoding != "auto":
        check_encoding(encoding)
        codec = codecs.lookup(encoding).name
        if codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
            codec = "utf-8-sig"
        return _strict_decode(data, codec), codec
    codec = sniff_bom(data)
    if codec:
        if data.startswith(codecs.BOM_UTF32_LE):
            try:
                return _strict_decode(data, codec), codec
            except EncodingProblem:
                # FF FE 00 00 is also UTF-16's little-endian BOM followed by U+0000.
                codec = "utf-16"
        return _strict_decode(data, codec), codec
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        first_bad = utf8_error
    lines = data.split(b"\n")
    if _has_utf8_text(lines):
        return _decode_mixed(lines, on_bad_line, first_bad, data), "utf-8"
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        line = _line_of_offset(data, first_bad.start)
        raise EncodingProblem(
            line,
            f"bytes {data[first_bad.start:first_bad.start + 4]!r} are neither UTF-8 "
            "nor GB18030; pass --encoding if the file uses another encoding",
        ) from None


def _has_utf8_text(lines: list[bytes]) -> bool:
    """Whether the file is UTF-8 at heart with some foreign lines, rather than GB18030.

    A line counts for UTF-8 when it decodes and holds a character of U+0800 or above (Chinese
    is three bytes in UTF-8); short GB18030 lines can decode as UTF-8 by accident (谢谢 reads
    as лл) but only into two-byte characters. UTF-8 wins only with more such lines than lines
    that are not UTF-8 at all.
    """
    utf8_lines = foreign_lines = 0
    for line in lines:
        if max(line, default=0) < 0x80:
            continue
        try:
            decoded = line.decode("utf-8")
        except UnicodeDecodeError:
            foreign_lines += 1
            continue
        if max(map(ord, decoded)) >= 0x800:
            utf8_lines += 1
    return utf8_lines > foreign_lines


def _decode_mixed(lines: list[bytes], on_bad_line: Callable[[int, str], None] | None,
                  first_bad: UnicodeDecodeError, data: bytes) -> str:
    if on_bad_line is None:
        line = _line_of_offset(data, first_bad.start)
        raise EncodingProblem(line, "not valid UTF-8 here although the rest of the file is "
                                    "(mixed encodings)")
    decoded = []
    for number, line in enumerate(lines, start=1):
        try:
            decoded.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            try:
                line.decode("gb18030")
                guess = "looks like GB18030"
            except UnicodeDecodeError:
                guess = "not text in UTF-8 or GB18030"
            on_bad_line(number, f"line is not UTF-8 like the rest of the file ({guess}); "
                                "left out rather than decoded into garbage")
            decoded.append("")
    return "\n".join(decoded)


def _strict_decode(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        line = _line_of_offset(data, error.start)
        raise EncodingProblem(line, f"not valid {codec}: {error.reason}") from None


def sniff_text(head: bytes) -> str:
    """The first bytes of a file as text, leniently, for format sniffing only.

    A BOM decides; else UTF-8 (a character cut by the end of the window is dropped); else
    GB18030, what Chinese Windows tools save. Undecodable bytes are dropped, never raised on:
    a sniffer must not fail where the parser would report the problem properly.
    """
    codec = sniff_bom(head)
    if codec:
        if head.startswith(codecs.BOM_UTF32_LE):
            try:
                head[:len(head) // 4 * 4].decode(codec)
            except UnicodeDecodeError:
                codec = "utf-16"  # as in decode_bytes
        return head.decode(codec, errors="ignore").lstrip("\ufeff")
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 3:
            return head[:error.start].decode("utf-8", errors="ignore")
    return head.decode("gb18030", errors="ignore")


def stream_codec(path: Path, encoding: str = "auto") -> str | None:
    """The codec a file can be read with as a text stream, or None when only ``decode_bytes`` can.

    The codec is the one :func:`decode_bytes` would report (a BOM decides, else UTF-8, or the
    explicit ``encoding`` if one of ``STREAMED_CODECS``) when every byte of the file decodes in
    it; the file is checked in chunks and nothing decoded is kept. None means the whole-file
    path must decide: GB18030 or mixed encodings under "auto", bytes to report as an error, an
    unknown or unusual encoding name.
    """
    with open_input(path) as handle:
        head = handle.read(4)
        if encoding == "auto":
            codec = sniff_bom(head) or "utf-8"
        else:
            try:
                check_encoding(encoding)
            except EncodingProblem:
                return None  # decode_bytes reports it
            codec = codecs.lookup(encoding).name
            if codec == "utf-8" and head.startswith(codecs.BOM_UTF8):
                codec = "utf-8-sig"
            if codec not in STREAMED_CODECS:
                return None
        decoder = codecs.getincrementaldecoder(codec)("strict")
        handle.seek(0)
        try:
            while chunk := handle.read(CHECK_CHUNK_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeError:  # the UTF-16 and UTF-32 stream decoders also refuse a missing BOM
            return None
    return codec


def open_input(path: Path) -> BinaryIO:
    """Open an input for reading bytes; a named pipe without a writer does not block the run."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def check_encoding(encoding: str) -> None:
    """Raise EncodingProblem unless ``encoding`` is "auto" or a codec from bytes to text.

    codecs.lookup also finds rot13, zlib_codec or base64, which are no text encodings.
    """
    if encoding == "auto":
        return
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise EncodingProblem(1, f"unknown encoding {encoding!r}") from None
    try:
        b"a".decode(info.name)
    except LookupError:  # "'rot13' is not a text encoding; use codecs.decode()"
        raise EncodingProblem(1, f"{encoding!r} is not a text encoding; pass the file's character "
                                 "encoding, e.g. utf-8 or gb18030") from None
    except UnicodeDecodeError:
        pass


def read_bounded(path: Path) -> bytes:
    """The bytes of a file or pipe, at most ``MAX_WHOLE_FILE_BYTES``; EncodingProblem past them.

    A named pipe is opened without waiting for a writer (one that never comes reads as empty).
    """
    with open_input(path) as handle:
        data = handle.read(MAX_WHOLE_FILE_BYTES + 1)
    if len(data) > MAX_WHOLE_FILE_BYTES:
        raise EncodingProblem(1, f"more than {MAX_WHOLE_FILE_BYTES >> 20} MiB to read whole; split "
                                 "the export, or save it as CSV or JSONL, which are streamed")
    return data


# Characters read at a time while skipping the rest of an over-long line.
_SKIP_CHARS = 1 << 20


def bounded_lines(stream: TextIO, limit: int) -> Iterator[str | None]:
    """Each line of ``stream`` as it reads them (ends as its ``newline`` says), or None for a
    line of more than ``limit`` characters, whose rest is skipped without being held: a single
    50 MB line costs no more memory than ``limit`` characters."""
    while line := stream.readline(limit + 1):
        if len(line) > limit and not line.endswith("\n"):
            while (rest := stream.readline(_SKIP_CHARS)) and not rest.endswith("\n"):
                pass
            yield None
        else:
            yield line


@dataclass(frozen=True)
class TextSource:
    """A file's text, readable more than once: streamed from disk in ``codec`` or held decoded.

    ``open(newline)`` gives a fresh text stream each time, with ``newline`` as for ``open()``:
    ``""`` keeps line endings for the csv module, ``"\\n"`` ends lines at "\\n" only (JSONL).
    """

    path: Path
    encoding: str
    codec: str | None = None  # stream the file from disk in this codec
    text: str | None = None  # or read this decoded text

    @contextmanager
    def open(self, newline: str) -> Iterator[TextIO]:
        if self.text is not None:
            yield io.StringIO(self.text, newline=newline)
            return
        with self.path.open("r", encoding=self.codec, errors="strict", newline=newline) as handle:
            yield handle


def text_source(path: Path, encoding: str = "auto",
                on_bad_line: Callable[[int, str], None] | None = None) -> TextSource:
    """The text of a file for parsers that read it line by line, without holding it if possible.

    A file that decodes whole in its codec (BOM, UTF-8 or the explicit ``encoding``) is streamed
    from disk; any other goes through :func:`decode_bytes` (same encoding, same problems and
    errors) and is held decoded: GB18030 and mixed-encoding exports are rare and small. Each
    ``open()`` of a streamed source reads the file again, so it must not change meanwhile.
    """
    # A pipe (``<(zcat export.csv.gz)``) can be read only once: it is read whole.
    codec = stream_codec(path, encoding) if path.is_file() else None
    if codec is not None:
        return TextSource(path, codec, codec=codec)
    text, used = decode_bytes(read_bounded(path), encoding, on_bad_line)
    return TextSource(path, used, text=text)


CODE_DIGITS = 9


def code_number(text: str) -> int | None:
    """``text`` (spaces around allowed) as a small number such as a message type or role code,
    else None: ASCII digits only (``isdigit`` also takes ² and other digits int() refuses), at
    most ``CODE_DIGITS`` of them (int() refuses more than 4,300, and no code is that long)."""
    digits = text.strip()
    if digits.isascii() and digits.isdecimal() and len(digits) <= CODE_DIGITS:
        return int(digits)
    return None
