"""The Excel workbook: sheets and headers in both languages, formats, charts, transcript links,
chat text that stays text, and sheets that continue past Excel's row limit."""

from __future__ import annotations

import re
from datetime import datetime
import zipfile
import zlib
from copy import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles.fonts import DEFAULT_FONT
from openpyxl.xml.functions import tostring

from cs_audit.audit import Auditor
from cs_audit.model import InputSummary
from cs_audit.reporters import xlsx
from cs_audit.reporters.xlsx import write_xlsx
from cs_audit.reporters import xlsx_cells
from cs_audit.reporters.xlsx_cells import (CUT_MARKER, EXCEL_CELL_LIMIT, XML_ILLEGAL, MarkedText, clean_text,
                                           display_width, marked_runs)
from cs_audit.reporters.xlsx_labels import LABELS, SHEETS, labels_for
from cs_audit.rubric import load_rubric
from conftest import CANONICAL_SAMPLES, as_characters, conversation, make_report, sheet_parts

SHEET_KEYS = ("summary", "agents", "conversations", "findings", "transcripts", "problems", "rubric")
EXCEL_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


@pytest.fixture(scope="module")
def samples_report():
    from cs_audit.cli import read_inputs
    from cs_audit.reporters import Report

    rubric = load_rubric("taobao")
    inputs, conversations = read_inputs(list(CANONICAL_SAMPLES), "auto", "auto", None)
    auditor = Auditor(rubric)
    return Report.build(rubric, inputs, [auditor.audit(c) for c in conversations], mask=True)


@pytest.fixture(scope="module", params=["zh", "en"])
def workbook(request, samples_report, tmp_path_factory):
    path = tmp_path_factory.mktemp("xlsx") / f"r-{request.param}.xlsx"
    write_xlsx(samples_report, path, lang=request.param)
    return request.param, path, load_workbook(path)


def _rows(sheet):
    return list(sheet.iter_rows(values_only=True))


def _column(sheet, title):
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    return header.index(title) + 1


def test_sheet_names_are_valid_for_excel_in_every_language():
    for pair in SHEETS.values():
        for name in pair:
            # room for the " 99" a continued sheet adds
            assert len(name) + 3 <= 31 and not EXCEL_FORBIDDEN.search(name), name
    assert all(len(pair) == 2 and all(pair) for pair in LABELS.values())


def test_unknown_language_is_refused():
    with pytest.raises(ValueError):
        labels_for("fr")


def test_workbook_has_every_sheet_with_headers_in_its_language(workbook):
    lang, _, book = workbook
    sheets, words, _ = labels_for(lang)
    assert book.sheetnames == [sheets[key] for key in SHEET_KEYS]
    header = _rows(book[sheets["conversations"]])[0]
    assert header[:3] == (words["conversation"], words["source"], words["agents"])
    if lang == "zh":
        assert book.sheetnames[0] == "总览 Summary" and header[0] == "会话"
    else:
        assert book.sheetnames[0] == "Summary" and header[0] == "Conversation"
    for key in ("agents", "conversations", "findings", "transcripts", "problems"):
        sheet = book[sheets[key]]
        assert sheet.freeze_panes == "A2"
        if sheet.max_row > 1:  # a filter on an empty table is left out
            assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:")


def test_numbers_are_numbers_with_formats(workbook):
    lang, _, book = workbook
    sheets, words, _ = labels_for(lang)
    sheet = book[sheets["conversations"]]
    first_reply = _column(sheet, words["first_reply"])
    score = _column(sheet, words["score"])
    kpi = _column(sheet, "taobao.reply_3min_rate")
    timed = [row for row in sheet.iter_rows(min_row=2) if row[first_reply - 1].value is not None]
    assert timed
    for row in timed:
        assert isinstance(row[first_reply - 1].value, (int, float))
        assert row[first_reply - 1].number_format == "0"
        assert row[score - 1].number_format == "0.0"
    rates = [row[kpi - 1] for row in sheet.iter_rows(min_row=2) if row[kpi - 1].value is not None]
    assert rates and all(cell.number_format == "0.0%" for cell in rates)
    summary = {row[0].value: row[1] for row in book[sheets["summary"]].iter_rows() if row[0].value}
    assert summary[words["pass_rate"]].number_format == "0.0%"
    assert isinstance(summary[words["conversations"]].value, int)


def test_score_and_kpi_columns_are_conditionally_formatted(workbook):
    lang, _, book = workbook
    sheets, _, _ = labels_for(lang)
    ranges = {str(rule.sqref) for rule in book[sheets["conversations"]].conditional_formatting}
    assert any(r.startswith("G2:") for r in ranges)  # score
    assert len(ranges) >= 3  # score, sentiment, at least one KPI with a target


def test_summary_has_native_charts_and_complaint_words(workbook):
    lang, path, book = workbook
    sheets, words, _ = labels_for(lang)
    with zipfile.ZipFile(path) as archive:
        charts = [name for name in archive.namelist() if name.startswith("xl/charts/chart")]
        assert len(charts) == 2
        assert "barChart" in archive.read(charts[0]).decode()
    rows = _rows(book[sheets["summary"]])
    labels = [row[0] for row in rows]
    assert words["complaint_words"] in labels
    start = labels.index(words["complaint_words"]) + 2
    keywords = [row[0] for row in rows[start:] if row[0]]
    assert keywords and all(isinstance(row[1], float) for row in rows[start:] if row[0])
    assert words["top_failed"] in labels and words["grade"] in labels


def test_every_conversation_links_to_its_transcript_heading(workbook):
    lang, _, book = workbook
    sheets, words, _ = labels_for(lang)
    conversations = book[sheets["conversations"]]
    link_column = _column(conversations, words["transcript"])
    rows = list(conversations.iter_rows(min_row=2))
    assert rows
    for row in rows:
        link = row[link_column - 1].hyperlink
        assert link is not None and link.target is None
        sheet_name, cell = link.location.rsplit("!", 1)
        heading = book[sheet_name.strip("'")][cell].value
        assert heading.startswith(f"{row[0].value} · ")


def test_transcripts_hold_every_message_with_marked_detections(samples_report, tmp_path):
    path = tmp_path / "t.xlsx"
    write_xlsx(samples_report, path, lang="en")
    sheet = load_workbook(path, rich_text=True)["Transcripts"]
    message_rows = [row for row in sheet.iter_rows(min_row=2) if isinstance(row[1].value, int)]
    assert len(message_rows) == sum(len(r.messages) for r in samples_report.results)
    marked = [row for row in message_rows if row[6].value]
    assert marked
    assert any(type(row[5].value).__name__ == "CellRichText" for row in marked)
    # the red-marked piece is exactly the detected text
    rude = next(row for row in marked if "risk.contact" in row[6].value)
    blocks = [block for block in rude[5].value if not isinstance(block, str)]
    assert any(block.text in rude[6].value for block in blocks)


def test_no_cell_holding_chat_text_is_a_formula_error_or_hyperlink(tmp_path):
    rubric = load_rubric("default")
    evil = ['=HYPERLINK("http://x","click")', "+1+2", "-3", "@SUM(A1)", "#N/A", "=1+1", "#DIV/0!",
            "http://example.com/a", "\t=cmd"]
    specs = [("buyer", f"10:00:{i:02d}", text) for i, text in enumerate(evil)]
    specs.append(("agent", "10:01:00", "=2+2 加我微信 abc123", "=agent"))
    auditor = Auditor(rubric)
    result = auditor.audit(conversation(*specs, conversation_id="=C1"))
    report = make_report(auditor, results=[result], inputs=[])
    path = tmp_path / "evil.xlsx"
    write_xlsx(report, path)
    book = load_workbook(path)
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert not any(cell.data_type in ("f", "e") for cell in cells)
    texts = {cell.value for cell in cells}
    assert {"=1+1", "#N/A", "#DIV/0!", "+1+2"} <= texts
    linked = [cell for cell in cells if cell.hyperlink]
    assert linked and all(cell.value == "查看对话" for cell in linked)
    quoted = [cell for cell in cells if isinstance(cell.value, str) and cell.value.startswith("=")]
    assert quoted and all(cell.quotePrefix for cell in quoted)


def test_transcript_sheet_continues_on_a_numbered_sheet_past_the_row_limit(samples_report, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setattr(xlsx, "ROW_LIMIT", 50)
    path = tmp_path / "paged.xlsx"
    write_xlsx(samples_report, path, lang="en")
    book = load_workbook(path)
    pages = [name for name in book.sheetnames if name.startswith("Transcripts")]
    assert pages[:3] == ["Transcripts", "Transcripts 2", "Transcripts 3"]
    messages = 0
    for name in pages:
        sheet = book[name]
        assert sheet.max_row <= 50
        assert _rows(sheet)[0][0] == "Conversation"
        messages += sum(1 for row in _rows(sheet)[1:] if isinstance(row[1], int))
    assert messages == sum(len(r.messages) for r in samples_report.results)
    assert "Findings 2" in book.sheetnames
    # links still land on their conversation's heading, wherever it went
    conversations = book["Conversations"]
    link_column = _column(conversations, "Transcript")
    for row in conversations.iter_rows(min_row=2):
        sheet_name, cell = row[link_column - 1].hyperlink.location.rsplit("!", 1)
        assert book[sheet_name.strip("'")][cell].value.startswith(f"{row[0].value} · ")


def test_display_width_counts_wide_characters_twice():
    assert display_width("abc") == 3
    assert display_width("客服") == 4
    assert display_width("ＡＢ1") == 5


def test_an_unreadable_file_is_listed_with_its_error(tmp_path):
    auditor = Auditor(load_rubric("default"))
    broken = InputSummary("x.csv", "csv", None, 0, 0, 0, error="cannot decode")
    path = tmp_path / "p.xlsx"
    write_xlsx(make_report(auditor, results=[], inputs=[broken]), path, lang="en")
    book = load_workbook(path)
    assert ("x.csv", None, "cannot decode") in _rows(book["Input problems"])


_AUDITOR = None


def _auditor():
    global _AUDITOR
    if _AUDITOR is None:
        _AUDITOR = Auditor(load_rubric("default"))
    return _AUDITOR


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=120))
def test_any_chat_text_reloads_from_the_transcript_equal_to_its_cleaned_form(tmp_path, text):
    auditor = _auditor()
    result = auditor.audit(conversation(("buyer", "10:00:00", text), ("agent", "10:00:30", "您好")))
    report = make_report(auditor, show=lambda shown: shown, results=[result], inputs=[])
    path = tmp_path / "h.xlsx"
    write_xlsx(report, path, lang="en")
    sheet = load_workbook(path)["Transcripts"]
    cell = sheet["F3"]
    assert sheet["B3"].value == 0
    # openpyxl reads an empty string back as an empty cell.
    assert (cell.value or "") == clean_text(text)
    assert cell.data_type == "s" or cell.value is None
    assert not XML_ILLEGAL.search(cell.value or "")


def test_text_columns_are_wide_enough_for_their_longest_chinese_text(tmp_path):
    from openpyxl import load_workbook

    from cs_audit.reporters.xlsx_cells import display_width
    from conftest import SAMPLES
    from click.testing import CliRunner
    from cs_audit.cli import main
    out = tmp_path / "r.xlsx"
    assert CliRunner().invoke(main, ["audit", str(SAMPLES), "-o", str(out), "-q", "--format", "none",
                                     "--lang", "en"]).exit_code == 0
    sheet = load_workbook(out)["Conversations"]
    sources = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True) if row[1]]
    assert sheet.column_dimensions["B"].width >= max(display_width(s) for s in sources)


def _unsafe_chat_report():
    """Chat text that must not reach Excel as it is: formula and error starts, an XML-illegal
    character, text longer than a cell holds; in the conversation id, an agent name (which shows on
    the Summary, Agents, Conversations and Findings sheets), buyer senders and message texts."""
    auditor = _auditor()
    result = auditor.audit(conversation(
        ("buyer", "10:00:00", "=1+1", "#N/A"),
        ("agent", "10:00:20", "#DIV/0! 加我微信 abc123", "=agent"),
        ("buyer", "10:00:40", "bad\x01char 垃圾", "+buyer\x02"),
        ("agent", "10:01:00", "长" * (EXCEL_CELL_LIMIT + 5), "=agent"),
        ("buyer", "10:01:30", "@SUM(A1)", "-x"),
        ("buyer", "10:01:40", "好的", "买家\x03"),
        ("buyer", "10:01:50", "在吗", "买" * (EXCEL_CELL_LIMIT + 1)),
        conversation_id="#N/A"))
    return make_report(auditor, show=lambda shown: shown, results=[result], inputs=[])


def test_chat_text_that_is_not_plain_is_written_as_safe_text_in_every_sheet(tmp_path):
    path = tmp_path / "unsafe.xlsx"
    counts = write_xlsx(_unsafe_chat_report(), path, lang="en")
    assert counts.cut_texts >= 2 and counts.replaced_characters >= 3
    book = load_workbook(path)
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert not any(cell.data_type in ("f", "e") for cell in cells)
    texts = [cell for cell in cells if isinstance(cell.value, str)]
    assert not any(XML_ILLEGAL.search(cell.value) or len(cell.value) > EXCEL_CELL_LIMIT for cell in texts)
    assert all(cell.quotePrefix for cell in texts if cell.value.startswith(("=", "+", "-", "@")))
    for title in ("Summary", "Agents", "Conversations", "Findings", "Transcripts"):
        values = {cell.value for row in book[title].iter_rows() for cell in row}
        assert values & {"=agent", "#N/A"}, title
    transcript = _rows(book["Transcripts"])
    senders = [row[4] for row in transcript[2:9]]
    assert senders[:6] == ["#N/A", "=agent", "+buyer\ufffd", "=agent", "-x", "买家\ufffd"]
    assert len(senders[6]) == EXCEL_CELL_LIMIT and senders[6].endswith(CUT_MARKER)
    assert [row[5] for row in transcript[2:4]] == ["=1+1", "#DIV/0! 加我微信 abc123"]
    assert transcript[4][5].startswith("bad\ufffdchar")
    assert len(transcript[5][5]) == EXCEL_CELL_LIMIT and transcript[5][5].endswith(CUT_MARKER)
    assert {row[0] for row in transcript[2:9]} == {"#N/A"}



@pytest.mark.parametrize("which", ["samples", "unsafe"])
def test_text_appended_as_a_bare_str_writes_what_the_safe_text_cell_writes(samples_report, tmp_path,
                                                                           monkeypatch, which):
    report = samples_report if which == "samples" else _unsafe_chat_report()
    fast, safe = tmp_path / "fast.xlsx", tmp_path / "safe.xlsx"
    fast_counts = write_xlsx(report, fast, lang="en")
    monkeypatch.setattr(xlsx_cells, "is_plain_text", lambda text: False)
    safe_counts = write_xlsx(report, safe, lang="en")
    assert sheet_parts(fast) == sheet_parts(safe)
    assert fast_counts == safe_counts


def _rgb(color):
    return color.rgb if color is not None else None


def test_cells_read_back_with_the_styles_they_were_given(workbook):
    lang, _, book = workbook
    sheets, words, _ = labels_for(lang)

    def looks_like(cell, font=None, fill=None):
        if font is None:
            assert cell.font == DEFAULT_FONT, cell.coordinate
        else:
            assert (cell.font.b, cell.font.sz, _rgb(cell.font.color), cell.font.u) == \
                (font.b, font.sz, _rgb(font.color), font.u), cell.coordinate
        assert cell.fill.patternType == (fill.patternType if fill else None), cell.coordinate
        if fill:
            assert cell.fill.fgColor.rgb == fill.fgColor.rgb, cell.coordinate

    summary = _rows(book[sheets["summary"]])
    title = book[sheets["summary"]]["A1"]
    looks_like(title, xlsx.TITLE_FONT)
    kpi_heading = next(number for number, row in enumerate(summary, start=1) if row[0] == words["kpi"])
    met_fills = set()
    for row in book[sheets["summary"]].iter_rows(min_row=kpi_heading + 1):
        if not row[0].value:
            break
        looks_like(row[0])
        met = {words["yes"]: xlsx.GOOD_FILL, words["no"]: xlsx.BAD_FILL}.get(row[3].value)
        looks_like(row[1], None, met)
        looks_like(row[3], None, met)
        met_fills.add(row[3].value)
    assert {words["yes"], words["no"]} <= met_fills
    for key in ("agents", "conversations", "findings", "transcripts"):
        for cell in next(book[sheets[key]].iter_rows(max_row=1)):
            looks_like(cell, xlsx.HEADER_FONT, xlsx.HEADER_FILL)

    transcript = list(book[sheets["transcripts"]].iter_rows(min_row=2))
    headings = [row for row in transcript if row[0].value and row[1].value is None]
    messages = [row for row in transcript if isinstance(row[1].value, int)]
    assert headings and messages
    for row in headings:
        looks_like(row[0], xlsx.HEADING_FONT, xlsx.HEADING_FILL)
        for cell in row[1:]:
            looks_like(cell, None, xlsx.HEADING_FILL)
    for row in messages:
        for cell in row:
            looks_like(cell)
        assert [cell.alignment.wrap_text for cell in row] == [None] * 5 + [True, True]
        assert row[5].alignment.vertical == "top"
        assert row[2].number_format == (xlsx.DATETIME if row[2].value else "General")
        assert row[2].is_date or row[2].value is None
        assert row[0].number_format == "General"
    assert any(row[2].value for row in messages)

    conversations = book[sheets["conversations"]]
    link_column = _column(conversations, words["transcript"])
    critical_column = _column(conversations, words["critical"])
    for row in conversations.iter_rows(min_row=2):
        looks_like(row[link_column - 1], xlsx.LINK_FONT)
        critical = row[critical_column - 1]
        looks_like(critical, xlsx.CRITICAL_FONT if critical.value else None)
        looks_like(row[0])
    findings = list(book[sheets["findings"]].iter_rows(min_row=2))
    assert any(row[0].value == "critical" for row in findings)
    for row in findings:
        looks_like(row[0], xlsx.CRITICAL_FONT if row[0].value == "critical" else None)
        # evidence (when the finding points at a message) and finding wrap; the suggestion does not
        assert row[7].alignment.wrap_text == (True if row[4].value is not None else None)
        assert row[8].alignment.wrap_text and not row[9].alignment.wrap_text


def test_marked_text_writes_the_xml_openpyxl_writes_for_rich_text():
    red, green = InlineFont(b=True, color="C00000", u="single"), InlineFont(b=True, color="008000")
    parts = [" 亲 ", TextBlock(red, "加微信"), "abc", TextBlock(green, " 谢谢 "), TextBlock(red, "x")]
    assert tostring(MarkedText(parts).to_tree()) == tostring(CellRichText(parts).to_tree())
    # the font's serialised form is shared, not moved from one run to the next
    assert tostring(MarkedText(parts).to_tree()) == tostring(CellRichText(copy(parts)).to_tree())


_FONTS = (InlineFont(b=True), InlineFont(i=True), InlineFont(u="single"))


_MARKS = st.lists(st.tuples(st.integers(-3, 35), st.integers(-3, 35), st.sampled_from(_FONTS)), max_size=5)


@given(length=st.integers(0, 30), marks=_MARKS)
def test_marked_runs_give_each_character_the_first_mark_covering_it(length, marks):
    expected = [next((font for start, end, font in marks if start <= position < end), None)
                for position in range(length)]
    runs = marked_runs(length, marks)
    assert [font for start, end, font in runs for _ in range(start, end)] == expected
    assert all(start < end for start, end, _ in runs)
    assert all(before[1] == after[0] and before[2] is not after[2] for before, after in zip(runs, runs[1:]))


def _raw_and_openpyxl_parts(report, tmp_path, lang="en"):
    raw, plain = tmp_path / "raw.xlsx", tmp_path / "plain.xlsx"
    raw_counts = write_xlsx(report, raw, lang=lang)
    plain_counts = write_xlsx(report, plain, lang=lang, raw_rows=False)
    assert raw_counts == plain_counts
    return as_characters(sheet_parts(raw)), as_characters(sheet_parts(plain))


@pytest.mark.parametrize("which", ["samples-zh", "samples-en", "unsafe", "paged"])
def test_rows_written_raw_are_byte_identical_to_openpyxl(samples_report, tmp_path,
                                                                   monkeypatch, which):
    if which == "paged":
        monkeypatch.setattr(xlsx, "ROW_LIMIT", 20)  # several conversation, finding, transcript pages
    report = _unsafe_chat_report() if which == "unsafe" else samples_report
    raw, plain = _raw_and_openpyxl_parts(report, tmp_path, "zh" if which == "samples-zh" else "en")
    assert raw == plain
    assert any(b"<row r=\"3\">" in part for name, part in raw.items() if "worksheets" in name)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=60), sender=st.text(max_size=12))
def test_any_text_written_raw_is_byte_identical_to_openpyxl(tmp_path, text, sender):
    auditor = _auditor()
    result = auditor.audit(conversation(("buyer", "10:00:00", text, sender),
                                        ("agent", "10:00:30", f"您好{text}&<>\r\n", sender)))
    report = make_report(auditor, show=lambda shown: shown, results=[result], inputs=[])
    raw, plain = _raw_and_openpyxl_parts(report, tmp_path)
    assert raw == plain


def test_rows_made_in_a_run_are_those_written_from_the_report(samples_report, tmp_path):
    renderer = xlsx.RowRenderer("en", samples_report.rubric, samples_report.show)
    rows = xlsx.WorkbookRows(renderer)
    for result in samples_report.results:
        rows.add(renderer(result))
    given, own = tmp_path / "given.xlsx", tmp_path / "own.xlsx"
    try:
        assert write_xlsx(samples_report, given, lang="en", rows=rows) == write_xlsx(samples_report, own, lang="en")
    finally:
        rows.close()
    assert sheet_parts(given) == sheet_parts(own)


def test_rows_made_for_another_language_are_refused(samples_report, tmp_path):
    rows = xlsx.WorkbookRows(xlsx.RowRenderer("zh", samples_report.rubric, samples_report.show))
    try:
        with pytest.raises(ValueError, match="another kind of workbook"):
            write_xlsx(samples_report, tmp_path / "r.xlsx", lang="en", rows=rows)
    finally:
        rows.close()


def test_a_row_made_before_its_place_is_known_is_numbered_where_it_lands():
    from cs_audit.reporters.xlsx_rows import ROW, RowSpool

    made = f'<row r="{ROW}"><c r="A{ROW}" t="n"><v>1</v></c></row>'
    spool = RowSpool()
    spool.add(12, made)
    spool.link("U12", "'对话 Transcripts'!A5")

    rows = spool.finish()
    written = zlib.decompressobj(-zlib.MAX_WBITS).decompress(b"".join(rows.compressed()))
    spool.close()
    assert written == b'<row r="12"><c r="A12" t="n"><v>1</v></c></row>'
    assert (rows.crc, rows.length) == (zlib.crc32(written), len(written))
    assert spool.hyperlinks() == ('<hyperlinks><hyperlink ref="U12" location="\'对话 '
                                  'Transcripts\'!A5"/></hyperlinks>').encode("utf-8")


@given(st.one_of(st.integers(), st.floats(), st.integers(-2 ** 60, 2 ** 60)))
def test_numbers_are_written_as_openpyxl_writes_them(value):
    from openpyxl.compat import safe_string

    from cs_audit.reporters.xlsx_rows import _number

    assert _number(value) == safe_string(value)


def test_a_workbook_that_cannot_be_saved_leaves_no_sheet_half_written(samples_report, tmp_path, monkeypatch):
    import gc
    import sys

    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with pytest.raises(OSError):
        write_xlsx(samples_report, tmp_path / "missing" / "r.xlsx")
    gc.collect()
    assert unraisable == []


def test_repeated_texts_are_written_and_counted_each_time_as_openpyxl_would(tmp_path):
    auditor = _auditor()
    canned = "=亲\x01在的"  # starts like a formula and holds a character XML cannot
    result = auditor.audit(conversation(*[(role, f"10:00:{second:02d}", text, "店小二\x02")
                                          for second, (role, text) in enumerate(
                                              [("buyer", "在吗"), ("agent", canned), ("buyer", canned),
                                               ("agent", canned), ("agent", "您好，加我微信")])]))
    report = make_report(auditor, show=lambda shown: shown, results=[result], inputs=[])
    raw, plain = _raw_and_openpyxl_parts(report, tmp_path)
    assert raw == plain
    counts = write_xlsx(report, tmp_path / "again.xlsx", lang="en")
    assert counts.replaced_characters >= 3 + 5  # the canned text thrice, the sender on every row


def _row_maker():
    from openpyxl import Workbook

    from cs_audit.reporters.xlsx_rows import RowMaker, StyleIds

    workbook = Workbook(write_only=True)
    return RowMaker(StyleIds(workbook, xlsx.ROW_LOOKS), xlsx_cells.CellCleaning(), workbook.epoch)


_CELL_VALUES = st.one_of(
    st.integers(-1500, 1500), st.booleans(), st.floats(-2, 2, allow_nan=False), st.text(max_size=3),
    st.sampled_from(["", "1", "True"]),
    st.builds(lambda inner, look: xlsx.Styled(inner, look),
              st.one_of(st.none(), st.text(max_size=3), st.integers(0, 2), st.booleans()),
              st.sampled_from(xlsx.ROW_LOOKS)))


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.lists(_CELL_VALUES, min_size=1, max_size=3), max_size=12))
def test_a_cell_remembered_down_a_column_is_the_cell_made_afresh(rows):
    # Equal values of different types (1, True, 1.0; Styled(1) and Styled(True)) must not share
    # what the row maker remembers of a column.
    remembering = _row_maker()
    for values in rows:
        assert remembering.row(values) == _row_maker().row(values)


@given(moment=st.datetimes(min_value=datetime(1800, 1, 1), max_value=datetime(9999, 12, 31)),
       mac_epoch=st.booleans())
def test_times_become_the_serial_numbers_openpyxl_gives_them(moment, mac_epoch):
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, to_excel

    from cs_audit.reporters.xlsx_rows import RowMaker

    epoch = CALENDAR_MAC_1904 if mac_epoch else CALENDAR_WINDOWS_1900
    maker = RowMaker(None, xlsx_cells.CellCleaning(), epoch)
    assert repr(maker._serial(moment)) == repr(to_excel(moment, epoch))


def test_the_workbook_gets_the_permissions_of_any_new_file(samples_report, tmp_path):
    import os
    import stat

    previous = os.umask(0o022)
    try:
        write_xlsx(samples_report, tmp_path / "r.xlsx")
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(previous)
    mode = stat.S_IMODE((tmp_path / "r.xlsx").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == 0o644
