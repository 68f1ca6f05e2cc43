"""The annotated transcript of one conversation (``cs-audit review``), for the agent who had it.

Each message is shown with its index, time, role, sender and file line, then its text, then
what was found in it: detections (category and the matched words; for shop-side rude phrasing
"→ 建议: …", what to say instead) and the failed checks that point at it. The end gives the
score, grade and verdict, the reply times, the failed checks that concern the whole
conversation, and "What to say instead": every suggestion, once.

Detected words are marked in the text: with colour, problems (rude phrasing, off-platform
requests) bold red, things to watch (escalation, personal data) yellow, good service phrases
green; without colour, problems are wrapped in 【】 and the list under the message says the rest.
Colour is the caller's choice (the CLI: standard output is a terminal); without it the output
has no escape byte at all.

Chat text passes through ``report.show`` (masking). Control characters in it (escape
sequences, carriage returns, bells, bidirectional overrides, lone surrogates) are printed as
``\\x1b``-style escapes, so only the colour codes added here ever reach the terminal; a
newline inside a message starts a new indented line.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from cs_audit.checks import SHOP_ROLES
from cs_audit.model import CheckResult, ConversationResult, Detection, Message
from cs_audit.reporters import Report
from cs_audit.reporters.suggestions import rephrasings

INDENT = "    "
PROBLEM, ATTENTION, GOOD = "problem", "attention", "good"
# Higher wins where spans overlap: a rude phrase inside a greeting is still rude.
PRIORITY = {GOOD: 1, ATTENTION: 2, PROBLEM: 3}
MARKERS = {PROBLEM: "✗", ATTENTION: "!", GOOD: "✓"}
PLAIN_BRACKETS = {PROBLEM: ("【", "】")}

RESET = "\x1b[0m"
COLOURS = {
    PROBLEM: "\x1b[1;31m", ATTENTION: "\x1b[33m", GOOD: "\x1b[32m",
    "heading": "\x1b[1m", "dim": "\x1b[2m",
    "critical": "\x1b[1;31m", "major": "\x1b[31m", "minor": "\x1b[33m", "info": "\x1b[2m",
    "passed": "\x1b[1;32m", "failed": "\x1b[1;31m",
    "buyer": "\x1b[34m", "agent": "\x1b[36m", "bot": "\x1b[2m", "system": "\x1b[2m",
}
# Characters that reorder or break lines on screen without being visible themselves.
_INVISIBLE_LAYOUT = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                              "\u2066\u2067\u2068\u2069\u2028\u2029")


def detection_kind(category: str) -> str:
    """How a detection reads for the agent: a problem, something to watch, or good service."""
    if category == "tone.rude" or category.startswith("risk."):
        return PROBLEM
    if category.startswith("tone."):
        return GOOD
    return ATTENTION


def escape_char(char: str) -> str:
    """A character as it may reach a terminal: controls and layout tricks spelled out."""
    # Cs: a lone surrogate (JSON "\\ud800") could not even be encoded for the terminal.
    if char in _INVISIBLE_LAYOUT or unicodedata.category(char) in ("Cc", "Cs"):
        return repr(char)[1:-1]
    return char


class _Painter:
    """Adds ANSI colour when asked to, and nothing at all otherwise."""

    def __init__(self, colour: bool):
        self.colour = colour

    def __call__(self, text: str, style: str) -> str:
        if not self.colour or not text or style not in COLOURS:
            return text
        return f"{COLOURS[style]}{text}{RESET}"


def _safe(text: str) -> str:
    """One-line terminal-safe text (newlines spelled out too)."""
    return "".join(escape_char(char) for char in text)


def _char_kinds(length: int, detections: Sequence[Detection]) -> list[str | None]:
    kinds: list[str | None] = [None] * length
    for detection in detections:
        kind = detection_kind(detection.category)
        start, end = max(0, detection.span[0]), min(length, detection.span[1])
        for position in range(start, end):
            current = kinds[position]
            if current is None or PRIORITY[kind] > PRIORITY[current]:
                kinds[position] = kind
    return kinds


def _message_body(message: Message, detections: Sequence[Detection], report: Report,
                  paint: _Painter) -> str:
    """The message text, masked, escaped, indented, with detected words marked."""
    shown = report.show(message.text)
    # Spans index the original text; they still fit when masking kept the length (it does
    # for the bundled masker), else the text is shown unmarked rather than marked wrongly.
    kinds = (_char_kinds(len(shown), detections) if len(shown) == len(message.text)
             else [None] * len(shown))
    pieces: list[str] = []
    position = 0
    while position < len(shown):
        kind = kinds[position]
        end = position
        while end < len(shown) and kinds[end] == kind:
            end += 1
        run = "".join("\n" + INDENT if char == "\n" else escape_char(char)
                      for char in shown[position:end])
        if kind is not None and paint.colour:
            run = paint(run, kind)
        elif kind in PLAIN_BRACKETS:
            opening, closing = PLAIN_BRACKETS[kind]
            run = f"{opening}{run}{closing}"
        pieces.append(run)
        position = end
    return INDENT + "".join(pieces)


def _lost(check: CheckResult) -> str:
    return f"-{check.max_points - check.points:g}"


def _check_line(check: CheckResult, report: Report, paint: _Painter) -> str:
    label = paint("FAILED", check.severity)
    return (f"{label} {check.rule} ({paint(check.severity, check.severity)}, {_lost(check)}): "
            f"{_safe(report.show(check.message))}")


def _detection_line(detection: Detection, result: ConversationResult, report: Report,
                    paint: _Painter) -> str:
    kind = detection_kind(detection.category)
    words = report.detection_text(result, detection)
    line = f"{paint(MARKERS[kind], kind)} {detection.category} 「{paint(_safe(words), kind)}」"
    if detection.note:
        line += f" ({_safe(report.show(detection.note))})"
    if detection.suggestion and detection.role in SHOP_ROLES:
        line += f" → 建议: {_safe(detection.suggestion)}"
    return line


def _message_heading(message: Message, report: Report, paint: _Painter) -> str:
    when = (message.timestamp.isoformat(sep=" ", timespec="seconds")
            if message.timestamp is not None else "(no time)")
    parts = [paint(f"#{message.index}", "heading"), when, paint(message.role, message.role)]
    if message.sender:
        parts.append(_safe(report.show(message.sender)))
    if message.line:
        parts.append(paint(f"(line {message.line})", "dim"))
    return "  ".join(parts)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} s"


def _verdict(result: ConversationResult, report: Report, paint: _Painter) -> str:
    if result.critical:
        verdict = paint("FAILED", "failed") + ", critical finding"
    elif result.passed:
        verdict = paint("PASSED", "passed")
    else:
        verdict = paint("FAILED", "failed")
    return (f"Score {result.score:.1f}/100, grade {result.grade}, {verdict} "
            f"(pass mark {report.rubric.pass_score:g})")


def _replies(result: ConversationResult) -> str:
    response = result.response
    if response.first_s is None and response.avg_s is None:
        return f"Replies: no reply times (untimed messages); {response.unanswered} unanswered"
    return (f"Replies: first {_seconds(response.first_s)}, average {_seconds(response.avg_s)}, "
            f"slowest {_seconds(response.max_s)}; {response.slow} slow, "
            f"{response.unanswered} unanswered")


def _instead(result: ConversationResult, report: Report, paint: _Painter) -> list[str]:
    lines = []
    for item in rephrasings(result, report):
        where = ", ".join(f"#{index}" for index in item.message_indexes)
        lines.append(f"  {where} 「{paint(_safe(item.words), PROBLEM)}」 → 建议: "
                     f"{paint(_safe(item.suggestion), GOOD)}")
    return lines


def render_review(result: ConversationResult, report: Report, colour: bool) -> str:
    """The transcript of one conversation with its findings inline, ending with a newline."""
    paint = _Painter(colour)
    agents = ", ".join(_safe(report.show(agent)) for agent in result.agents) or "(none)"
    span = ""
    if result.start is not None and result.end is not None:
        span = (f", {result.start.isoformat(sep=' ', timespec='seconds')} to "
                f"{result.end.isoformat(sep=' ', timespec='seconds')}")
    lines = [paint(f"Conversation {_safe(report.show(result.id))}", "heading")
             + f" — {_safe(report.show(result.source))}",
             f"{len(result.messages)} messages{span}; agents: {agents}; "
             f"rubric: {_safe(report.rubric.name)}"]

    by_message: dict[int, list[Detection]] = {}
    for detection in result.detections:
        by_message.setdefault(detection.message_index, []).append(detection)
    failed = [check for check in result.checks if not check.passed]
    known = range(len(result.messages))
    for message in result.messages:
        found = sorted(by_message.get(message.index, ()), key=lambda d: d.span)
        lines += ["", _message_heading(message, report, paint),
                  _message_body(message, found, report, paint)]
        lines += [INDENT + _detection_line(d, result, report, paint) for d in found]
        lines += [INDENT + _check_line(c, report, paint) for c in failed
                  if c.message_index == message.index]

    lines += ["", paint("Result", "heading"), "  " + _verdict(result, report, paint),
              "  " + _replies(result)]
    general = [c for c in failed if c.message_index is None or c.message_index not in known]
    if general:
        lines += ["", paint("Failed checks for the whole conversation", "heading")]
        lines += ["  " + _check_line(c, report, paint) for c in general]
    instead = _instead(result, report, paint)
    lines += ["", paint("What to say instead", "heading")]
    lines += instead or ["  Nothing to rephrase."]
    return "\n".join(lines) + "\n"
