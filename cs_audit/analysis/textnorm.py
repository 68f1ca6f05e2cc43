"""Length-preserving character normalisation shared by the detectors."""

from __future__ import annotations

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space map one-to-one onto ASCII,
# so offsets into the normalised text are offsets into the original.
_HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_HALFWIDTH[0x3000] = 0x20


def to_halfwidth(text: str) -> str:
    """Map full-width letters, digits, punctuation and spaces to ASCII (same length)."""
    return text.translate(_HALFWIDTH)
