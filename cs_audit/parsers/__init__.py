"""Input formats: a registry from format names to parsers, folder walking and format sniffing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cs_audit.model import Conversation, InputProblem, InputSummary
from cs_audit.parsers.canonical_csv import FileUnreadable, parse_csv
from cs_audit.parsers.canonical_jsonl import parse_jsonl
from cs_audit.parsers.canonical_xlsx import parse_xlsx
from cs_audit.parsers.columns import ColumnMap
from cs_audit.parsers.helpdesk import parse_helpdesk, sniff_helpdesk
from cs_audit.parsers.jd import parse_jd_tsv, sniff_jd_tsv
from cs_audit.parsers.pdd import parse_pdd_json, parse_pdd_xlsx, sniff_pdd_json, sniff_pdd_xlsx
from cs_audit.parsers.qianniu import parse_qianniu, sniff_qianniu
from cs_audit.parsers.records import ConversationBuilder
from cs_audit.parsers.text import EncodingProblem
from cs_audit.parsers.wechat import parse_wechat, sniff_wechat

ParseFunction = Callable[[Path, ConversationBuilder, str], "str | None"]
SNIFF_BYTES = 65_536


@dataclass(frozen=True)
class InputFormat:
    """One input format: its parser, a content test for ``--input-format auto``, its extensions.

    ``sniff`` gets the first ``SNIFF_BYTES`` bytes of a file and its path and says whether the
    content is this format; formats are tried in ``FORMATS`` order, most specific first, so the
    generic canonical formats come last.
    """

    name: str
    parse: ParseFunction
    sniff: Callable[[bytes, Path], bool]
    extensions: tuple[str, ...]
    description: str


def _is_zip(head: bytes, path: Path) -> bool:
    return head.startswith(b"PK\x03\x04")


def _starts_with_object(head: bytes, path: Path) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def _has_comma(head: bytes, path: Path) -> bool:
    return b"," in head


# Specific formats first; the canonical ones are the fallbacks.
FORMATS: tuple[InputFormat, ...] = (
    InputFormat("pdd-json", parse_pdd_json, sniff_pdd_json, (".json",),
                "拼多多 JSON chat records (message_infos with msg_ts/from_type/text)"),
    InputFormat("pdd-xlsx", parse_pdd_xlsx, sniff_pdd_xlsx, (),
                "拼多多 back-end chat export workbook (会话ID/买家ID, 发送方, 消息时间, 消息内容)"),
    InputFormat("jd-tsv", parse_jd_tsv, sniff_jd_tsv, (".tsv",),
                "京东 咚咚 JDDC-style TSV, no header, no timestamps"),
    InputFormat("qianniu", parse_qianniu, sniff_qianniu, (".txt",),
                "千牛/旺旺 chat-record text: `nickname YYYY-MM-DD HH:MM:SS` headers, content lines"),
    InputFormat("wechat", parse_wechat, sniff_wechat, (".csv", ".txt"),
                "WeChat export (企业微信): 留痕 CSV (localId,TalkerId,…) or TXT `time nickname` blocks"),
    InputFormat("helpdesk", parse_helpdesk, sniff_helpdesk, (".json",),
                "Zendesk ticket comments or Intercom conversations (JSON)"),
    InputFormat("xlsx", parse_xlsx, _is_zip, (".xlsx",), "canonical XLSX (first sheet)"),
    InputFormat("jsonl", parse_jsonl, _starts_with_object, (".jsonl", ".ndjson"),
                "canonical JSONL, one object a line"),
    InputFormat("csv", parse_csv, _has_comma, (".csv",), "canonical CSV with a header row"),
)
PARSERS: dict[str, ParseFunction] = {fmt.name: fmt.parse for fmt in FORMATS}
EXTENSIONS = {extension: fmt.name for fmt in FORMATS for extension in fmt.extensions}
INPUT_FORMATS = ("auto", *PARSERS)


@dataclass(frozen=True)
class ParsedFile:
    """One input file: what it yielded and its conversations."""

    summary: InputSummary
    conversations: list[Conversation]


def collect_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Expand folders (recursively, sorted) into the supported files inside; keep files as given.

    A named file is always returned, whatever its extension, so an unsupported one is reported
    rather than silently skipped. Raises FileNotFoundError for a path that does not exist.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(
                candidate for candidate in path.rglob("*")
                if candidate.is_file() and candidate.suffix.lower() in EXTENSIONS
                and not candidate.name.startswith(("~$", "."))
            ))
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return found


def sniff_format(path: Path) -> str | None:
    """The format of a file from its content (formats tried in order), else from its extension."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    for fmt in FORMATS:
        if fmt.sniff(head, path):
            return fmt.name
    return EXTENSIONS.get(path.suffix.lower())


def parse_file(path: Path, input_format: str = "auto", encoding: str = "auto",
               column_map: ColumnMap | None = None) -> ParsedFile:
    """Parse one file; a file that cannot be read at all yields a summary with ``error``.

    ``column_map`` (``--map``) names other columns and role values for the tabular formats.
    """
    builder = ConversationBuilder(str(path), column_map)
    chosen = sniff_format(path) if input_format == "auto" else input_format
    if chosen is None:
        return _unreadable(path, "unknown", None, 1,
                           "format not recognised; pass --input-format csv|jsonl|xlsx")
    try:
        used_encoding = PARSERS[chosen](path, builder, encoding)
    except (FileUnreadable, EncodingProblem) as error:
        return _unreadable(path, chosen, None, error.line, error.reason)
    except OSError as error:
        return _unreadable(path, chosen, None, 0, f"cannot read file: {error.strerror or error}")
    conversations = builder.conversations()
    summary = InputSummary(
        path=str(path), format=chosen, encoding=used_encoding, rows=builder.rows,
        messages=builder.messages, conversations=len(conversations),
        problems=tuple(builder.problems),
    )
    return ParsedFile(summary, conversations)


def _unreadable(path: Path, fmt: str, encoding: str | None, line: int, reason: str) -> ParsedFile:
    summary = InputSummary(path=str(path), format=fmt, encoding=encoding, rows=0, messages=0,
                           conversations=0, problems=(InputProblem(line, reason),), error=reason)
    return ParsedFile(summary, [])


def parse_all(paths: Iterable[Path], input_format: str = "auto", encoding: str = "auto",
              column_map: ColumnMap | None = None) -> Iterator[ParsedFile]:
    """Parse files one after the other, in the order given."""
    for path in paths:
        yield parse_file(path, input_format, encoding, column_map)
