"""The case model: invalid cases are refused with errors that name the field and the value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketascreen.api import load_case, parse_case, parse_case_json
from ketascreen.errors import CaseValidationError
from tests.helpers.cases import clean_case, example_case, patched


def _problems(data: Any) -> list[tuple[str, object, str]]:
    with pytest.raises(CaseValidationError) as caught:
        parse_case(data)
    return [(p.field, p.value, p.message) for p in caught.value.problems]


def test_example_case_loads(example_case_path: Path) -> None:
    """The spec's example is a valid case, with its quantities parsed."""
    case = load_case(example_case_path)
    assert case.patient.name == "Alex Rivera"
    assert case.age_years() == 47
    weight = case.measurements.weight_quantity()
    assert weight is not None
    assert weight.to("kilogram").magnitude == pytest.approx(84.82, abs=0.005)


@pytest.mark.parametrize(("changes", "field", "value", "message_part"), [
    ({"measurements.weight": "70"}, "measurements.weight", "70", "has no unit"),
    ({"measurements.weight": "70 mL"}, "measurements.weight", "70 mL", "not a mass"),
    ({"measurements.weight": 70}, "measurements.weight", 70, "must be text with a unit"),
    ({"measurements.weight": "1200 kg"}, "measurements.weight", "1200 kg", "not a possible"),
    ({"measurements.height": "170"}, "measurements.height", "170", "has no unit"),
    ({"measurements.blood_pressure": "86/138 mmHg"}, "measurements.blood_pressure",
     "86/138 mmHg", "systolic must be higher"),
    ({"measurements.spo2": "120 %"}, "measurements.spo2", "120 %", "not a possible"),
    ({"measurements.spo2": "0 %"}, "measurements.spo2", "0 %", "greater than zero"),
    ({"measurements.heart_rate": "0 /min"}, "measurements.heart_rate", "0 /min",
     "greater than zero"),
    ({"measurements.heart_rate": "400 /min"}, "measurements.heart_rate", "400 /min",
     "not a possible"),
    ({"measurements.heart_rate": "72 %"}, "measurements.heart_rate", "72 %",
     "is a percentage, not a rate per minute"),
    ({"measurements.blood_pressure": "400/80 mmHg"}, "measurements.blood_pressure",
     "400/80 mmHg", "not a possible blood pressure"),
    ({"measurements.blood_pressure": "13/8 mmHg"}, "measurements.blood_pressure", "13/8 mmHg",
     "impossible at rest in mmHg"),
    ({"measurements.height": "0 ft 0 in"}, "measurements.height", "0 ft 0 in",
     "greater than zero"),
    ({"measurements.height": "5 ft 14 in"}, "measurements.height", "5 ft 14 in", "12 in or more"),
    ({"measurements.weight": "85 kg 70 kg"}, "measurements.weight", "85 kg 70 kg",
     "gives kg twice"),
    ({"patient.sex": "F"}, "patient.sex", "F", "Input should be"),
    ({"patient.birth_date": "14/05/1979"}, "patient.birth_date", "14/05/1979", "YYYY-MM-DD"),
    ({"patient.birth_date": "2027-01-01"}, "patient.birth_date", "2027-01-01",
     "after the screening date"),
    ({"history.psychotic-disorders": "no"}, "history.psychotic-disorders", "psychotic-disorders",
     "Input should be"),
    ({"history.psychotic-disorder": "maybe"}, "history.psychotic-disorder", "maybe",
     "Input should be"),
    ({"medications": [{"text": "Xanax", "daily_dose": "1"}]}, "medications[0].daily_dose", "1",
     "has no unit"),
    ({"medications": [{"text": "Xanax", "status": "current"}]}, "medications[0].status",
     "current", "Input should be"),
    ({"medications": [{"status": "active"}]}, "medications[0]", None, "needs a text, a code"),
    ({"substance_use.dast10": ["no"] * 9}, "substance_use.dast10", ["no"] * 9, "at least 10"),
    ({"substance_use.audit_c": [1, 5, 0]}, "substance_use.audit_c[1]", 5, "less than or equal"),
    ({"substance_use.audit_c": "4"}, "substance_use.audit_c", "4", "valid"),
    ({"protocol.dose": "0.5 mg"}, "protocol.dose", "0.5 mg", "is a mass"),
    ({"protocol.concentration": "1 mg/cc"}, "protocol.concentration", "1 mg/cc", "ISMP"),
    ({"acknowledgements": [{"concept": "benzodiazepine", "reason": "  "}]},
     "acknowledgements[0].reason", "  ", "blank"),
    ({"acknowledgements": [{"concept": "benzos", "reason": "held"}]},
     "acknowledgements[0].concept", "benzos", "not a concept id"),
    ({"format": "ketascreen-case/2"}, "format", "ketascreen-case/2", "Input should be"),
])
def test_invalid_fields_are_named(changes: dict[str, Any], field: str, value: object,
                                  message_part: str) -> None:
    """Each invalid input is refused with its field path, its value and the reason."""
    problems = _problems(patched(clean_case(), changes))
    assert any(f == field and v == value and message_part in m for f, v, m in problems), problems


def test_cmhg_blood_pressure_is_refused_with_the_mmhg_values() -> None:
    """"13/8 mmHg" (read off in cmHg) is refused at the case boundary, naming the field, saying
    the floor is local policy and offering 130/80 mmHg; it is never screened as hypotension."""
    with pytest.raises(CaseValidationError) as caught:
        parse_case(patched(clean_case(), {"measurements.blood_pressure": "13/8 mmHg"}))
    [problem] = caught.value.problems
    assert problem.field == "measurements.blood_pressure"
    assert problem.value == "13/8 mmHg"
    assert "local policy" in problem.message and "was it cmHg?" in problem.message
    assert problem.suggestion == "130/80 mmHg"
    assert str(caught.value).endswith("(write '130/80 mmHg' instead)")


@pytest.mark.parametrize(("height", "weight", "cm", "kg"), [
    ("6 ft 0 in", "150 lb 0 oz", 182.88, 68.0388555),
    ("5 ft 0 in", "0 lb 8 oz", 152.4, 0.226796185),
    ("0 ft 70 in", "70 kg", None, 70.0),
])
def test_compound_measurements_with_a_zero_part(height: str, weight: str, cm: float | None,
                                                kg: float) -> None:
    """A case may give a height of "6 ft 0 in" and a weight of "150 lb 0 oz" (and the weight
    stays as typed); "0 ft 70 in" is refused (70 in is 12 in or more) with the normal form."""
    changes = {"measurements.height": height, "measurements.weight": weight}
    if cm is None:
        with pytest.raises(CaseValidationError) as caught:
            parse_case(patched(clean_case(), changes))
        assert caught.value.problems[0].suggestion == "5 ft 10 in"
        return
    case = parse_case(patched(clean_case(), changes))
    assert case.measurements.height == height
    measured_height = case.measurements.height_quantity()
    measured_weight = case.measurements.weight_quantity()
    assert measured_height is not None and measured_weight is not None
    assert measured_height.to("centimeter").magnitude == pytest.approx(cm, rel=1e-9)
    assert measured_weight.to("kilogram").magnitude == pytest.approx(kg, rel=1e-9)


def test_unknown_key_is_refused() -> None:
    """A misspelt key is never silently ignored."""
    data = clean_case()
    data["measurements"]["wieght"] = "70 kg"
    assert _problems(data) == [("measurements.wieght", None,
                                "is not a field of ketascreen-case/1 (misspelt?)")]


def test_missing_required_fields() -> None:
    """Required fields are named when absent."""
    data = clean_case()
    del data["patient"]["birth_date"]
    del data["indication"]
    fields = {f for f, _, _ in _problems(data)}
    assert fields == {"patient.birth_date", "indication"}


def test_duplicate_keys_and_bad_json_are_refused() -> None:
    """Duplicate keys (a silently lost value) and non-JSON give typed errors."""
    text = json.dumps(example_case())
    with pytest.raises(CaseValidationError, match="appears twice"):
        parse_case_json(text[:-1] + ', "indication": "ptsd"}')
    with pytest.raises(CaseValidationError, match="not valid JSON"):
        parse_case_json("{")
    with pytest.raises(CaseValidationError, match="NaN"):
        parse_case_json('{"x": NaN}')


def test_error_message_names_source_file(tmp_path: Path) -> None:
    """Loading a file puts the file name and the field in the message."""
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(patched(clean_case(), {"measurements.weight": "70"})))
    with pytest.raises(CaseValidationError) as caught:
        load_case(path)
    assert str(caught.value) == (f'{path}: invalid case: measurements.weight: "70" has no unit '
                                 "(expected a mass such as kg or lb)")


def test_leap_day_birthday() -> None:
    """Born 29 February: the birthday counts on 1 March in a common year."""
    born = {"patient.birth_date": "2008-02-29"}
    assert parse_case(patched(clean_case(), {**born, "screening_date": "2026-02-28"})
                      ).age_years() == 17
    assert parse_case(patched(clean_case(), {**born, "screening_date": "2026-03-01"})
                      ).age_years() == 18


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300)
@given(json_values)
def test_arbitrary_json_never_crashes(value: Any) -> None:
    """Any JSON document gives a case or a typed error."""
    problems: tuple[object, ...] = ()
    try:
        case = parse_case_json(json.dumps(value))
    except CaseValidationError as error:
        problems = tuple(error.problems)
        messages = [problem.message for problem in error.problems]
    else:
        assert parse_case(case.model_dump(mode="json", exclude_none=True)) == case
        return
    assert problems and all(messages), problems


case_fields = st.fixed_dictionaries({}, optional={
    "measurements.weight": st.text(max_size=15),
    "measurements.height": st.text(max_size=15),
    "measurements.blood_pressure": st.text(max_size=15),
    "measurements.heart_rate": st.text(max_size=10),
    "patient.birth_date": st.text(max_size=12),
    "substance_use.dast10": json_values,
    "medications": st.lists(st.fixed_dictionaries({"text": st.text(max_size=20)},
                                                  optional={"daily_dose": st.text(max_size=10)}),
                            max_size=3),
})


@settings(max_examples=300)
@given(case_fields)
def test_arbitrary_field_values_never_crash(changes: dict[str, Any]) -> None:
    """A valid case with arbitrary strings in its quantity fields loads or fails typed."""
    problems = []
    try:
        parse_case(patched(clean_case(), changes))
    except CaseValidationError as error:
        problems = error.problems
    assert all(p.field and p.message for p in problems)
