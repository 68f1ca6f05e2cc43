"""The Excel workbook: sheets and headers in both languages, formats, charts, transcript links,
chat text that stays text, and sheets that continue past Excel's row limit."""

from __future__ import annotations

import re
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from cs_audit.audit import Auditor
from cs_audit.model import InputSummary
from cs_audit.reporters import xlsx
from cs_audit.reporters.xlsx import write_xlsx
from cs_audit.reporters.xlsx_cells import XML_ILLEGAL, clean_text, display_width
from cs_audit.reporters.xlsx_labels import LABELS, SHEETS, labels_for
from cs_audit.rubric import load_rubric
from conftest import CANONICAL_SAMPLES, conversation, make_report

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
