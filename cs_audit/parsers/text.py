"""Bytes to text: the one place that decides a file's encoding.

Chinese shops hand us UTF-8 from web back ends, UTF-8 with a BOM or GB18030 from Excel/WPS on
Chinese Windows, and UTF-16 from "Unicode text" saves. The order below (BOM, strict UTF-8,
strict GB18030) never guesses: each step either decodes every byte or is rejected.
"""

from __future__ import annotations

import codecs

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


def decode_bytes(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """Decode a whole file; return ``(text, encoding_used)``.

    With ``encoding="auto"``: a BOM decides; otherwise strict UTF-8, then strict GB18030.
    An explicit encoding is applied strictly. Raises :class:`EncodingProblem` naming the
    line of the first byte that cannot be decoded.
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
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            line = _line_of_offset(data, utf8_error.start)
            raise EncodingProblem(
                line,
                f"bytes {data[utf8_error.start:utf8_error.start + 4]!r} are neither UTF-8 "
                "nor GB18030; pass --encoding if the file uses another encoding",
            ) from None


def _strict_decode(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        line = _line_of_offset(data, error.start)
        raise EncodingProblem(line, f"not valid {codec}: {error.reason}") from None
