"""Length-preserving character normalisation shared by the detectors."""

from __future__ import annotations

import re

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space map one-to-one onto ASCII,
# so offsets into the normalised text are offsets into the original.
_HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_HALFWIDTH[0x3000] = 0x20
_HAS_FULLWIDTH = re.compile("[\uff01-\uff5e\u3000]")


def to_halfwidth(text: str) -> str:
    """Map full-width letters, digits, punctuation and spaces to ASCII (same length)."""
    # Most chat text has no full-width characters; a regex scan is far cheaper than translate.
    if not _HAS_FULLWIDTH.search(text):
        return text
    return text.translate(_HALFWIDTH)
