"""Free text a person types (names, reasons): normalised, visible, and shown safely.

A name or a reason is printed on a signed checklist and read by a clinician. A zero-width space,
a right-to-left override or a terminal escape sequence makes text look like something else
(``"Dr Jane\\u200b Smith"`` is not ``"Dr Jane Smith"``; ``"\\x1b[2K"`` erases a terminal line).
So typed text is NFC-normalised, must contain at least one visible letter, and may contain no
control, format (zero-width, bidirectional), private-use, surrogate or unassigned character;
and any text a report prints has such characters replaced by visible escapes
(:func:`ketascreen.escape.neutralise`).
"""

from __future__ import annotations

import unicodedata

from ketascreen.errors import TextInputError
from ketascreen.escape import INVISIBLE_CATEGORIES

_REFUSED_CATEGORIES = INVISIBLE_CATEGORIES


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    code = f"U+{ord(char):04X}"
    return f"{code} {name}" if name else code


def invisible_character(text: str) -> str | None:
    """The first refused character of *text*, described (``"U+200B ZERO WIDTH SPACE"``), or None.

    Args:
        text: the text to look through.

    Returns:
        The code point and Unicode name of the first control, format, private-use, surrogate,
        unassigned or line-separator character, or ``None`` when there is none.
    """
    for char in text:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return _describe(char)
    return None


def visible_text_problem(text: str, *, letters: bool = True) -> str | None:
    """Why *text* is not acceptable typed text, or ``None`` when it is.

    Args:
        text: the text as typed (judged in NFC, surrounding white space included: a trailing
            newline is refused, not dropped).
        letters: whether at least one letter is required (names and reasons); an identifier
            such as a patient id needs only to be visible and not blank.

    Returns:
        A reason for a clinician (``"contains U+200B ZERO WIDTH SPACE, an invisible
        character"``, ``"must contain letters"``), or ``None``.
    """
    text = unicodedata.normalize("NFC", text)
    bad = invisible_character(text)
    if bad is not None:
        return f"contains {bad}, an invisible or control character: retype it"
    if not text.strip():
        return "must not be blank"
    if letters and not any(unicodedata.category(c).startswith("L") for c in text):
        return "must contain letters (a name or a reason in words)"
    return None


def normalise_visible(text: str) -> str:
    """*text* in Unicode normal form C, without surrounding white space.

    ``"e\\u0301"`` (e and a combining accent) and ``"\\u00e9"`` are the same name to a reader;
    NFC makes them the same string, so they compare, hash and sign the same.

    Args:
        text: the text as typed.

    Returns:
        The normalised text.
    """
    return unicodedata.normalize("NFC", text).strip()


def checked_visible(text: str, *, field: str, letters: bool = True) -> str:
    """*text* normalised (NFC, stripped), or :class:`~ketascreen.errors.TextInputError`.

    Args:
        text: the text as typed.
        field: what the text is (``patient.name``, ``--reason``, ``display name``), named in
            the error.
        letters: whether at least one letter is required (see :func:`visible_text_problem`).

    Returns:
        The normalised text.

    Raises:
        TextInputError: the text is blank, contains a control or invisible character, or (with
            *letters*) has no letter.
    """
    normal = unicodedata.normalize("NFC", text)  # checked before stripping: a trailing
    problem = visible_text_problem(normal, letters=letters)  # newline is refused, not dropped
    if problem is not None:
        raise TextInputError(field=field, got=text, reason=problem)
    return normal.strip()
