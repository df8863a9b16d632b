"""Names and reasons: NFC-normalised, with visible letters; invisible and control characters are
refused naming the field; any text a report prints has them escaped."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketascreen.api import parse_case
from ketascreen.cli import main
from ketascreen.errors import CaseValidationError, TextInputError
from ketascreen.escape import neutralise
from ketascreen.reports.text import render_report
from ketascreen.screening import run
from ketascreen.visible import checked_visible
from tests.helpers.cases import example_case, patched

_INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\u00ad", "\x00",
              "\x1b", "\x07", "\n", "\r", "\t", "\x7f", "\x9b", "\u2028", "\ue000"]


def _case_problem(changes: dict[str, Any]) -> tuple[str, object, str]:
    with pytest.raises(CaseValidationError) as caught:
        parse_case(patched(example_case(), changes))
    (problem,) = caught.value.problems
    return problem.field, problem.value, problem.message


@pytest.mark.parametrize("char", _INVISIBLE)
def test_patient_name_with_an_invisible_character_is_refused(char: str) -> None:
    """A zero-width, bidirectional, control or separator character in a patient's name is
    refused, naming the field and the character by code point."""
    field, _, message = _case_problem({"patient.name": f"Alex{char} Rivera"})
    assert field == "patient.name"
    assert f"U+{ord(char):04X}" in message


@pytest.mark.parametrize(("path", "value", "part"), [
    ("patient.name", "123", "must contain letters"),
    ("patient.name", "- . -", "must contain letters"),
    ("patient.name", "   ", "must not be blank"),
    ("patient.id", "MRN\u200b42", "U+200B ZERO WIDTH SPACE"),
    ("patient.id", "MRN\x1b[2K42", "U+001B"),
])
def test_names_and_ids_need_visible_text(path: str, value: str, part: str) -> None:
    """A name without a letter, a blank name, an id with an invisible character: refused."""
    field, got, message = _case_problem({path: value})
    assert (field, got) == (path, value)
    assert part in message


def test_acknowledgement_reason_needs_visible_letters() -> None:
    """An acknowledgement reason of only zero-width characters (looks blank) or punctuation is
    refused naming acknowledgements[0].reason; a reason in words is accepted."""
    base = patched(example_case(), {})
    for bad in ("\u200b\u200b", "...", "\u202eheld"):
        base["acknowledgements"] = [{"concept": "benzodiazepine", "reason": bad}]
        with pytest.raises(CaseValidationError) as caught:
            parse_case(base)
        assert [p.field for p in caught.value.problems] == ["acknowledgements[0].reason"]
    base["acknowledgements"] = [{"concept": "benzodiazepine", "reason": "held the night before"}]
    assert parse_case(base).acknowledgements[0].reason == "held the night before"


def test_names_are_nfc_normalised() -> None:
    """A name typed with a combining accent equals the same name precomposed."""
    decomposed = parse_case(patched(example_case(), {"patient.name": "Ame\u0301lie Durand"}))
    precomposed = parse_case(patched(example_case(), {"patient.name": "Am\u00e9lie Durand"}))
    assert decomposed.patient.name == precomposed.patient.name == "Am\u00e9lie Durand"


_letters = st.characters(categories=["Lu", "Ll", "Lo"])
_visible_other = st.characters(categories=["Nd", "Po", "Pd", "Zs", "Sm", "Mn"])


@given(before=st.text(_letters | _visible_other, max_size=10),
       letter=_letters, after=st.text(_letters | _visible_other, max_size=10))
def test_visible_text_with_a_letter_is_accepted_normalised(before: str, letter: str,
                                                          after: str) -> None:
    """Any text of letters, digits, punctuation, spaces and marks with at least one letter is
    accepted, NFC-normalised and stripped (a combining mark may compose with a letter)."""
    text = before + letter + after
    accepted = checked_visible(text, field="--reason")
    assert accepted == unicodedata.normalize("NFC", text).strip()
    assert any(unicodedata.category(c).startswith("L") for c in accepted)


@given(text=st.text(_visible_other, max_size=20))
def test_text_without_a_letter_is_refused(text: str) -> None:
    """Digits, punctuation, spaces and marks alone are not a reason: refused naming the field."""
    with pytest.raises(TextInputError) as caught:
        checked_visible(text, field="--reason")
    assert caught.value.field == "--reason"
    assert caught.value.got == text


@given(before=st.text(_letters, min_size=1, max_size=10),
       bad=st.sampled_from(_INVISIBLE) | st.characters(categories=["Cc", "Cf"]),
       after=st.text(_letters, max_size=10))
def test_any_invisible_character_is_refused(before: str, bad: str, after: str) -> None:
    """A control or format character anywhere inside a name is refused, named by code point
    (surrounding ones included: they are not stripped away silently)."""
    with pytest.raises(TextInputError) as caught:
        checked_visible(before + bad + after, field="display name")
    assert f"U+{ord(bad):04X}" in caught.value.reason
    assert caught.value.field == "display name"


@given(st.text(max_size=40))
def test_neutralised_text_has_no_control_or_format_character(text: str) -> None:
    """Whatever the text, its neutralised form has no control, format or separator character
    and keeps every other character in order."""
    safe = neutralise(text)
    assert all(unicodedata.category(c) not in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
               for c in safe)
    kept = "".join(c for c in text
                   if unicodedata.category(c) not in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
    rest = iter(safe)
    assert all(c in rest for c in kept)  # every kept character, in order


def test_neutralise_writes_visible_escapes() -> None:
    """ESC, BEL, a zero-width space and an RTL override become visible escapes."""
    assert neutralise("\x1b[2KDr X\x07") == "\\x1b[2KDr X\\x07"
    assert neutralise("A\u200bB\u202eC") == "A\\u200bB\\u202eC"
    assert neutralise("Am\u00e9lie") == "Am\u00e9lie"


def test_text_report_escapes_control_characters_from_any_input() -> None:
    """A condition text and an import warning carrying ANSI escapes, BEL, a carriage return and
    an RTL override print as visible escapes: no control character reaches the terminal."""
    hostile = "schizophrenia\x1b[2K\x1b[1A\r\x07\u202e"
    data = example_case()
    data["conditions"] = [{"text": hostile, "status": "active"}]
    case = parse_case(data)
    report = render_report(run(case), import_warnings=("bad\x1b]0;title\x07 warning",))
    assert not any(unicodedata.category(c) in {"Cc", "Cf"} for c in report.replace("\n", ""))
    assert "schizophrenia\\x1b[2K\\x1b[1A \\x07\\u202e" in report  # wrapping made \r a space
    assert "bad\\x1b]0;title\\x07 warning" in report


def test_keygen_refuses_an_invisible_signer_name(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """``keygen --name "Dr Jane<ZWSP> Smith"`` is refused naming --name (exit 2): a signer's
    name that reads like another's is never minted; no key file is written."""
    (tmp_path / "pass.txt").write_text("correct horse battery staple\n")
    status = main(["keygen", "--name", "Dr Jane\u200b Smith", "--out", str(tmp_path / "me.p12"),
                   "--passphrase-file", str(tmp_path / "pass.txt")])
    assert status == 2
    err = capsys.readouterr().err
    assert '--name: "Dr Jane\\u200b Smith" contains U+200B ZERO WIDTH SPACE' in err
    assert not (tmp_path / "me.p12").exists()
