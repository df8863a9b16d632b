"""The clinic formulary: shipped content, and every way a clinic edit can break it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ketascreen.errors import KnowledgeBaseError
from ketascreen.knowledge.formulary import (
    INDICATIONS,
    LOCAL_POLICY,
    Formulary,
    Sourced,
    load_formulary,
)
from ketascreen.knowledge.sources import load_sources
from ketascreen.models.doses import (
    MG_PER_ML,
    MINUTE,
    ML,
    ML_PER_H,
    DosePerWeight,
    DoseRatePerWeight,
    in_unit,
)
from tests.dosing.support import SHIPPED_FORMULARY, case_with, dose_of

Edit = Callable[[str, str], Path]


def test_shipped_formulary_is_versioned_and_hashed(formulary: Formulary) -> None:
    """Version and sha256 of the file's bytes are exposed (also under the engine's names)."""
    digest = hashlib.sha256(SHIPPED_FORMULARY.read_bytes()).hexdigest()
    assert formulary.sha256 == digest == formulary.formulary_sha256
    assert formulary.version == formulary.formulary_version == "2026.11.0-default"


def test_every_indication_has_a_protocol(formulary: Formulary) -> None:
    """One protocol per indication of case-format.md."""
    assert set(formulary.protocols) == set(INDICATIONS)


@pytest.mark.parametrize("indication", ["depression", "ptsd", "anxiety", "ocd"])
def test_psychiatric_protocols_match_the_issue(formulary: Formulary, indication: str) -> None:
    """0.5 mg/kg over 40 min, actual weight; 0.1-0.75 mg/kg soft, 1 mg/kg hard; 2-100 min."""
    protocol = formulary.protocol(indication)
    assert protocol.default_dose is not None and protocol.default_duration is not None
    assert protocol.default_dose.value == DosePerWeight.parse("0.5 mg/kg")
    assert in_unit(protocol.default_duration.value, MINUTE) == 40
    assert protocol.weight_basis.value == "actual"
    limits = protocol.session_limits
    assert limits is not None and protocol.hourly_limits is None
    assert limits.soft_min.value == DosePerWeight.parse("0.1 mg/kg")
    assert limits.soft_max.value == DosePerWeight.parse("0.75 mg/kg")
    assert limits.hard_max.value == DosePerWeight.parse("1 mg/kg")
    assert protocol.duration_range_text == "2 min to 100 min"


def test_chronic_pain_protocol_is_per_hour(formulary: Formulary) -> None:
    """ASRA 2018: 0.5-2 mg/kg/h over hours (R35/R36), limits per hour, not per 40 min."""
    protocol = formulary.protocol("chronic-pain")
    assert protocol.limits_per_hour and protocol.session_limits is None
    limits = protocol.hourly_limits
    assert limits is not None
    assert limits.soft_min.value == DoseRatePerWeight.parse("0.5 mg/kg/h")
    assert limits.soft_max.value == DoseRatePerWeight.parse("2 mg/kg/h")
    assert set(limits.soft_min.sources) <= {"R35", "R36"}
    assert protocol.default_duration is not None
    assert protocol.duration_range_text == "2 h to 4 h"


def test_other_indication_has_no_default(formulary: Formulary) -> None:
    """"other" must be ordered explicitly: no default dose, no default duration."""
    protocol = formulary.protocol("other")
    assert protocol.default_dose is None and protocol.default_duration is None
    assert protocol.session_limits is not None


def test_preparations_and_pump(formulary: Formulary) -> None:
    """Vials 10/50/100 mg/mL, 100 mg/mL only diluted to 50 mg/mL, 100 mL bag, 0.1 mL/h, 0.01 mL."""
    strengths = [in_unit(v.strength.value, MG_PER_ML) for v in formulary.vials]
    assert strengths == [10, 50, 100]
    undiluted = {in_unit(v.strength.value, MG_PER_ML): v.dilute_to_at_most for v in
                 formulary.vials}
    assert undiluted[10] is None and undiluted[50] is None
    ceiling = undiluted[100]
    assert ceiling is not None and in_unit(ceiling.value, MG_PER_ML) == 50
    assert ceiling.sources == ("R18", "R19")
    assert in_unit(formulary.default_diluent_volume.value, ML) == 100
    assert formulary.default_diluent_volume.sources == ("R24",)
    assert in_unit(formulary.pump.rate_resolution.value, ML_PER_H) == pytest.approx(0.1)
    assert in_unit(formulary.pump.volume_resolution.value, ML) == pytest.approx(0.01)
    assert in_unit(formulary.pump.vtbi_resolution.value, ML) == pytest.approx(0.1)
    display = formulary.display
    assert [str(r.value) for r in (display.dose, display.dose_rate, display.concentration,
                                   display.dose_per_weight, display.dosing_weight)] == [
        "0.1", "0.1", "0.001", "0.0001", "0.01"]
    assert in_unit(formulary.max_final_concentration, MG_PER_ML) == 50
    assert formulary.ideal_weight_when_bmi_at_least is None


def _all_sourced(formulary: Formulary) -> list[tuple[str, tuple[str, ...]]]:
    values: list[tuple[str, tuple[str, ...]]] = []
    for protocol in formulary.protocols.values():
        limits = protocol.session_limits or protocol.hourly_limits
        assert limits is not None
        items = [protocol.weight_basis, protocol.duration_min, protocol.duration_max,
                 limits.soft_min, limits.soft_max, limits.hard_max]
        items += [x for x in (protocol.default_dose, protocol.default_duration) if x]
        values += [(item.entry, item.sources) for item in items]
    for vial in formulary.vials:
        values.append((vial.strength.entry, vial.strength.sources))
        if vial.dilute_to_at_most:
            values.append((vial.dilute_to_at_most.entry, vial.dilute_to_at_most.sources))
    pump = formulary.pump
    display = formulary.display
    for item in (pump.rate_resolution, pump.max_rate, pump.volume_resolution,
                 pump.max_rounding_deviation, pump.vtbi_resolution, formulary.max_dose_rate,
                 formulary.default_diluent_volume, formulary.diluent, display.dose,
                 display.dose_rate, display.concentration, display.dose_per_weight,
                 display.dosing_weight):
        values.append((item.entry, item.sources))
    for course in formulary.course.values():
        entries: list[Sourced[Any] | None] = [course.plan, course.escalation_step,
                                              course.escalation_ceiling]
        values += [(item.entry, item.sources) for item in entries if item]
    return values


def test_every_number_cites_a_source_or_says_local_policy(formulary: Formulary) -> None:
    """No invented clinical number: each value names R# keys that exist, or local policy."""
    known, _ = load_sources()
    for entry, sources in _all_sourced(formulary):
        assert sources, entry
        for source in sources:
            assert source == LOCAL_POLICY or source in known, (entry, source)
    pump = formulary.pump
    display = formulary.display
    for local in (pump.rate_resolution, pump.max_rate, pump.volume_resolution,
                  pump.max_rounding_deviation, pump.vtbi_resolution, display.dose,
                  display.dose_rate, display.concentration, display.dose_per_weight,
                  display.dosing_weight):
        assert local.is_local_policy, local.entry


@pytest.mark.parametrize(("old", "new", "entry", "problem"), [
    ('duration_max = { value = "100 min", source = ["R2"] }\n\n[protocols.ptsd]',
     'duration_max = { value = "100 min", source = ["R2"] }\nmax_dose = "2 mg/kg"\n\n'
     '[protocols.ptsd]', "protocols.depression", "unknown key(s): max_dose"),
    ('soft_max = { value = "0.75 mg/kg", source = ["R2"] }',
     'soft_max = { value = "0.75 mg", source = ["R2"] }',
     "protocols.depression.soft_max", "is a mass"),
    ('soft_min = { value = "0.1 mg/kg", source = ["R2"] }',
     'soft_min = { value = "0.9 mg/kg", source = ["R2"] }',
     "protocols.depression.soft_min", "must be below soft_max"),
    ('hard_max = { value = "1 mg/kg", source = ["R7", "R2"] }',
     'hard_max = { value = "0.7 mg/kg", source = ["R7", "R2"] }',
     "protocols.depression.soft_max", "is above hard_max"),
    ('hard_max = { value = "1 mg/kg", source = ["R7", "R2"] }',
     'hard_max = { value = "1 mg/kg/h", source = ["R7", "R2"] }',
     "protocols.depression.hard_max", "all mg/kg or all mg/kg/h"),
    ('duration_min = { value = "2 min", source = ["R2"] }',
     'duration_min = { value = "200 min", source = ["R2"] }',
     "protocols.depression.duration_min", "must be below duration_max"),
    ('duration = { value = "40 min", source = ["R4", "R7"] }',
     'duration = { value = "40 mg", source = ["R4", "R7"] }',
     "protocols.depression.duration", "is a mass, not a duration"),
    ('dose = { value = "0.5 mg/kg", source = ["R4", "R7", "R2"] }',
     'dose = { value = "0.9 mg/kg", source = ["R4", "R7", "R2"] }',
     "protocols.depression.dose", "outside the protocol's own range"),
    ("[protocols.ocd]", "[protocols.insomnia]", "protocols.insomnia", "unknown indication"),
    ('[protocols.other]', '[protocols.other-unused]', "protocols.other-unused",
     "unknown indication"),
    ('soft_min = { value = "0.1 mg/kg", source = ["R2"] }',
     'soft_min = { value = "0.1 mg/kg", source = ["R999"] }',
     "protocols.depression.soft_min", "not in the reference list"),
    ('soft_min = { value = "0.1 mg/kg", source = ["R2"] }',
     'soft_min = { value = "0.1 mg/kg", source = [] }',
     "protocols.depression.soft_min", "non-empty list"),
    ('soft_min = { value = "0.1 mg/kg", source = ["R2"] }',
     'soft_min = "0.1 mg/kg"', "protocols.depression.soft_min", "must be a table"),
    ('weight_basis = { value = "actual", source = ["R14"] }',
     'weight_basis = { value = "lean", source = ["R14"] }',
     "protocols.depression.weight_basis", "is not a weight basis"),
    ('default_vial = { value = "50 mg/mL", source = ["local-policy"] }',
     'default_vial = { value = "25 mg/mL", source = ["local-policy"] }',
     "preparation.default_vial", "not one of the vials"),
    ('dilute_to_at_most = { value = "50 mg/mL", source = ["R18", "R19"] }',
     'dilute_to_at_most = { value = "100 mg/mL", source = ["R18", "R19"] }',
     "preparation.vials[2].dilute_to_at_most", "must be below the vial strength"),
    ('rate_resolution = { value = "0.1 mL/h", source = ["local-policy"] }',
     'rate_resolution = { value = "0.1 mL", source = ["local-policy"] }',
     "pump.rate_resolution", "not a pump rate"),
    ('max_rate = { value = "999 mL/h", source = ["local-policy", "R50", "R141"] }',
     'max_rate = { value = "0.05 mL/h", source = ["local-policy"] }',
     "pump.rate_resolution", "must be below pump.max_rate"),
    ('max_dose_rate = { value = "0.5 mg/kg/min", source = ["R22", "R25"] }',
     'max_dose_rate = { value = "0.5 mg/kg", source = ["R22", "R25"] }',
     "limits.max_dose_rate", "is a dose per body weight"),
    ('vtbi_resolution = { value = "0.1 mL", source = ["local-policy"] }',
     'vtbi_resolution = { value = "5 mL", source = ["local-policy"] }',
     "pump.vtbi_resolution", "coarser than 1 mL"),
    ('vtbi_resolution = { value = "0.1 mL", source = ["local-policy"] }', "",
     "pump", "missing key(s): vtbi_resolution"),
    ('dose = { value = "0.1 mg", source = ["local-policy"] }',
     'dose = { value = "0.1 mcg", source = ["local-policy"] }',
     "display.dose", "is not a resolution in mg"),
    ('concentration = { value = "0.001 mg/mL", source = ["local-policy"] }',
     'concentration = { value = "0.005 mg/mL", source = ["local-policy"] }',
     "display.concentration", "must be a power of ten"),
    ('dosing_weight = { value = "0.01 kg", source = ["local-policy"] }',
     'dosing_weight = { value = "10 kg", source = ["local-policy"] }',
     "display.dosing_weight", "must be a power of ten no coarser than 1"),
    ('dose_rate = { value = "0.1 mg/h", source = ["local-policy"] }', "",
     "display", "missing key(s): dose_rate"),
    ("# ideal_weight_when_bmi_at_least = { value = \"30 kg/m²\", source = [\"R14\"] }",
     "ideal_weight_when_bmi_at_least = { value = \"30 %\", source = [\"R14\"] }",
     "weight.ideal_weight_when_bmi_at_least", "not a BMI"),
])
def test_broken_formulary_fails_naming_the_entry(edited_formulary: Edit, old: str, new: str,
                                                  entry: str, problem: str) -> None:
    """Each kind of mistake stops loading with a KnowledgeBaseError naming the entry."""
    with pytest.raises(KnowledgeBaseError) as caught:
        load_formulary(edited_formulary(old, new))
    assert caught.value.entry == entry
    assert problem in caught.value.problem


def test_missing_indication_fails(edited_formulary: Edit) -> None:
    """Deleting an indication's protocol is an error, not a silent 'no dose'."""
    text = SHIPPED_FORMULARY.read_text(encoding="utf-8")
    start = text.index("[protocols.ocd]")
    end = text.index("[protocols.chronic-pain]")
    with pytest.raises(KnowledgeBaseError, match=r"protocols\.ocd: missing"):
        load_formulary(edited_formulary(text[start:end], ""))


def test_wrong_schema_fails(edited_formulary: Edit) -> None:
    """Another file's schema is refused."""
    with pytest.raises(KnowledgeBaseError, match="ketascreen-formulary/1"):
        load_formulary(edited_formulary('schema = "ketascreen-formulary/1"',
                                        'schema = "ketascreen-policy/1"'))


def test_bmi_policy_can_be_switched_on(edited_formulary: Edit) -> None:
    """Uncommenting the APA ideal-weight policy (R14) loads it with its threshold."""
    formulary = load_formulary(edited_formulary(
        "# ideal_weight_when_bmi_at_least = ", "ideal_weight_when_bmi_at_least = "))
    policy = formulary.ideal_weight_when_bmi_at_least
    assert policy is not None and policy.sources == ("R14",)
    assert policy.value.magnitude == 30


def test_edited_formulary_has_its_own_hash(edited_formulary: Edit, formulary: Formulary) -> None:
    """A clinic's edit changes the sha256 printed with the dose."""
    edited = load_formulary(edited_formulary('version = "2026.11.0-default"',
                                             'version = "2026.11.1-clinic"'))
    assert edited.version == "2026.11.1-clinic"
    assert edited.sha256 != formulary.sha256


def test_display_resolutions_set_what_every_output_shows(edited_formulary: Edit) -> None:
    """A clinic that shows doses to 0.01 mg and VTBIs to 1 mL gets exactly that, in the result's
    display string, the dose rows and the working alike."""
    text = SHIPPED_FORMULARY.read_text(encoding="utf-8")
    edited = text.replace('dose = { value = "0.1 mg", source', 'dose = { value = "0.01 mg", source')
    edited = edited.replace('vtbi_resolution = { value = "0.1 mL"',
                            'vtbi_resolution = { value = "1 mL"')
    fine = load_formulary(edited_formulary(text, edited))
    outcome = dose_of(case_with({"protocol": {"dose": "0.5 mg/kg", "duration": "40 min",
                                              "vial": "50 mg/mL", "diluent_volume": "100 mL"}}),
                      fine)
    assert outcome.dose is not None and outcome.programme is not None
    assert outcome.dose.display.dose == "42.41 mg"
    rows = dict(outcome.programme.rows())
    assert rows["Intended dose"] == "42.41 mg" and rows["VTBI"] == "100 mL"
    assert "Intended dose 0.5 mg/kg x 84.82 kg = 42.41 mg" in outcome.working


# --- the course part ------------------------------------------------------------------------------

@pytest.mark.parametrize("indication", ["depression", "ptsd", "anxiety", "ocd"])
def test_shipped_course_entries(formulary: Formulary, indication: str) -> None:
    """Six infusions over 3 weeks (R9, R10), escalation by 0.25 mg/kg (R10: 0.5 -> 0.75 mg/kg)
    to a ceiling of 0.75 mg/kg, which no source gives (local policy), below the hard limit.
    Depression cites the sources; the other indications apply them by local policy."""
    course = formulary.course_defaults(indication)
    assert course is not None and course.indication == indication
    assert course.plan is not None and course.escalation_step is not None
    assert course.escalation_ceiling is not None
    assert (course.plan.value.infusions, course.plan.value.weeks) == (6, 3)
    assert course.escalation_step.value == DosePerWeight.parse("0.25 mg/kg")
    assert course.escalation_ceiling.value == DosePerWeight.parse("0.75 mg/kg")
    limits = formulary.protocol(indication).session_limits
    assert limits is not None and course.escalation_ceiling.value <= limits.hard_max.value
    assert course.escalation_ceiling.is_local_policy
    assert {"R9", "R10"} <= set(course.plan.sources)
    assert "R10" in course.escalation_step.sources
    assert course.plan.is_local_policy == (indication != "depression")
    assert course.escalation_step.is_local_policy == (indication != "depression")


@pytest.mark.parametrize("indication", ["chronic-pain", "other"])
def test_no_shipped_course_entry_without_a_source(formulary: Formulary, indication: str) -> None:
    """No source gives a course for outpatient pain infusions or "other": no entry."""
    assert formulary.course_defaults(indication) is None


def test_a_formulary_without_a_course_section_still_loads(edited_formulary: Edit) -> None:
    """A clinic formulary written before courses existed has no [course]: it loads, with no
    course entries (the course file's plan is then the only one)."""
    text = SHIPPED_FORMULARY.read_text(encoding="utf-8")
    cut = text[text.index("\n# The course of infusions, per indication"):]
    formulary = load_formulary(edited_formulary(cut, "\n"))
    assert formulary.course == {}
    assert all(formulary.course_defaults(i) is None for i in INDICATIONS)


CEILING = 'escalation_ceiling = { value = "0.75 mg/kg", source = ["local-policy", "R10", "R2"] }'
STEP = 'escalation_step = { value = "0.25 mg/kg", source = ["R10"] }'
PLAN = 'plan = { value = "6 infusions over 3 weeks", source = ["R9", "R10"] }'


@pytest.mark.parametrize(("old", "new"), [
    (CEILING, CEILING.replace("0.75 mg/kg", "1 mg/kg")),              # at the hard limit
    (CEILING, CEILING.replace("0.75 mg/kg", "0.5 mg/kg")),            # at the default dose
    (CEILING, CEILING.replace("0.75 mg/kg", "1000 mcg/kg")),          # 1 mg/kg in mcg
    (CEILING, ""),                                                    # no ceiling
    (STEP, ""),                                                       # no step
    (PLAN, PLAN.replace("6 infusions over 3 weeks", "1 infusion in 1 week")),
    (PLAN, PLAN.replace('["R9", "R10"]', '["C14"]')),                 # a C# key of the list
])
def test_course_entries_a_clinic_may_write(edited_formulary: Edit, old: str, new: str) -> None:
    """Limits of the course entries, on their allowed side."""
    course = load_formulary(edited_formulary(old, new)).course_defaults("depression")
    assert course is not None


@pytest.mark.parametrize(("old", "new", "entry", "problem"), [
    (CEILING, CEILING.replace("0.75 mg/kg", "1.0001 mg/kg"),
     "course.depression.escalation_ceiling", "is above protocols.depression.hard_max 1 mg/kg"),
    (CEILING, CEILING.replace("0.75 mg/kg", "1001 mcg/kg"),
     "course.depression.escalation_ceiling", "is above protocols.depression.hard_max"),
    (CEILING, CEILING.replace("0.75 mg/kg", "0.4999 mg/kg"),
     "course.depression.escalation_ceiling", "is below protocols.depression.dose 0.5 mg/kg"),
    (CEILING, CEILING.replace("0.75 mg/kg", "0.75 mg/kg/h"),
     "course.depression.escalation_ceiling", "limits of protocols.depression are per session"),
    (STEP, STEP.replace("0.25 mg/kg", "0.25 mg"),
     "course.depression.escalation_step", "is a mass"),
    (STEP, STEP.replace("0.25 mg/kg", "0 mg/kg"),
     "course.depression.escalation_step", "greater than zero"),
    (PLAN, PLAN.replace("6 infusions over 3 weeks", "six infusions"),
     "course.depression.plan", "is not a plan written"),
    (PLAN, PLAN.replace("6 infusions over 3 weeks", "0 infusions over 3 weeks"),
     "course.depression.plan", "at least 1 infusion"),
    (PLAN, PLAN.replace("6 infusions over 3 weeks", "6 infusions over 0 weeks"),
     "course.depression.plan", "at least 1 week"),
    (PLAN, PLAN.replace('["R9", "R10"]', '["C999"]'),
     "course.depression.plan", "not in the reference list"),
    (PLAN, PLAN + "\nmax_infusions = 12", "course.depression", "unknown key(s): max_infusions"),
    ("[course.ocd]", "[course.insomnia]", "course.insomnia", "unknown indication"),
])
def test_broken_course_entry_fails_naming_the_entry(edited_formulary: Edit, old: str, new: str,
                                                    entry: str, problem: str) -> None:
    """A ceiling above the hard limit (the hard limit stays the protocol's) or below the default
    dose, a value in the wrong form, an unreadable plan: a KnowledgeBaseError naming the entry."""
    with pytest.raises(KnowledgeBaseError) as caught:
        load_formulary(edited_formulary(old, new))
    assert caught.value.entry == entry
    assert problem in caught.value.problem


PAIN = """
[course.chronic-pain]
escalation_step = { value = "4.1667 mcg/kg/min", source = ["local-policy"] }
escalation_ceiling = { value = "%s", source = ["local-policy"] }
"""


def test_a_rate_protocols_course_entry_is_per_hour(edited_formulary: Edit) -> None:
    """Chronic pain's limits are per hour: its step and ceiling are rates (mcg/kg/min allowed),
    the ceiling at most its 2 mg/kg/h hard limit; a per-session value is refused."""
    end = "# chronic-pain and other: no course entry."
    formulary = load_formulary(edited_formulary(end, PAIN % "2 mg/kg/h" + end))
    course = formulary.course_defaults("chronic-pain")
    assert course is not None and course.escalation_step is not None
    assert course.escalation_step.value == DoseRatePerWeight.parse("4.1667 mcg/kg/min")
    for ceiling, problem in (("2.0001 mg/kg/h", "is above protocols.chronic-pain.hard_max"),
                             ("33.3352 mcg/kg/min", "is above protocols.chronic-pain.hard_max"),
                             ("0.4999 mg/kg/h", "is below protocols.chronic-pain.dose"),
                             ("1 mg/kg", "limits of protocols.chronic-pain are per hour")):
        with pytest.raises(KnowledgeBaseError) as caught:
            load_formulary(edited_formulary(end, PAIN % ceiling + end))
        assert caught.value.entry == "course.chronic-pain.escalation_ceiling"
        assert problem in caught.value.problem, (ceiling, caught.value.problem)
