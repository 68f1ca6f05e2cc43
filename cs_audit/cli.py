"""The ``cs-audit`` command line: options, progress, exit codes. No analysis happens here."""

from __future__ import annotations

import contextlib
import errno
import functools
import itertools
import json
import os
import re
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar
from pathlib import Path

import click

from cs_audit import __version__
from cs_audit.gate import GateRule
from cs_audit.lexicon import LexiconError, LexiconProblem
from cs_audit.model import Conversation, ConversationResult, InputSummary
from cs_audit.parsers import INPUT_FORMATS, MAPPED_FORMATS, collect_inputs, stream_file
from cs_audit.parsers.columns import ColumnMap, ColumnMapError, parse_map_option
from cs_audit.parsers.stdin import STDIN_ARGUMENT, STDIN_NAME
from cs_audit.parsers.text import EncodingProblem, check_encoding
from cs_audit.reporters import Report, masker, output_format
from cs_audit.reporters.atomic import atomic_target
from cs_audit.reporters.deflate import TemporarySpaceError
from cs_audit.reporters.spool import RecordSpool
from cs_audit.reporters.terminal import terminal_text, terminal_width, use_colour
from cs_audit.reporters.json_report import SCHEMA
from cs_audit.rubric import Rubric, RubricError, load_rubric

if TYPE_CHECKING:
    from cs_audit.audit import Auditor
    from cs_audit.reporters import Shown
    from cs_audit.reporters.deflate import DeflatedText
    from cs_audit.reporters.junit import JUnitCases
    from cs_audit.reporters.table import TableRows, TableView
    from cs_audit.reporters.xlsx import ConversationRows, RowRenderer, WorkbookRows

_Item = TypeVar("_Item")
EXIT_OK, EXIT_GATE, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what `git log | head` gives
FAIL_ON_CHOICES = ("critical", "major", "minor", "never")
STDOUT_FORMATS = ("table", "json", "github", "none")
FINDINGS_CHOICES = ("gate", "all")
MAX_WARNINGS = 20
EXPLAIN_EXAMPLES = 5
# Between the messages of an example conversation shown on one line (the table has a tab).
EXAMPLE_MESSAGE_SEPARATOR = "  │  "
# Below this many conversations a run is over before a bar would be useful.
PROGRESS_FROM = 200


class UserError(click.ClickException):
    """A mistake the user can fix (bad rubric, unreadable input): message, then exit 2."""

    exit_code = EXIT_USAGE


class LexiconUserError(UserError):
    """Bad lexicon files: each problem as ``path:line: message`` and the offending line, exit 2."""

    def __init__(self, error: LexiconError) -> None:
        super().__init__(str(error))
        self.problems = error.problems

    def show(self, file=None) -> None:
        for line in problem_lines(self.problems):
            click.echo(line, err=True)


def problem_lines(problems: Sequence[LexiconProblem]) -> Iterator[str]:
    """Each problem as ``path:line: message``, then the offending line as it stands in the file."""
    for problem in problems:
        yield f"{problem}"
        offending = problem.source_line()
        if offending is not None:
            yield f"    {offending.strip()}"


class CommandGroup(click.Group):
    """A click group whose commands report bad lexicon files as a user error, wherever the
    files are read (the rubric's folder, --lexicons, explain's example tables)."""

    def invoke(self, ctx: click.Context):
        # SIGTERM ends the run like Ctrl-C: through the finally blocks that remove a report's
        # temporary file, so yesterday's report stays whole.
        previous = signal.signal(signal.SIGTERM, _terminated)
        try:
            return super().invoke(ctx)
        except LexiconError as error:
            raise LexiconUserError(error) from None
        except TemporarySpaceError as error:
            # The results wait in TMPDIR until the totals are known; no report was touched yet.
            raise UserError(f"{error.strerror}: free space there, or set TMPDIR to a folder with "
                            "room; no report was written or replaced") from None
        except KeyboardInterrupt:
            click.echo("interrupted: no report was replaced", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            # `cs-audit audit … | head`: the reader has gone; end quietly, as a process killed by
            # SIGPIPE does, and keep Python from complaining while it flushes at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(EXIT_BROKEN_PIPE)
        finally:
            signal.signal(signal.SIGTERM, previous)


def _terminated(signum: int, _frame) -> None:
    raise SystemExit(128 + signum)


def _exit_with_problems(problems: Sequence[LexiconProblem], summary: str) -> None:
    """Each problem as ``path:line: message`` with its line, then ``summary``; exit status 2."""
    for line in problem_lines(problems):
        click.echo(line, err=True)
    click.echo(summary, err=True)
    sys.exit(EXIT_USAGE)


def lexicons_option(command: Callable) -> Callable:
    """--lexicons DIR: build the detectors from another lexicon folder."""
    return click.option(
        "--lexicons", "lexicon_dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
        metavar="DIR",
        help="Lexicon folder to detect with, instead of the rubric's `lexicons` or the bundled "
             "one (make one with `cs-audit lexicon copy DIR`).")(command)


class RubricUserError(UserError):
    """An invalid rubric: every problem as ``path:line: message``, then their count; exit 2."""

    def __init__(self, error: RubricError) -> None:
        super().__init__(str(error))
        self.problems = error.problems

    def show(self, file=None) -> None:
        for problem in self.problems:
            click.echo(terminal_text(str(problem)), err=True)
        click.echo(f"invalid rubric: {len(self.problems)} problem(s)", err=True)


def _load_rubric_or_fail(reference: str) -> Rubric:
    try:
        return load_rubric(reference)
    except RubricError as error:
        raise RubricUserError(error) from None
    except FileNotFoundError as error:
        raise UserError(str(error)) from None


def read_baseline(path: Path) -> frozenset[tuple[str, str]]:
    """The (conversation id, rule) pairs that failed in an earlier JSON report."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    # ValueError: also a number past Python's int-str limit; RecursionError: nesting.
    except (OSError, ValueError, RecursionError) as error:
        raise UserError(f"--baseline {path}: cannot read a JSON report: {error or type(error).__name__}") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise UserError(f"--baseline {path}: not a cs-audit JSON report (schema {SCHEMA})")
    conversations = document.get("conversations", [])
    if not isinstance(conversations, list):
        raise UserError(f"--baseline {path}: conversations must be a list; pass a report written "
                        "with -o report.json")
    failed = set()
    for number, conversation in enumerate(conversations):
        checks = conversation.get("checks", []) if isinstance(conversation, dict) else None
        if not isinstance(checks, list) or not all(isinstance(check, dict) for check in checks):
            raise UserError(f"--baseline {path}: conversations[{number}] is not an audited "
                            "conversation with a list of checks; pass a report written with -o report.json")
        failed.update((str(conversation.get("id")), str(check.get("rule")))
                      for check in checks if check.get("passed") is False)
    return frozenset(failed)


class Gate:
    """The exit-code gates (--fail-under, --fail-on), counted as results arrive.

    Failed checks already in ``baseline`` (same conversation id and rule) do not count for
    ``--fail-on``, so a daily check fails on new problems only.
    """

    def __init__(self, fail_under: float | None, fail_on: str,
                 baseline: frozenset[tuple[str, str]] = frozenset()) -> None:
        self.fail_under = fail_under
        self.fail_on = fail_on
        self.baseline = baseline
        # The same rule picks the failures the JUnit, GitHub and SARIF reports show.
        self.rule = GateRule(fail_under, fail_on, baseline)
        self._scores: float = 0
        self._conversations = 0
        self._failing = 0

    def add(self, result: ConversationResult) -> None:
        """Count one audited conversation."""
        self._scores += result.score
        self._conversations += 1
        self._failing += sum(1 for c in result.checks if self.rule.counted_by_fail_on(result, c))

    def verdict(self) -> tuple[int, list[str]]:
        """The exit code and the reasons a gate failed."""
        reasons = []
        if self.fail_under is not None and self._conversations:
            mean = self._scores / self._conversations
            if mean < self.fail_under:
                reasons.append(f"mean score {mean:.1f} is below --fail-under {self.fail_under:g}")
        if self._failing:
            known = " new" if self.baseline else ""
            reasons.append(f"{self._failing}{known} failed check(s) at or above '{self.fail_on}' (--fail-on)")
        return (EXIT_GATE if reasons else EXIT_OK), reasons


def gate_exit_code(results: Iterable[ConversationResult], fail_under: float | None,
                   fail_on: str, baseline: frozenset[tuple[str, str]] = frozenset()
                   ) -> tuple[int, list[str]]:
    """Decide the exit code from the results and the gates; return it with the reasons."""
    gate = Gate(fail_under, fail_on, baseline)
    for result in results:
        gate.add(result)
    return gate.verdict()


def _warn_problems(inputs: Sequence[InputSummary], show: Callable[[str], str]) -> None:
    shown = 0
    total = sum(len(summary.problems) for summary in inputs)
    for summary in inputs:
        for problem in summary.problems:
            if shown == MAX_WARNINGS:
                click.echo(f"warning: … and {total - shown} more input problem(s), listed in the "
                           "JSON and Excel reports", err=True)
                return
            where = f"{summary.path}:{problem.line}" if problem.line else summary.path
            click.echo(f"warning: {terminal_text(str(where))}: {terminal_text(show(problem.reason))}",
                       err=True)
            shown += 1


def _nothing_read(inputs: Sequence[InputSummary], show: Callable[[str], str]) -> str:
    """Why an audit found no conversation at all, and how to fix the usual cause."""
    rows = sum(summary.rows for summary in inputs)
    problems = [problem for summary in inputs for problem in summary.problems]
    message = f"no conversation could be read ({rows} row(s) in {len(inputs)} file(s))"
    if problems:
        message += f"; first problem: line {problems[0].line}: {terminal_text(show(problems[0].reason))}"
    unknown = [match.group(1) for problem in problems
               if (match := re.search(r"unknown role '([^']*)'", problem.reason))]
    if unknown:
        values = [terminal_text(value) for value in dict.fromkeys(unknown)]
        message += (f"; role values not recognised: {', '.join(values[:5])}: map each to buyer, agent, "
                    f"bot or system, e.g. --map role.buyer={values[0]}")
    return message


def _warn_unmapped(inputs: Sequence[InputSummary], column_map_spec: str | None) -> None:
    """Say which files were read in a platform layout, where --map does not apply."""
    if not column_map_spec:
        return
    for summary in inputs:
        if summary.readable and summary.format not in MAPPED_FORMATS:
            click.echo(f"warning: {summary.path}: read as {summary.format}, whose columns are fixed: "
                       f"--map applies only to {'/'.join(MAPPED_FORMATS)} files and was not used", err=True)


def _with_progress(results: Iterator[_Item], quiet: bool) -> Iterator[_Item]:
    if quiet or not _stderr_is_terminal():
        yield from results
        return
    # The inputs are still being read while the first results come in, so the total is not
    # known: the bar counts conversations, and only appears once a run is long enough.
    bar = None
    count = 0
    try:
        for result in results:
            count += 1
            if bar is None and count == PROGRESS_FROM:
                # click wants an iterable or a length; an endless one means "total unknown".
                bar = click.progressbar(itertools.repeat(None), label="auditing", file=sys.stderr,
                                        show_pos=True, item_show_func=_conversations_label)
                bar.__enter__()
                bar.update(PROGRESS_FROM - 1)
            if bar is not None:
                bar.update(1)
            yield result
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def _run(auditor: Auditor, stream: InputStream, outputs: Sequence[str], stdout_format: str,
         gate: Gate, quiet: bool, jobs: int, mask: bool, lang: str,
         table_view: TableView | None = None, all_findings: bool = False) -> list[InputSummary]:
    """Audit every conversation of ``stream`` and write the reports; returns the inputs read.

    The run is streamed: each result is counted (totals, gate), reduced to what the reports
    need of it, and dropped, so memory does not grow with the whole results. The workers encode
    each conversation's JSON entry and make its workbook rows while they audit it; these wait
    in temporary files until the run's totals are known. The parent keeps only small things:
    the table row or GitHub annotations printed at the end, the JUnit testcase.
    """
    from cs_audit.aggregate import TotalsBuilder
    from cs_audit.parallel import audit_and_apply
    from cs_audit.reporters import Shown
    from cs_audit.reporters.deflate import DeflatedText
    from cs_audit.reporters.json_report import entry_line, write_document

    rubric = auditor.rubric
    shown = Shown(masker(mask), rubric)
    table_view = table_view or _default_table_view()
    kept = _KeptForReports(stdout_format, outputs, shown, gate.rule, all_findings, table_view)
    wants_json = stdout_format == "json" or any(output_format(o) in ("json", "jsonl") for o in outputs)
    builder = TotalsBuilder(rubric.slow_after_s, tuple(grade for _, grade in rubric.grades))
    with contextlib.ExitStack() as stack:
        spool = None
        if wants_json:
            spool = DeflatedText()
            stack.callback(spool.close)
        if kept.junit_cases is not None:
            stack.callback(kept.junit_cases.close)
        for records in (kept.annotations, kept.sarif_results):
            if records is not None:
                stack.callback(records.close)
        workbook_rows = None
        if any(output_format(o) == "xlsx" for o in outputs):
            from cs_audit.reporters.xlsx import RowRenderer, WorkbookRows

            workbook_rows = WorkbookRows(RowRenderer(lang, rubric, shown.show))
            stack.callback(workbook_rows.close)
        made = _MadeInWorkers(functools.partial(entry_line, shown=shown) if wants_json else None,
                              workbook_rows.renderer if workbook_rows else None)
        for result, (line, rows) in _with_progress(
                audit_and_apply(auditor, stream.conversations(), made, jobs), quiet):
            if spool is not None:
                spool.write(line + "\n")
            if workbook_rows is not None:
                workbook_rows.add(rows)
            kept.add(result)
            builder.add(result)
            gate.add(result)
        stream.check_readable()
        inputs = stream.summaries
        report = Report(rubric, inputs, (), builder.finish(inputs), shown.show)
        entry_lines = _SpooledLines(spool) if spool is not None else None
        _write_outputs(report, outputs, lang, entry_lines, workbook_rows, kept.junit_cases, gate.rule,
                       kept.sarif_results)
        if stdout_format == "table":
            from cs_audit.reporters.table import write_table
            write_table(report, sys.stdout, kept.table_rows, table_view)
        elif stdout_format == "json":
            write_document(report, entry_lines or (), sys.stdout)
        elif stdout_format == "github":
            from cs_audit.reporters.github import write_spooled_github
            write_spooled_github(report, sys.stdout, kept.annotations)
    return inputs


def _default_table_view() -> TableView:
    from cs_audit.reporters.table import TableView

    return TableView(colour=use_colour(sys.stdout), width=terminal_width(sys.stdout))


class _KeptForReports:
    """What the parent keeps of each result for the reports written at the end: the table's
    row or the GitHub annotations to print, the SARIF results, the JUnit testcase (spooled to a
    temporary file); each only when asked for."""

    def __init__(self, stdout_format: str, outputs: Sequence[str], shown: Shown,
                 rule: GateRule, all_findings: bool = False, table_view: TableView | None = None) -> None:
        self.annotations: RecordSpool | None = None
        self.table_rows: TableRows | None = None
        self.junit_cases: JUnitCases | None = None
        self._makers: list[Callable[[ConversationResult], None]] = []
        if stdout_format == "table":
            from cs_audit.reporters.table import TableRows, conversation_row

            view = table_view or _default_table_view()
            rows = TableRows(view.only_failed, view.top)
            self.table_rows = rows
            self._makers.append(lambda result: rows.add(conversation_row(result, shown.show)))
        elif stdout_format == "github":
            from cs_audit.reporters.github import spool_annotations

            shown_rule = None if all_findings else rule
            # Kept compressed by rank until the end (most severe are printed first).
            annotations = RecordSpool()
            self.annotations = annotations
            self._makers.append(lambda result: spool_annotations(annotations, result, shown, shown_rule))
        self.sarif_results: RecordSpool | None = None
        if any(output_format(o) == "sarif" for o in outputs):
            from cs_audit.reporters.sarif import spool_results

            found = RecordSpool()
            self.sarif_results = found
            sarif_rule = None if all_findings else rule
            self._makers.append(lambda result: spool_results(found, result, shown, sarif_rule))
        if any(output_format(o) == "junit" for o in outputs):
            from cs_audit.reporters.junit import JUnitCases, conversation_case

            # Written to a compressed temporary file as they arrive, not kept in memory.
            cases = JUnitCases()
            self.junit_cases = cases
            self._makers.append(lambda result: cases.add(conversation_case(result, shown, rule)))

    def add(self, result: ConversationResult) -> None:
        for make in self._makers:
            make(result)


class _SpooledLines:
    """The encoded entries kept compressed, read from the start each time (one per report)."""

    def __init__(self, spool: DeflatedText) -> None:
        self._spool = spool

    def __iter__(self) -> Iterator[str]:
        return self._spool.split("\n")


class _MadeInWorkers:
    """What a worker makes of each result besides auditing it: the pair of its JSON entry and
    its workbook rows, each None when no report needs it."""

    def __init__(self, encode: Callable[[ConversationResult], str] | None,
                 render: RowRenderer | None) -> None:
        self.encode = encode
        self.render = render

    def __call__(self, result: ConversationResult) -> tuple[str | None, ConversationRows | None]:
        return (self.encode(result) if self.encode else None,
                self.render(result) if self.render else None)


def _conversations_label(_item: object) -> str:
    return "conversations"


def _write_outputs(report: Report, outputs: Sequence[str], lang: str = "zh",
                   entry_lines: Iterable[str] | None = None, workbook_rows: WorkbookRows | None = None,
                   junit_cases: JUnitCases | None = None, rule: GateRule | None = None,
                   sarif_results: Iterable[dict] | None = None) -> None:
    """Write each report; ``entry_lines`` are the results' JSON entries if already encoded (an
    iterable that can be read once per report), ``workbook_rows`` the workbook's rows and
    ``junit_cases`` the JUnit testcases if already made; otherwise each is made from
    ``report.results``; ``sarif_results`` the SARIF results if already made, else every failed
    check's. ``rule`` decides which findings are failures (default: no gate)."""
    from cs_audit.reporters.json_report import write_document, write_json, write_jsonl

    failed: list[str] = []
    for output in outputs:
        kind = output_format(output)
        try:
            # Whole or not at all: yesterday's report stays until this one is complete.
            with atomic_target(output) as target:
                # The workbook and JUnit writers import openpyxl (~0.5 s): only when asked for.
                if kind == "xlsx":
                    from cs_audit.reporters.xlsx import write_xlsx

                    counts = write_xlsx(report, target, lang=lang, rows=workbook_rows)
                    if counts.replaced_characters or counts.cut_texts:
                        click.echo(f"note: {output}: {counts.replaced_characters} character(s) "
                                   f"Excel cannot hold were replaced by �, {counts.cut_texts} "
                                   "text(s) over 32,767 characters were cut", err=True)
                elif kind == "junit":
                    from cs_audit.reporters.junit import write_junit

                    write_junit(report, target, junit_cases, rule or GateRule())
                elif kind == "sarif":
                    from cs_audit.reporters.sarif import write_sarif

                    write_sarif(report, str(target), sarif_results, rule)
                else:
                    with open(target, "w", encoding="utf-8", newline="\n") as stream:
                        if entry_lines is None:
                            (write_json if kind == "json" else write_jsonl)(report, stream)
                        elif kind == "json":
                            write_document(report, entry_lines, stream)
                        else:
                            stream.writelines(line + "\n" for line in entry_lines)
        except OSError as error:
            # The other reports are still written; the run then ends with exit status 2.
            reason = error.strerror or error
            if error.errno in (errno.ENOSPC, errno.EDQUOT) and not isinstance(error, TemporarySpaceError):
                folder = Path(output).parent
                reason = f"no space left in {folder if str(folder) else '.'}"
            click.echo(f"error: cannot write {output}: {reason}; "
                       "the previous file, if any, is left as it was", err=True)
            failed.append(output)
    if failed:
        raise UserError(f"{len(failed)} report(s) not written: {', '.join(failed)}")


def check_outputs(outputs: Sequence[str], inputs: Sequence[Path]) -> None:
    """Refuse a report that would replace one of the inputs; name a folder that cannot be written."""
    for output in outputs:
        target = Path(output)
        if target.exists() and any(_same_file(target, source) for source in inputs):
            raise UserError(f"-o {output} is one of the inputs: it would be replaced by the report; "
                            "write the report elsewhere")
        if target.is_dir():
            raise UserError(f"cannot write {output}: it is a folder")
        folder = target.parent if str(target.parent) else Path(".")
        if not folder.is_dir():
            raise UserError(f"cannot write {output}: the folder {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            click.echo(f"warning: cannot write {output}: no permission to write in {folder}; "
                       "the audit runs and the other reports are written", err=True)


def _same_file(first: Path, second: Path) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def input_options(command: Callable) -> Callable:
    """The options every command that reads chat exports shares."""
    for option in reversed((
        click.option("--input-format", type=click.Choice(INPUT_FORMATS), default="auto",
                     show_default=True,
                     help="Input format; auto sniffs each file's content, then its extension."),
        click.option("--encoding", default="auto", show_default=True, metavar="NAME",
                     help="Text encoding of text inputs; auto = BOM, else UTF-8, else GB18030."),
        click.option("--map", "column_map_spec", metavar="MAP",
                     help="Other column names and role values: 'conversation_id=会话编号,"
                          "role=发送方,text=消息内容,role.agent=商家客服' or a TOML file with "
                          "[columns] and [roles]."),
    )):
        command = option(command)
    return command


def project_settings(command: Callable) -> Callable:
    """--config FILE and --isolated, and the settings file's values for every option not given
    on the command line (see cs_audit.config)."""

    @functools.wraps(command)
    def with_settings(*args, config_file: Path | None = None, isolated: bool = False, **options):
        _apply_settings(click.get_current_context(), options, config_file, isolated)
        return command(*args, **options)

    with_settings = click.option(
        "--isolated", is_flag=True,
        help="Ignore every settings file (cs-audit.toml, [tool.cs-audit] in pyproject.toml).")(with_settings)
    return click.option(
        "--config", "config_file", metavar="FILE",
        type=click.Path(path_type=Path, dir_okay=False, exists=True),
        help="Settings file to use instead of the cs-audit.toml or pyproject.toml ([tool.cs-audit]) "
             "found from the working folder upwards.")(with_settings)


def _apply_settings(ctx: click.Context, options: dict, config_file: Path | None, isolated: bool) -> None:
    """Set each option the user left at its default to the settings file's value."""
    from click.core import ParameterSource

    from cs_audit.config import ConfigError, discover, load_config

    if isolated and config_file is not None:
        raise UserError("--config and --isolated cannot be used together: --isolated ignores "
                        "every settings file")
    if isolated:
        return
    path = config_file or discover(Path.cwd())
    if path is None:
        return
    try:
        settings = load_config(path)
    except ConfigError as error:
        raise UserError(f"invalid settings file:\n{error}") from None
    params = {param.name: param for param in ctx.command.params}
    for name, value in settings.values.items():
        if name not in options:
            continue  # a setting of another command (review writes no reports)
        if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP):
            continue  # the command line wins
        try:
            options[name] = params[name].type_cast_value(ctx, value)
        except click.BadParameter as error:
            raise UserError(f"invalid settings file:\n{settings.error(name, error.format_message())}") from None
    if not options.get("quiet"):
        click.echo(f"note: settings from {path}", err=True)


class InputStream:
    """The conversations of every input, read file after file as the audit asks for them.

    ``summaries`` grows as files are finished; once ``conversations()`` is exhausted it holds
    every file's summary, in input order.
    """

    def __init__(self, files: Sequence[Path], input_format: str, encoding: str,
                 column_map: ColumnMap | None, shown_as: Mapping[Path, str] | None = None) -> None:
        self.files = files
        self.summaries: list[InputSummary] = []
        self._options = (input_format, encoding, column_map)
        # A file shown under another name: standard input's copy is shown as <stdin>.
        self._shown_as = shown_as or {}

    def conversations(self) -> Iterator[Conversation]:
        """Every conversation of every file, in input order (consumed once)."""
        for path in self.files:
            streamed = stream_file(path, *self._options, shown_as=self._shown_as.get(path))
            yield from streamed.conversations
            self.summaries.append(streamed.summary)

    def check_readable(self) -> None:
        """Exit 2 when no input at all could be read (call after the conversations are read)."""
        if any(summary.readable for summary in self.summaries):
            return
        # The reason may quote the file's first row: personal data in it is masked.
        show = masker(True)
        details = "; ".join(f"{s.path}:{s.problems[0].line}: {s.error}" if s.problems[0].line
                            else f"{s.path}: {s.error}" for s in self.summaries)
        raise UserError(f"no input could be read: {terminal_text(show(details))}")


def open_inputs(paths: Sequence[Path], input_format: str, encoding: str,
                column_map_spec: str | None) -> InputStream:
    """Check the input options and paths; exit 2 when a path is missing or nothing is left."""
    try:
        check_encoding(encoding)
    except EncodingProblem as error:
        raise UserError(f"--encoding: {error.reason}") from None
    column_map = None
    if column_map_spec:
        try:
            column_map = parse_map_option(column_map_spec)
        except ColumnMapError as error:
            raise UserError(str(error)) from None
    paths, stdin_copy = _with_stdin_copy(paths)
    try:
        files, reports = collect_inputs(paths)
    except FileNotFoundError as error:
        raise UserError(str(error)) from None
    if reports:
        shown = ", ".join(str(path) for path in reports[:3]) + (" …" if len(reports) > 3 else "")
        click.echo(f"note: {len(reports)} report(s) written by cs-audit left out of the inputs: {shown}",
                   err=True)
    if not files:
        raise UserError("no supported input files in " + ", ".join(map(str, paths)))
    shown_as = {stdin_copy: STDIN_NAME} if stdin_copy is not None else None
    return InputStream(files, input_format, encoding, column_map, shown_as)


def _with_stdin_copy(paths: Sequence[Path]) -> tuple[list[Path], Path | None]:
    """``paths`` with ``-`` replaced by a copy of standard input (removed when the command
    ends), and that copy."""
    from cs_audit.parsers.stdin import StdinTooLarge, copy_stdin, temporary_folder

    paths = list(paths)
    wanted = [number for number, path in enumerate(paths) if str(path) == STDIN_ARGUMENT]
    if not wanted:
        return paths, None
    if len(wanted) > 1:
        raise UserError("'-' (standard input) may be given once")
    stdin = sys.stdin.buffer
    if stdin.isatty():
        raise UserError("'-' reads the export from standard input, but it is a terminal: pipe or "
                        "redirect the export into cs-audit (cs-audit audit - < chats.csv)")
    folder, remove = temporary_folder()
    click.get_current_context().call_on_close(remove)
    try:
        copy = copy_stdin(stdin, folder)
    except StdinTooLarge as error:
        raise UserError(str(error)) from None
    except OSError as error:
        raise UserError(f"cannot copy standard input to the temporary folder: "
                        f"{error.strerror or error}") from None
    paths[wanted[0]] = copy
    return paths, copy


def read_inputs(paths: Sequence[Path], input_format: str, encoding: str,
                column_map_spec: str | None) -> tuple[list[InputSummary], list[Conversation]]:
    """Parse every input; exit 2 when a path is missing or nothing at all can be read."""
    stream = open_inputs(paths, input_format, encoding, column_map_spec)
    conversations = list(stream.conversations())
    stream.check_readable()
    return stream.summaries, conversations


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cs-audit")
def main() -> None:
    """Audit e-commerce customer-service chat logs: response times, politeness,
    off-platform risk, sentiment and disputes, scored against a service rubric."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--rubric", "rubric_ref", default="default", show_default=True, metavar="NAME|FILE",
              help="Bundled rubric name (default, taobao, pdd, jd, douyin; `cs-audit rubric show NAME` "
                   "prints one) or a TOML rubric file.")
@click.option("-o", "--output", "outputs", multiple=True, metavar="FILE",
              help="Write a report; the extension picks the format (.json, .jsonl, .xlsx, "
                   ".xml for JUnit, .sarif for code scanning). Repeatable.")
@click.option("--format", "stdout_format", type=click.Choice(STDOUT_FORMATS), default="table",
              show_default=True,
              help="What to print on standard output; github prints workflow annotations.")
@click.option("--fail-under", type=click.FloatRange(0, 100), metavar="SCORE",
              help="Exit 1 if the mean conversation score is below SCORE.")
@click.option("--fail-on", type=click.Choice(FAIL_ON_CHOICES), default="never", show_default=True,
              help="Exit 1 if any check at or above this severity fails.")
@input_options
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the Excel report's sheet names and headers.")
@click.option("--jobs", type=click.IntRange(min=0), default=1, show_default=True, metavar="N",
              help="Worker processes (0 = all cores); the output is the same for any N.")
@click.option("--baseline", type=click.Path(path_type=Path, dir_okay=False), metavar="REPORT.json",
              help="An earlier JSON report: failed checks already in it (same conversation and "
                   "rule) do not count for --fail-on.")
@click.option("--no-mask", is_flag=True, help="Show phone, ID-card and bank-card numbers unmasked.")
@lexicons_option
@click.option("--findings", type=click.Choice(FINDINGS_CHOICES), default="gate", show_default=True,
              help="Which failed checks --format github and .sarif reports list: gate = those "
                   "that fail the gate (--fail-on, --fail-under, else the rubric's verdict); "
                   "all = every failed check.")
@click.option("--only-failed", is_flag=True,
              help="The table lists only failed and critical conversations (the totals count all).")
@click.option("--top", type=click.IntRange(min=1), metavar="N",
              help="The table lists the N worst conversations, critical first, then by score.")
@click.option("--color/--no-color", "colour", default=None,
              help="Colour failed and critical rows of the table; default: when standard output "
                   "is a terminal, unless NO_COLOR is set (FORCE_COLOR forces it).")
@click.option("-q", "--quiet", is_flag=True,
              help="No progress bar, no input-problem warnings, no note naming the settings file.")
@project_settings
def audit(paths: tuple[Path, ...], rubric_ref: str, outputs: tuple[str, ...], stdout_format: str,
          fail_under: float | None, fail_on: str, input_format: str, encoding: str,
          column_map_spec: str | None, lang: str, jobs: int, baseline: Path | None,
          no_mask: bool, lexicon_dir: Path | None, findings: str, only_failed: bool,
          top: int | None, colour: bool | None, quiet: bool) -> None:
    """Audit chat exports in PATHS (files, folders walked recursively in sorted order, or - for
    standard input). Settings come from cs-audit.toml or [tool.cs-audit] in pyproject.toml,
    found from the working folder upwards; options given here win.

    Exit status: 0 when no gate failed, 1 when --fail-under or --fail-on failed, 2 for usage
    errors, an invalid rubric, lexicon or settings file, or when no input could be read at all.
    """
    for output in outputs:
        if output_format(output) is None:
            raise click.BadParameter(f"{output}: unknown report type; use .json, .jsonl, .xlsx, "
                                     ".xml (JUnit) or .sarif",
                                     param_hint="-o/--output")
    known_failures = read_baseline(baseline) if baseline else frozenset()
    rubric = _load_rubric_or_fail(rubric_ref)
    stream = open_inputs(paths, input_format, encoding, column_map_spec)
    # Before the audit, which can take minutes, rather than after it.
    check_outputs(outputs, stream.files)
    from cs_audit.audit import Auditor  # deferred: loads the models, which --help never needs

    auditor = Auditor(rubric, lexicon_dir)
    gate = Gate(fail_under, fail_on, known_failures)
    from cs_audit.reporters.table import TableView

    view = TableView(only_failed, top, use_colour(sys.stdout, colour), terminal_width(sys.stdout))
    inputs = _run(auditor, stream, outputs, stdout_format, gate, quiet, jobs, mask=not no_mask, lang=lang,
                  table_view=view, all_findings=findings == "all")
    if not quiet:
        _warn_problems(inputs, masker(not no_mask))
        _warn_unmapped(inputs, column_map_spec)
    # Rows were there and none made a conversation: the export is misread, not empty. (A file
    # with no rows, a quiet day, is an empty audit, not an error.)
    if not any(summary.conversations for summary in inputs) and any(summary.rows for summary in inputs):
        raise UserError(_nothing_read(inputs, masker(not no_mask)))

    code, reasons = gate.verdict()
    for reason in reasons:
        click.echo(f"gate failed: {reason}", err=True)
    sys.exit(code)


def _explain_category(category: str, lexicon_dir: Path | None = None) -> str:
    from cs_audit.catalog import documented_categories, examples_path, load_doc, load_examples

    # A folder made by hand may hold only word lists: its documentation is then the bundled one.
    doc = load_doc(category, lexicon_dir if category in documented_categories(lexicon_dir) else None)
    lines = [f"{category} — {doc.title}", "", "What it looks for:", f"  {doc.looks_for}", "",
             "Why it matters:", f"  {doc.why}"]
    if doc.instead:
        lines += ["", "Instead:", f"  {doc.instead}"]
    if lexicon_dir is not None:
        lines += ["", f"Lexicons: {lexicon_dir}"]
    if examples_path(category, lexicon_dir).exists():
        examples = load_examples(category, lexicon_dir)
        for label, heading in (("fire", "Fires on:"), ("pass", "Does not fire on:")):
            chosen = [e for e in examples if e.label == label][:EXPLAIN_EXAMPLES]
            lines += ["", heading] + [f"  [{e.role}] {e.text}" for e in chosen]
    return "\n".join(lines)


def _explain_check(rubric: Rubric, check_id: str, table: Path | None = None) -> str | None:
    from cs_audit.checks import CHECK_KINDS

    check = next((c for c in rubric.checks if c.id == check_id), None)
    if check is None:
        return None
    params = ", ".join(f"{key} = {value!r}" for key, value in check.params.items())
    lines = [f"{check.id} — {check.title}", "",
             f"Rubric: {rubric.name} ({rubric.source})",
             f"Severity: {check.severity}; points: {check.points:g}",
             f"Kind: {check.kind} — {CHECK_KINDS[check.kind].doc}",
             f"Parameters: {params}"]
    if check.why:
        lines += ["", "Why it matters:", f"  {check.why}"]
    category = check.params.get("category")
    if category:
        lines += ["", f"It uses detection category {category}: see `cs-audit explain {category}`."]
    if table is not None:
        lines += _check_example_lines(table)
    return "\n".join(lines)


def _check_example_lines(table: Path) -> list[str]:
    """A check's examples, a few of each verdict, one conversation a line as the table writes it."""
    from cs_audit.check_examples import load_check_examples, shown_path

    examples = load_check_examples(table)
    lines = ["", f"Examples ({shown_path(table)}):"]
    for verdict, heading in (("fail", "Fails on:"), ("pass", "Passes on:"),
                             ("n/a", "Does not apply to:")):
        chosen = [e for e in examples if e.verdict == verdict][:EXPLAIN_EXAMPLES]
        if chosen:
            lines += ["", heading] + [f"  {e.encoded(EXAMPLE_MESSAGE_SEPARATOR)}" for e in chosen]
    return lines


def _explain_kpi(rubric: Rubric, kpi_id: str) -> str | None:
    settings = next((k for k in rubric.kpis if k.id == kpi_id), None)
    if settings is None:
        return None
    unit = {"turn": "buyer rounds", "buyer": "buyers (conversations)", "session": "sessions"}[settings.unit]
    lines = [f"{kpi_id} — platform KPI in rubric {rubric.name} ({rubric.source})", "",
             f"Counts {unit}" + (f" starting {settings.window.open:%H:%M}-{settings.window.close:%H:%M}"
                                  if settings.window else "")]
    if settings.measure == "mean_s":
        lines.append(f"Mean human wait, each capped at {settings.cap_s:g} s; an unanswered round "
                     f"counts {settings.cap_s:g} s.")
    else:
        lines.append(f"Share answered by a human within {settings.within_s:g} s.")
    if settings.exclude_bot_rounds:
        lines.append("Rounds a bot answered and no agent did are left out.")
    if settings.exclude_sessions_starting:
        hours = settings.exclude_sessions_starting
        lines.append(f"Sessions starting {hours.open:%H:%M}-{hours.close:%H:%M} are left out.")
    if settings.target is not None:
        lines.append(f"Target: {settings.target:g}")
    if settings.source:
        lines += ["", f"Source: {settings.source}"]
    return "\n".join(lines)


@main.command()
@click.argument("identifier", metavar="ID")
@click.option("--rubric", "rubric_ref", default="default", show_default=True, metavar="NAME|FILE",
              help="Rubric whose checks ID may name (and whose `lexicons` folder holds the examples).")
@lexicons_option
def explain(identifier: str, rubric_ref: str, lexicon_dir: Path | None) -> None:
    """Explain a detection category (e.g. tone.rude), a rubric check (e.g. first_reply) or a
    platform KPI (e.g. taobao.reply_3min_rate, with --rubric taobao): what it looks for, why
    it matters, and examples: for a category, messages that fire and that do not (from
    --lexicons DIR when given); for a check, conversations it fails, passes and does not
    apply to (its table beside the rubric file, else the bundled one)."""
    from cs_audit.catalog import documented_categories

    rubric = _load_rubric_or_fail(rubric_ref)
    if lexicon_dir is None:
        lexicon_dir = rubric.lexicons
    if identifier in documented_categories():
        click.echo(_explain_category(identifier, lexicon_dir))
        return
    text = (_explain_check(rubric, identifier, _check_table(rubric_ref, identifier))
            or _explain_kpi(rubric, identifier))
    if text is None:
        # A platform KPI lives in its platform's rubric: find it there without --rubric.
        from cs_audit.rubric import bundled_rubrics

        for name in bundled_rubrics():
            text = _explain_kpi(_load_rubric_or_fail(name), identifier)
            if text is not None:
                break
    if text is None:
        known = ", ".join(documented_categories() + [c.id for c in rubric.checks]
                          + [k.id for k in rubric.kpis])
        raise UserError(f"unknown id {identifier!r}; known: {known}")
    click.echo(text)


@main.command()
@click.option("--rubric", "rubric_ref", default="default", show_default=True, metavar="NAME|FILE",
              help="Bundled rubric name or TOML file whose checks to list.")
def rules(rubric_ref: str) -> None:
    """List the checks of a rubric (id, kind, severity, points, what it looks for) and its KPIs."""
    from tabulate import tabulate

    rubric = _load_rubric_or_fail(rubric_ref)
    click.echo(f"{rubric.name} ({rubric.source}): {rubric.description}".rstrip(": "))
    click.echo(f"pass at {rubric.pass_score:g}; service hours {rubric.service_hours_text or 'always'}; "
               f"slow after {rubric.slow_after_s:g} s")
    if rubric.lexicons is not None:
        click.echo(f"lexicons: {rubric.lexicons}")
    click.echo("")
    rows = [[c.id, c.kind, c.severity, f"{c.points:g}", c.title] for c in rubric.checks]
    click.echo(tabulate(rows, headers=["check", "kind", "severity", "points", "looks for"],
                        disable_numparse=True))
    if rubric.kpis:
        click.echo("")
        rows = [[k.id, "-" if k.target is None else f"{k.target:g}", k.source] for k in rubric.kpis]
        click.echo(tabulate(rows, headers=["KPI", "target", "source"], disable_numparse=True))
    click.echo("\n`cs-audit explain CHECK` says why each check exists.")


@main.group()
def rubric() -> None:
    """Validate a rubric file, judge its checks' example tables, or print a bundled rubric."""


@rubric.command("validate")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def rubric_validate(file: Path) -> None:
    """Check a rubric file (and what it extends); errors name file and line, exit status 2."""
    loaded = _load_rubric_or_fail(str(file))
    kpis = f", {len(loaded.kpis)} KPI(s)" if loaded.kpis else ""
    click.echo(f"{file}: valid rubric {loaded.name!r} with {len(loaded.checks)} check(s){kpis}")
    # Validation stays fast (no models loaded); judging the examples is a command of its own.
    click.echo(f"judge its checks' example tables with: cs-audit rubric check {file}")


def _check_table(rubric_ref: str, check_id: str) -> Path | None:
    """The example table ``rubric check`` would judge check ``check_id`` of ``rubric_ref`` by."""
    from cs_audit.rubric import resolve_rubric
    from cs_audit.rubric_check import example_folders, table_for

    return table_for(check_id, example_folders(resolve_rubric(rubric_ref)))


@rubric.command("check")
@click.argument("rubric_ref", default="default", metavar="[NAME|FILE]")
@click.option("--examples", "examples_dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
              metavar="DIR",
              help="Folder of check example tables (CHECK_ID.tsv) looked in first, before "
                   "examples/ beside the rubric file and the bundled tables.")
@lexicons_option
def rubric_check(rubric_ref: str, examples_dir: Path | None, lexicon_dir: Path | None) -> None:
    """Validate a rubric (default: the bundled `default`) and judge its checks' examples.

    Each check's example table (CHECK_ID.tsv: small conversations with the verdict the check
    must give, fail, pass or n/a) is taken from --examples DIR, else from examples/ beside the
    rubric file, else from the bundled tables; every row is audited with the rubric and the
    rows it judges differently are listed with their file:line.

    Exit status: 0 when every row gets its verdict, 1 when some row does not, 2 when the
    rubric or a table is invalid (the rows are then not judged).
    """
    from tabulate import tabulate

    from cs_audit.rubric import resolve_rubric
    from cs_audit.rubric_check import check_rubric, example_folders

    loaded = _load_rubric_or_fail(rubric_ref)
    folders = example_folders(resolve_rubric(rubric_ref), examples_dir)
    checked = check_rubric(loaded, folders, lexicon_dir)
    if checked.problems:
        _exit_with_problems(checked.problems, f"{len(checked.problems)} problem(s) in the example "
                                              "tables; the rows were not judged")
    click.echo(f"rubric: {loaded.name} ({loaded.source})")
    rows = [[table.check_id, f"{table.right}/{table.total}",
             "no table" if table.path is None else ("ok" if not table.wrong else "FAIL")]
            for table in checked.tables]
    click.echo(tabulate(rows, headers=["check", "right", "result"], disable_numparse=True))
    wrong = [row for table in checked.tables for row in table.wrong]
    if wrong:
        click.echo("")
    for row in wrong:
        click.echo(f"{row.location}: expected {row.example.verdict}, got {row.got}: "
                   f"{row.example.encoded(EXAMPLE_MESSAGE_SEPARATOR)}")
    if checked.without_table:
        click.echo(f"\nno example table for: {', '.join(checked.without_table)} "
                   f"(add CHECK_ID.tsv to {folders[0]})", err=True)
    if wrong:
        click.echo(f"\n{len(wrong)} example(s) judged wrongly", err=True)
        sys.exit(EXIT_GATE)
    click.echo(f"\nall {sum(t.total for t in checked.tables)} examples get their verdict")


@rubric.command("show")
@click.argument("name")
def rubric_show(name: str) -> None:
    """Print a bundled rubric (default, taobao, pdd, jd, douyin) as TOML."""
    from cs_audit.rubric import bundled_rubrics

    bundled = bundled_rubrics()
    if name not in bundled:
        raise UserError(f"no bundled rubric {name!r}; bundled: {', '.join(bundled)}")
    click.echo(bundled[name].read_text(encoding="utf-8"), nl=False)


@main.command()
@click.argument("report", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--ratings", "ratings_path", required=True, metavar="RATINGS.csv",
              type=click.Path(path_type=Path, dir_okay=False),
              help="CSV with conversation_id, rating (1-5, 0-100 or pass/fail) and optionally a "
                   "pass/fail column per check id (the human verdict).")
@click.option("--format", "stdout_format", type=click.Choice(("table", "json")), default="table",
              show_default=True, help="What goes to standard output.")
@click.option("-o", "--output", "outputs", multiple=True, metavar="FILE",
              help="Also write the calibration: .json or .xlsx (one sheet). May be given twice.")
@click.option("--write-rubric", "rubric_out", type=click.Path(path_type=Path, dir_okay=False),
              metavar="FILE", help="Write a rubric that extends the report's and sets the fitted points.")
@click.option("--extends", "extends_ref", metavar="NAME|FILE",
              help="What the written rubric extends (default: the rubric named in the report).")
def calibrate(report: Path, ratings_path: Path, stdout_format: str, outputs: tuple[str, ...],
              rubric_out: Path | None, extends_ref: str | None) -> None:
    """Compare an audit (REPORT.json) with a QA team's ratings: agreement per check, each check's
    association with the ratings, Spearman(score, rating) with a bootstrap interval, and points per
    check fitted to the ratings (non-negative; a written rubric keeps the severities)."""
    from tabulate import tabulate

    from cs_audit import calibrate as calibration_module
    from cs_audit.reporters.calibration_sheet import write_calibration_workbook

    for output in outputs:
        if Path(output).suffix.lower() not in (".json", ".xlsx"):
            raise UserError(f"{output}: calibrate writes .json or .xlsx")
    try:
        document = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{report}: not a readable cs-audit JSON report ({error})") from None
    if not isinstance(document, dict) or not str(document.get("schema", "")).startswith("cs-audit/"):
        raise UserError(f"{report}: not a cs-audit JSON report (no schema cs-audit/…); "
                        "write one with: cs-audit audit … -o report.json")
    try:
        ratings = calibration_module.read_ratings(ratings_path)
        result = calibration_module.calibrate(document, ratings)
    except calibration_module.CalibrationError as error:
        raise UserError(str(error)) from None
    figures = result.as_dict()
    if stdout_format == "json":
        click.echo(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        interval = result.spearman_interval
        shown = "—" if result.spearman is None else f"{result.spearman:.2f}"
        if interval:
            shown += f" (95% interval {interval[0]:.2f} to {interval[1]:.2f})"
        click.echo(f"{result.conversations} rated conversations (ratings {result.scale}); "
                   f"Spearman(score, rating) = {shown}")
        if result.unmatched_ratings or result.unrated_conversations:
            click.echo(f"not compared: {result.unmatched_ratings} rating(s) of no conversation in the "
                       f"report, {result.unrated_conversations} conversation(s) without a rating")
        click.echo("ratings are shown on a 0-1 scale; r(pass, rating) > 0: passing goes with "
                   "better ratings; precision/recall/kappa: against the human verdicts")
        click.echo(tabulate(list(calibration_module.table_rows(result)),
                            headers=calibration_module.TABLE_HEADERS))
    try:
        for output in outputs:
            with atomic_target(output) as target:
                if Path(output).suffix.lower() == ".json":
                    target.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n",
                                      encoding="utf-8")
                else:
                    write_calibration_workbook(result, target)
        if rubric_out is not None:
            source = document.get("rubric", {})
            extends = extends_ref or _extended_rubric(source)
            name = f"{source.get('name', 'rubric')}-calibrated"
            with atomic_target(rubric_out) as target:
                target.write_text(calibration_module.fitted_rubric(result, extends, name),
                                  encoding="utf-8")
            click.echo(f"wrote {rubric_out}: extends {extends!r} with the fitted points")
    except OSError as error:
        raise UserError(f"cannot write: {error.strerror or error}") from None


def _extended_rubric(source: dict) -> str:
    """A bundled rubric by name, else the file the report names."""
    from cs_audit.rubric import bundled_rubrics

    name = str(source.get("name", "default"))
    path = str(source.get("source", ""))
    if name in bundled_rubrics() and Path(path).name == f"{name}.toml":
        return name
    return path or name


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--conversation", "conversation_id", metavar="ID",
              help="The id of the conversation to review (or give it after the files: "
                   "review FILE ID).")
@click.option("--rubric", "rubric_ref", default="default", show_default=True, metavar="NAME|FILE",
              help="Bundled rubric name or a TOML rubric file.")
@input_options
@click.option("--color/--no-color", "colour", default=None,
              help="Colour the transcript; default: when standard output is a terminal, unless "
                   "NO_COLOR is set (FORCE_COLOR forces it).")
@click.option("--no-mask", is_flag=True, help="Show phone, ID-card and bank-card numbers unmasked.")
@lexicons_option
@project_settings
def review(paths: tuple[Path, ...], conversation_id: str | None, rubric_ref: str, input_format: str,
           encoding: str, column_map_spec: str | None, colour: bool | None, no_mask: bool,
           lexicon_dir: Path | None) -> None:
    """Show one conversation (review FILE... ID, or --conversation ID) as an annotated transcript
    for the agent: each message with its detections and failed checks, the score, and what to say
    instead."""
    from cs_audit.audit import Auditor
    from cs_audit.reporters.review import render_review

    if conversation_id is None:
        # review FILE ID: the last argument is the id when it names no file or folder.
        if len(paths) < 2 or paths[-1].exists():
            raise UserError("which conversation? give its id after the files (review FILE ID) "
                            "or as --conversation ID")
        paths, conversation_id = paths[:-1], str(paths[-1])

    rubric = _load_rubric_or_fail(rubric_ref)
    inputs, conversations = read_inputs(paths, input_format, encoding, column_map_spec)
    _warn_unmapped(inputs, column_map_spec)
    matches = [c for c in conversations if c.id == conversation_id]
    if not matches:
        show = masker(not no_mask)
        sample = ", ".join(terminal_text(show(c.id)) for c in conversations[:10])
        more = " …" if len(conversations) > 10 else ""
        raise UserError(f"no conversation {conversation_id!r} in {', '.join(map(str, paths))}; "
                        f"ids found: {sample}{more}")
    if len(matches) > 1:
        click.echo(f"note: {len(matches)} conversations have id {conversation_id!r}; showing the "
                   f"one from {matches[0].source}", err=True)
    result = Auditor(rubric, lexicon_dir).audit(matches[0])
    report = Report.build(rubric, inputs, [result], mask=not no_mask)
    colour = use_colour(sys.stdout, colour)
    # Not click.echo: it strips ANSI codes on its own when output is not a terminal.
    sys.stdout.write(render_review(result, report, colour))


@main.group()
def lexicon() -> None:
    """Check a lexicon folder, or copy the bundled one to edit."""


@lexicon.command("check")
@click.argument("folder", required=False, type=click.Path(path_type=Path, file_okay=False),
                metavar="[DIR]")
def lexicon_check(folder: Path | None) -> None:
    """Check the lexicon folder DIR (default: the bundled lexicons).

    Every word list, rule file, category documentation and example table is loaded through
    the detectors' own loaders; every bad line is listed as path:line: message. Then each
    example table (examples/*.tsv: lines that must fire, look-alikes that must not) is run
    against detectors built from DIR, and each failing row is listed with its file:line.

    Exit status: 0 when every file is valid and every example passes, 1 when some example
    fails, 2 when a file is invalid (the examples are then not run).
    """
    from tabulate import tabulate

    from cs_audit.lexicon_check import check_folder

    checked = check_folder(folder)
    if checked.problems:
        _exit_with_problems(checked.problems, f"{checked.folder}: {len(checked.problems)} problem(s) "
                                              "in the lexicon files; the examples were not run")
    rows = [[table.table, f"{table.passed}/{table.total}", "ok" if not table.failures else "FAIL"]
            for table in checked.tables]
    click.echo(f"lexicons: {checked.folder}")
    click.echo(tabulate(rows, headers=["examples", "pass", "result"], disable_numparse=True))
    failures = [failure for table in checked.tables for failure in table.failures]
    if failures:
        click.echo("")
    for failure in failures:
        example = failure.example
        click.echo(f"{failure.location}: {example.label} [{example.role}] {example.text} — "
                   f"{failure.found}")
    if failures:
        click.echo(f"\n{len(failures)} example(s) fail", err=True)
        sys.exit(EXIT_GATE)
    click.echo(f"\nall {sum(t.total for t in checked.tables)} examples pass")


@lexicon.command("copy")
@click.argument("folder", type=click.Path(path_type=Path), metavar="DIR")
def lexicon_copy(folder: Path) -> None:
    """Copy the bundled lexicons (word lists, rules, documentation, examples) to DIR, a new
    or empty folder, as the starting point of a shop's own lexicons."""
    from cs_audit.lexicon_check import copy_bundled

    try:
        count = copy_bundled(folder)
    except (FileExistsError, OSError) as error:
        raise UserError(f"cannot copy the lexicons to {folder}: {error}") from None
    click.echo(f"copied {count} files to {folder}\n"
               f"edit the word lists, add rows to {folder / 'examples'}, then run:\n"
               f"  cs-audit lexicon check {folder}\n"
               f"  cs-audit audit --lexicons {folder} PATH...\n"
               "(or set lexicons = \"DIR\" in a rubric, relative to the rubric file)")
