"""Input formats: a registry from format names to parsers, folder walking and format sniffing.

``stream_file`` reads one file as a stream of conversations (the canonical CSV and JSONL are
read as they go, the other formats whole); ``parse_file`` is the same as a list.
"""

from __future__ import annotations

import gc
import os
import re
import stat
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cs_audit.model import Conversation, InputProblem, InputSummary
from cs_audit.parsers.canonical_csv import FileUnreadable, stream_csv
from cs_audit.parsers.canonical_jsonl import stream_jsonl
from cs_audit.parsers.canonical_xlsx import parse_xlsx
from cs_audit.parsers.columns import ColumnMap
from cs_audit.parsers.helpdesk import parse_helpdesk, sniff_helpdesk
from cs_audit.parsers.jd import parse_jd_tsv, sniff_jd_tsv
from cs_audit.parsers.pdd import parse_pdd_json, parse_pdd_xlsx, sniff_pdd_json, sniff_pdd_xlsx
from cs_audit.parsers.qianniu import parse_qianniu, sniff_qianniu
from cs_audit.parsers.records import ConversationBuilder
from cs_audit.parsers.text import EncodingProblem, open_input
from cs_audit.parsers.wechat import parse_wechat, sniff_wechat

# A whole-file parser adds every record of a file to the builder and returns the encoding used;
# a streaming parser yields each conversation once complete and returns the encoding.
ParseFunction = Callable[[Path, ConversationBuilder, str], "str | None"]
StreamFunction = Callable[[Path, ConversationBuilder, str], Generator[Conversation, None, "str | None"]]
SNIFF_BYTES = 65_536
_FREEZE_EVERY = 1024  # conversations kept by parse_file between two gc.freeze()


def whole_file(parse: ParseFunction) -> StreamFunction:
    """A whole-file parser as a stream: the file is read, then its conversations handed out."""
    def stream(path: Path, builder: ConversationBuilder,
               encoding: str) -> Generator[Conversation, None, str | None]:
        used = parse(path, builder, encoding)
        yield from builder.drain()
        return used

    stream.__name__ = stream.__qualname__ = f"stream_{parse.__name__.removeprefix('parse_')}"
    stream.__doc__ = parse.__doc__
    return stream


@dataclass(frozen=True)
class InputFormat:
    """One input format: its parser, a content test for ``--input-format auto``, its extensions.

    ``stream`` is a StreamFunction (``whole_file(parse)`` for the formats read whole). ``sniff``
    gets the first ``SNIFF_BYTES`` bytes of a file and its path and says whether the content is
    this format; formats are tried in ``FORMATS`` order, most specific first, so the generic
    canonical formats come last.
    """

    name: str
    stream: StreamFunction
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
    InputFormat("pdd-json", whole_file(parse_pdd_json), sniff_pdd_json, (".json",),
                "拼多多 JSON chat records (message_infos with msg_ts/from_type/text)"),
    InputFormat("pdd-xlsx", whole_file(parse_pdd_xlsx), sniff_pdd_xlsx, (),
                "拼多多 back-end chat export workbook (会话ID/买家ID, 发送方, 消息时间, 消息内容)"),
    InputFormat("jd-tsv", whole_file(parse_jd_tsv), sniff_jd_tsv, (".tsv",),
                "京东 咚咚 JDDC-style TSV, no header, no timestamps"),
    InputFormat("qianniu", whole_file(parse_qianniu), sniff_qianniu, (".txt",),
                "千牛/旺旺 chat-record text: `nickname YYYY-MM-DD HH:MM:SS` headers, content lines"),
    InputFormat("wechat", whole_file(parse_wechat), sniff_wechat, (".csv", ".txt"),
                "WeChat export (企业微信): 留痕 CSV (localId,TalkerId,…) or TXT `time nickname` blocks"),
    InputFormat("helpdesk", whole_file(parse_helpdesk), sniff_helpdesk, (".json",),
                "Zendesk ticket comments or Intercom conversations (JSON)"),
    InputFormat("xlsx", whole_file(parse_xlsx), _is_zip, (".xlsx",), "canonical XLSX (first sheet)"),
    InputFormat("jsonl", stream_jsonl, _starts_with_object, (".jsonl", ".ndjson"),
                "canonical JSONL, one object a line"),
    InputFormat("csv", stream_csv, _has_comma, (".csv",), "canonical CSV with a header row"),
)
PARSERS: dict[str, StreamFunction] = {fmt.name: fmt.stream for fmt in FORMATS}
EXTENSIONS = {extension: fmt.name for fmt in FORMATS for extension in fmt.extensions}
INPUT_FORMATS = ("auto", *PARSERS)
# The formats whose columns and role values --map renames; the platform layouts are fixed.
MAPPED_FORMATS = ("csv", "jsonl", "xlsx")


@dataclass(frozen=True)
class ParsedFile:
    """One input file: what it yielded and its conversations."""

    summary: InputSummary
    conversations: list[Conversation]


class SummaryNotReady(RuntimeError):
    """A StreamedFile's summary was asked for before its conversations were all read."""


@dataclass
class StreamedFile:
    """One input file read as a stream of conversations (see ``stream_file``).

    ``conversations`` is an iterator, consumed once, of the file's conversations in order of
    first appearance. ``summary`` (rows, messages, problems, encoding…) is complete only once
    that iterator is exhausted; asking for it earlier raises :class:`SummaryNotReady` rather
    than reading the rest of the file behind the caller's back.
    """

    path: Path
    format: str
    conversations: Iterator[Conversation] = field(init=False, repr=False)
    _summary: InputSummary | None = field(default=None, init=False, repr=False)

    @property
    def summary(self) -> InputSummary:
        if self._summary is None:
            raise SummaryNotReady(f"{self.path}: the summary is complete only after every "
                                  "conversation has been read; exhaust .conversations first")
        return self._summary


def collect_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Expand folders (recursively, sorted) into the supported files inside; keep files as given.

    A named file is always returned, whatever its extension, so an unsupported one is reported
    rather than silently skipped. cs-audit's own reports found in a folder are left out (see
    ``collect_inputs``). Raises FileNotFoundError for a path that does not exist.
    """
    return collect_inputs(paths)[0]


def collect_inputs(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """(files to read, cs-audit reports found in the folders and left out).

    A report written into the audited folder (``audit exports/ -o exports/report.json``) is not
    a chat export: reading it back on the next run would only add input problems.
    """
    found: list[Path] = []
    reports: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for candidate in sorted(_folder_entries(path)):
                (reports if is_cs_audit_report(candidate) else found).append(candidate)
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return found, reports


def _folder_entries(folder: Path) -> Iterator[Path]:
    """The supported files under ``folder``, and every subfolder that cannot be walked.

    A subfolder that cannot be listed, or a symbolic link to a folder (not followed: links can
    loop), is returned as it is, so that reading it reports why instead of skipping it in silence.
    """
    unreadable: list[Path] = []
    for root, folders, files in os.walk(folder, onerror=lambda error: unreadable.append(Path(error.filename))):
        here = Path(root)
        yield from (here / name for name in folders if (here / name).is_symlink())
        for name in files:
            candidate = here / name
            if candidate.suffix.lower() in EXTENSIONS and not name.startswith(("~$", ".")) \
                    and (candidate.is_file() or not candidate.exists()):
                yield candidate
    yield from unreadable


# What a report of cs-audit starts with: the JSON report's schema, a JSONL report's first entry
# (an audited conversation: grade and checks, no chat columns), the workbook's creator.
_REPORT_HEAD_BYTES = 4096


def is_cs_audit_report(path: Path) -> bool:
    """Whether ``path`` is a report cs-audit wrote (JSON, JSONL or workbook), by its content."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            with zipfile.ZipFile(path) as archive:
                core = archive.read("docProps/core.xml")[:_REPORT_HEAD_BYTES]
            return re.search(rb"<dc:creator[^>]*>cs-audit</dc:creator>", core) is not None
        if suffix in (".json", ".jsonl", ".ndjson"):
            with path.open("rb") as handle:
                head = handle.read(_REPORT_HEAD_BYTES)
            if b'"schema": "cs-audit/' in head or b'"schema":"cs-audit/' in head:
                return True
            first = head.split(b"\n", 1)[0]
            return (first.startswith(b'{"id":') and b'"grade":' in first and b'"checks":' in first)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return False
    return False


def sniff_format(path: Path) -> str | None:
    """The format of a file from its content (formats tried in order), else from its extension."""
    with open_input(path) as handle:
        head = handle.read(SNIFF_BYTES)
    for fmt in FORMATS:
        if fmt.sniff(head, path):
            return fmt.name
    return EXTENSIONS.get(path.suffix.lower())


def stream_file(path: Path, input_format: str = "auto", encoding: str = "auto",
                column_map: ColumnMap | None = None, shown_as: str | None = None) -> StreamedFile:
    """Read one file as a stream of conversations, each handed out once complete.

    The format is decided now (sniffed for ``"auto"``); reading starts with the first
    conversation asked for. The canonical CSV and JSONL are read as they go: a file grouped by
    conversation holds one conversation at a time. A file that cannot be read at all yields no
    conversation and a summary with ``error``. ``column_map`` (``--map``) names other columns
    and role values for the tabular formats. ``shown_as`` names the input in conversations and
    the summary instead of ``path`` (standard input, copied to a temporary file first).
    """
    refused = _not_a_file(path)
    if refused is None and _is_pipe(path):
        return _stream_pipe(path, input_format, encoding, column_map, shown_as or str(path))
    if refused is None:
        try:
            chosen = sniff_format(path) if input_format == "auto" else input_format
        except OSError as error:
            refused = f"cannot read file: {error.strerror or error}"
    if refused is not None:
        streamed = StreamedFile(path, input_format if input_format != "auto" else "unknown")
        streamed._summary = _unreadable(shown_as or path, streamed.format, 0, refused)
        streamed.conversations = iter(())
        return streamed
    streamed = StreamedFile(path, chosen or "unknown")
    streamed.conversations = _read(streamed, chosen, encoding, column_map, shown_as or str(path))
    return streamed


def _is_pipe(path: Path) -> bool:
    try:
        return stat.S_ISFIFO(path.stat().st_mode)
    except OSError:
        return False


def _stream_pipe(path: Path, input_format: str, encoding: str, column_map: ColumnMap | None,
                 shown: str) -> StreamedFile:
    """A named pipe (``<(zcat export.csv.gz)``), copied to a private temporary file first.

    Sniffing the format, checking the encoding and parsing each read the file from its start,
    which a pipe gives only once: the copy (bounded as any file read whole) is read instead and
    removed once its conversations have been read.
    """
    from cs_audit.parsers.stdin import StdinTooLarge, copy_stdin, temporary_folder

    folder, remove = temporary_folder()
    try:
        with open_input(path) as source:
            copy = copy_stdin(source, folder, path.name or "pipe")
    except (OSError, StdinTooLarge) as error:
        remove()
        reason = str(error) if isinstance(error, StdinTooLarge) else \
            f"cannot read file: {error.strerror or error}"
        streamed = StreamedFile(path, input_format if input_format != "auto" else "unknown")
        streamed._summary = _unreadable(shown, streamed.format, 0, reason)
        streamed.conversations = iter(())
        return streamed
    inner = stream_file(copy, input_format, encoding, column_map, shown_as=shown)
    streamed = StreamedFile(path, inner.format)

    def conversations() -> Iterator[Conversation]:
        try:
            yield from inner.conversations
            streamed._summary = inner.summary
        finally:
            remove()

    streamed.conversations = conversations()
    return streamed


def _not_a_file(path: Path) -> str | None:
    """Why ``path`` is no chat export to read (a folder, a device), or None.

    A pipe (``<(zcat export.csv.gz)``) is read; a device such as /dev/zero never ends.
    """
    try:
        mode = path.lstat().st_mode if path.is_symlink() and path.is_dir() else path.stat().st_mode
    except OSError as error:
        return f"cannot read: {error.strerror or error}"
    if stat.S_ISLNK(mode):
        return ("a symbolic link to a folder, not followed inside an audited folder (links can "
                "loop); name the folder itself to audit it")
    if stat.S_ISDIR(mode):
        try:
            os.listdir(path)
        except OSError as error:
            return f"cannot read folder: {error.strerror or error}"
        return "a folder: name it as an input to audit the files inside"
    if stat.S_ISREG(mode) or stat.S_ISFIFO(mode):
        return None
    return "not a regular file (a device or socket); save the export to a file"


def _read(streamed: StreamedFile, chosen: str | None, encoding: str,
          column_map: ColumnMap | None, shown: str) -> Iterator[Conversation]:
    path = streamed.path
    if chosen is None:
        streamed._summary = _unreadable(shown, "unknown", 1,
                                        "format not recognised; pass --input-format csv|jsonl|xlsx")
        return
    builder = ConversationBuilder(shown, column_map)
    stream = PARSERS[chosen](path, builder, encoding)
    used_encoding = None
    while True:
        try:
            conversation = next(stream)
        except StopIteration as done:
            used_encoding = done.value
            break
        except (FileUnreadable, EncodingProblem, OSError, UnicodeDecodeError) as error:
            line, reason = _failure(error)
            if not builder.handed_out:
                streamed._summary = _unreadable(shown, chosen, line, reason)
                return
            # Parsers raise before handing anything out; after that, only a file changed or
            # damaged while it was read gets here. What was handed out stands, and is counted.
            builder.problem(line, f"reading stopped: {reason}")
            break
        yield conversation
    streamed._summary = InputSummary(
        path=shown, format=chosen, encoding=used_encoding, rows=builder.rows,
        messages=builder.messages, conversations=builder.handed_out,
        problems=tuple(builder.problems),
    )


def _failure(error: Exception) -> tuple[int, str]:
    """The line and reason of an error that stops the reading of a file."""
    if isinstance(error, (FileUnreadable, EncodingProblem)):
        return error.line, error.reason
    if isinstance(error, OSError):
        return 0, f"cannot read file: {error.strerror or error}"
    return 0, f"the file changed while it was read ({error})"


def parse_file(path: Path, input_format: str = "auto", encoding: str = "auto",
               column_map: ColumnMap | None = None) -> ParsedFile:
    """Parse one file; a file that cannot be read at all yields a summary with ``error``.

    ``stream_file`` with every conversation in a list. ``column_map`` (``--map``) names other
    columns and role values for the tabular formats.
    """
    streamed = stream_file(path, input_format, encoding, column_map)
    conversations: list[Conversation] = []
    # The list grows by millions of objects on a big file, and each full collection would walk
    # all of them for nothing (they hold no cycles): freezing what is already kept spares that
    # (a sixth of a 1M-message parse). Unfrozen at the end, unless the caller froze objects
    # itself, in which case the collector is left as it was.
    freeze = gc.get_freeze_count() == 0
    try:
        for conversation in streamed.conversations:
            conversations.append(conversation)
            if freeze and not len(conversations) % _FREEZE_EVERY:
                gc.freeze()
    finally:
        if freeze:
            gc.unfreeze()
    return ParsedFile(streamed.summary, conversations)


def _unreadable(path: Path | str, fmt: str, line: int, reason: str) -> InputSummary:
    return InputSummary(path=str(path), format=fmt, encoding=None, rows=0, messages=0,
                        conversations=0, problems=(InputProblem(line, reason),), error=reason)


def parse_all(paths: Iterable[Path], input_format: str = "auto", encoding: str = "auto",
              column_map: ColumnMap | None = None) -> Iterator[ParsedFile]:
    """Parse files one after the other, in the order given."""
    for path in paths:
        yield parse_file(path, input_format, encoding, column_map)
