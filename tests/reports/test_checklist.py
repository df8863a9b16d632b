"""The checklist model: content decisions tested as data (before any PDF is drawn)."""

from __future__ import annotations

import dataclasses
import hashlib
import json

from ketascreen.api import parse_case
from ketascreen.checklist import build_checklist, dose_box_from
from ketascreen.models.checklist import canonical_json
from ketascreen.screening import checklist, rule_set_in_force, run, screen
from ketascreen.units import Q_
from tests.helpers.cases import example_case, patched


def _checklist(changes: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    case = parse_case(patched(example_case(), changes or {}))
    return checklist(run(case), clinic="Test Clinic")


def test_example_checklist_content() -> None:
    """Decision, findings, dose rows and the record hash come from the case and result."""
    checklist = _checklist()
    assert checklist.decision_label == "NEEDS REVIEW"
    assert [f.title for f in checklist.findings] == ["Benzodiazepine on the medication list"]
    assert checklist.dose is not None
    rows = dict(checklist.dose.rows)
    assert rows["PUMP RATE"] == "63.6 mL/h"
    assert rows["Intended dose"] == "42.4 mg (0.5 mg/kg x 84.82 kg)"
    case = parse_case(example_case())
    result = screen(case)
    expected = hashlib.sha256(canonical_json(result.model_dump(mode="json"))).hexdigest()
    assert checklist.result_sha256 == expected
    assert json.loads(checklist.qr_payload) == {"record": checklist.record_id,
                                                "result_sha256": expected}
    assert any("Pregnancy test" in item for item in checklist.pre_infusion)


def test_no_pregnancy_item_for_men_and_no_dose_when_do_not_infuse() -> None:
    """A male patient gets no pregnancy-test item; a DO NOT INFUSE checklist has no dose box."""
    checklist = _checklist({"patient.sex": "male", "patient.pregnant": "unknown",
                            "history.psychotic-disorder": "yes"})
    assert not any("Pregnancy test" in item for item in checklist.pre_infusion)
    assert checklist.decision_label == "DO NOT INFUSE"
    assert checklist.dose is None
    assert checklist.no_dose_reason == "No dose: do not infuse."


def test_acknowledgement_reason_is_carried() -> None:
    """An acknowledged finding carries the physician's reason onto the checklist."""
    checklist = _checklist({"acknowledgements": [
        {"concept": "benzodiazepine", "reason": "Evening dose held; discussed."}]})
    # Unsigned, a clear screening is "awaiting signature", never the CLEAR of a signed order.
    assert checklist.decision_label == "Screened: clear — awaiting signature"
    assert checklist.findings[0].acknowledged
    assert checklist.findings[0].acknowledgement == "Evening dose held; discussed."


def test_missing_weight_gives_reason_not_dose() -> None:
    """Without a weight the checklist says why there is no dose."""
    checklist = _checklist({"measurements": {"height": "170 cm",
                                             "blood_pressure": "120/80 mmHg"}})
    assert checklist.dose is None
    assert checklist.no_dose_reason is not None
    assert "weight" in checklist.no_dose_reason.lower()


def test_vitals_carry_the_limits_of_the_loaded_policy() -> None:
    """Page 1's vital signs print the thresholds the loaded policy holds (here with the four
    vital-sign concepts of concepts.md added), each with the side it fires on."""
    case = parse_case(example_case())
    screening = run(case)
    box, reason = dose_box_from(screening.dose)
    policy = rule_set_in_force().policy
    quantities = dict(policy.quantities)
    quantities.update({"hypotension_systolic": Q_(90, "millimeter_Hg"),
                       "bradycardia_heart_rate": Q_(50, "1/minute"),
                       "tachycardia_heart_rate": Q_(150, "1/minute"),
                       "hypoxaemia_spo2": Q_(92, "percent")})
    checklist = build_checklist(case, screening.result, dose=box, no_dose_reason=reason,
                                versions=screening.versions, clinic="Test Clinic", signer=None,
                                policy=dataclasses.replace(policy, quantities=quantities))
    vitals = {v.name: (v.value, v.limits) for v in checklist.vitals}
    assert vitals == {
        "Blood pressure": ("138/86 mmHg", "hypertension elevated: above 140/90 mmHg; "
                           "hypertension severe: above 180/100 mmHg; "
                           "hypotension: systolic below 90 mmHg"),
        "Heart rate": ("72 /min", "bradycardia heart rate: below 50 /min; "
                       "tachycardia heart rate: above 150 /min"),
        "SpO2": ("98 %", "hypoxaemia SpO2: at or below 92 %"),
        "Weight": ("187 lb", "plausible 30 kg to 300 kg"),
        "Height / BMI": ("5 ft 7 in; BMI 29.3 kg/m²", "plausible BMI 12 to 80 kg/m²"),
    }
