"""Text made safe to print: control and invisible characters shown as visible escapes.

A terminal escape sequence or a right-to-left override in a name must not act when a report or
an error message prints it; it is shown for what it is (``\\x1b``). Standard library only, so the
typed errors can use it.
"""

from __future__ import annotations

import unicodedata

INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Unicode general categories that are never printed as they are (and refused in typed text):
controls (Cc: C0, DEL, C1, newline, tab), format characters (Cf: zero-width space/joiner,
bidirectional overrides, soft hyphen), surrogates, private use, unassigned, and line/paragraph
separators."""


def neutralise(text: str) -> str:
    """*text* with every control, format or invisible character replaced by a visible escape.

    ``"\\x1b[31mDr X"`` becomes ``"\\\\x1b[31mDr X"`` (the four characters backslash, x, 1, b):
    printed to a terminal or a file it shows what was there and does nothing. Code points up to
    U+00FF are written ``\\xNN``, others ``\\uNNNN`` or ``\\UNNNNNNNN``.

    Args:
        text: any text.

    Returns:
        The text, safe to print.
    """
    if text.isprintable() and text.isascii():
        return text
    out = []
    for char in text:
        if unicodedata.category(char) in INVISIBLE_CATEGORIES:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code <= 0xFF
                       else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out)
