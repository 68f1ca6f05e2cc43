"""JSON text to values for every JSON reader, with every way JSON can fail turned into a reason.

``json.loads`` fails in more ways than ``JSONDecodeError``: an integer of more digits than
Python converts (its int-str limit, 4,300 digits) raises a plain ValueError, and a line nested
thousands deep raises RecursionError. A chat export holds neither, so each is a problem with a
reason, never a crash.
"""

from __future__ import annotations

import json
from typing import Any

# Integers longer than this stay their digits (a str): well under Python's int-str limit, and no
# id or epoch in a chat export comes near it. A timestamp of such digits is then reported as
# out of range, an id kept as written.
MAX_INTEGER_DIGITS = 4_000


def parse_integer(digits: str) -> int | str:
    """``parse_int`` for the json module: an int, or the digits themselves when too long."""
    return int(digits) if len(digits) <= MAX_INTEGER_DIGITS else digits


class JsonUnreadable(ValueError):
    """Text that is not JSON the readers can take; carries the line and the reason."""

    def __init__(self, line: int, reason: str):
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def decode_json(text: str, decoder: json.JSONDecoder | None = None, line: int = 1) -> Any:
    """The value of a JSON text, or JsonUnreadable with the line (``line`` is the text's first).

    ``decoder`` is a decoder with the reader's own hooks; its ``parse_int`` should be
    :func:`parse_integer`.
    """
    try:
        if decoder is None:
            return json.loads(text, parse_int=parse_integer)
        return decoder.decode(text)
    except json.JSONDecodeError as error:
        raise JsonUnreadable(line + error.lineno - 1,
                             f"invalid JSON: {error.msg} (column {error.colno})") from None
    except RecursionError:
        raise JsonUnreadable(line, "JSON nested too deeply to be a chat export") from None
    except ValueError as error:  # what json lets through of int() and float()
        raise JsonUnreadable(line, f"invalid JSON: {error}") from None
