"""A zip entry deflated in pieces: CRCs combined, pieces concatenated into one valid entry."""

from __future__ import annotations

import zipfile
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_audit.reporters.deflate import DeflatedPiece, DeflatedText, crc32_combine, write_entry


@given(first=st.binary(max_size=300), second=st.binary(max_size=300))
def test_combined_crc_is_the_crc_of_the_whole(first, second):
    assert crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second)) == zlib.crc32(first + second)


def test_combined_crc_over_a_long_second_part():
    second = bytes(range(256)) * 40_000 + b"tail"
    assert crc32_combine(zlib.crc32(b"head"), zlib.crc32(second), len(second)) == zlib.crc32(b"head" + second)


@settings(max_examples=40, deadline=None)
@given(head=st.binary(max_size=2000), rows=st.lists(st.binary(max_size=5000), max_size=6),
       tail=st.binary(max_size=2000), other=st.binary(max_size=500))
def test_an_entry_written_in_pieces_reads_back_whole(tmp_path_factory, head, rows, tail, other):
    path = tmp_path_factory.mktemp("zip") / "pieces.zip"
    middle = DeflatedPiece()
    for row in rows:
        middle.add(row)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("before.xml", other)
        write_entry(archive, zipfile.ZipInfo("sheet.xml", (2026, 11, 23, 4, 0, 0)), head, middle, tail)
        archive.writestr("after.xml", other)
    middle.close()
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None  # every entry's CRC checks out
        assert archive.read("sheet.xml") == head + b"".join(rows) + tail
        assert archive.getinfo("sheet.xml").file_size == len(head + b"".join(rows) + tail)
        assert archive.getinfo("sheet.xml").date_time == (2026, 11, 23, 4, 0, 0)
        assert archive.read("before.xml") == archive.read("after.xml") == other


def test_a_large_entry_is_compressed(tmp_path):
    middle = DeflatedPiece()
    row = "<row><c><is><t>亲，在的，请问有什么可以帮您？</t></is></c></row>".encode("utf-8")
    for _ in range(20_000):
        middle.add(row)
    path = tmp_path / "large.zip"
    with zipfile.ZipFile(path, "w") as archive:
        write_entry(archive, zipfile.ZipInfo("sheet.xml"), b"<sheetData>", middle, b"</sheetData>")
    middle.close()
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("sheet.xml")
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert info.compress_size < info.file_size / 20
        assert archive.read("sheet.xml") == b"<sheetData>" + row * 20_000 + b"</sheetData>"


@settings(max_examples=60, deadline=None)
@given(pieces=st.lists(st.text(alphabet=st.characters(blacklist_characters="\x01"), max_size=300), max_size=40),
       separator=st.sampled_from(["\n", "\x01"]))
def test_text_kept_compressed_reads_back_piece_by_piece(pieces, separator):
    pieces = [piece.replace(separator, "") for piece in pieces]
    kept = DeflatedText()
    for piece in pieces:
        kept.write(piece + separator)
    try:
        assert list(kept.split(separator)) == pieces
        assert list(kept.split(separator)) == pieces  # read again, for a second report
    finally:
        kept.close()


def test_text_kept_compressed_across_many_chunks():
    lines = [f"{number} 亲，在的呢，请问有什么可以帮您？" * (number % 7 + 1) for number in range(40_000)]
    kept = DeflatedText()
    for line in lines:
        kept.write(line + "\n")
    try:
        assert list(kept.split("\n")) == lines
        assert kept._file.tell() < sum(len(line.encode("utf-8")) for line in lines) / 5
    finally:
        kept.close()


def test_text_cannot_grow_once_read():
    kept = DeflatedText()
    kept.write("a\n")
    assert list(kept.split("\n")) == ["a"]
    with pytest.raises(ValueError, match="has been read"):
        kept.write("b\n")
    kept.close()
