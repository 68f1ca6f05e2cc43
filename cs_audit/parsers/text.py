"""Bytes to text: the one place that decides a file's encoding.

Chinese shops hand us UTF-8 from web back ends, UTF-8 with a BOM or GB18030 from Excel/WPS on
Chinese Windows, and UTF-16 from "Unicode text" saves. The order below (BOM, strict UTF-8,
strict GB18030) never guesses: each step either decodes every byte or is rejected.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable

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
        try:
            codec = codecs.lookup(encoding).name
        except LookupError as error:
            raise EncodingProblem(1, f"unknown encoding {encoding!r}") from error
        if codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
            codec = "utf-8-sig"
        return _strict_decode(data, codec), codec
    codec = sniff_bom(data)
    if codec:
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
        return head.decode(codec, errors="ignore").lstrip("\ufeff")
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 3:
            return head[:error.start].decode("utf-8", errors="ignore")
    return head.decode("gb18030", errors="ignore")
