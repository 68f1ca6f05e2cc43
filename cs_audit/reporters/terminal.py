"""Text safe to print on a terminal or into a CI log: control characters shown, not obeyed.

File names, conversation ids, senders, rubric and grade names come from users' files; a newline
or an escape sequence among them must not start a fake log line (a ``::error`` workflow command)
or recolour the terminal.
"""

from __future__ import annotations


def terminal_text(text: str) -> str:
    """``text`` with every character that is not printable written as its escape (\\n, \\x1b…)."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
