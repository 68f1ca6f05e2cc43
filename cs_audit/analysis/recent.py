"""Results kept for the most recently seen distinct texts (canned replies repeat thousands of
times in an export, so each detector works a distinct text out once)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

_Value = TypeVar("_Value")


class RecentResults(Generic[_Value]):
    """``make(text)`` for the last ``size`` distinct texts; the least recently used go first.

    ``size`` 0 keeps nothing (every call makes anew). Results are never None.
    """

    __slots__ = ("_kept", "_size")

    def __init__(self, size: int) -> None:
        self._kept: OrderedDict[str, _Value] = OrderedDict()
        self._size = size

    def get(self, text: str, make: Callable[[str], _Value]) -> _Value:
        kept = self._kept
        found = kept.get(text)
        if found is not None:
            kept.move_to_end(text)
            return found
        value = make(text)
        if self._size > 0:
            kept[text] = value
            if len(kept) > self._size:
                kept.popitem(last=False)
        return value

    def empty(self) -> RecentResults[_Value]:
        """A new, empty store of the same size (what a worker process starts with)."""
        return RecentResults(self._size)
