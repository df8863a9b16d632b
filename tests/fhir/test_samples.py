"""All 57 sample patients of shared/fhir-samples import and screen, or are refused as deceased.

As-of date: each sample is screened on the day of its own latest clinical record (the last
encounter, observation, condition, order, procedure, immunisation or report; see
``latest_clinical_date``), i.e. "screened right after the last visit". The records span 1994 to
2026, so one fixed date would make the Synthea patients decades older than their data and put
some eCQM records in the future.
"""

from __future__ import annotations

import functools
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from ketascreen.api import parse_case
from ketascreen.errors import DeceasedPatientError
from ketascreen.fhir import FhirImport, import_fhir
from ketascreen.fhir.dates import latest_clinical_date
from ketascreen.fhir.reader import load_source
from ketascreen.models.result import Result
from ketascreen.screening import screen
from tests.fhir.builders import SAMPLES

SYNTHEA = sorted((SAMPLES / "synthea-r4").glob("*.json"))
ECQM = sorted(p for p in (SAMPLES / "ecqm-qicore-2024").glob("*/*") if p.is_dir())
US_CORE = SAMPLES / "us-core"
ALL = [*SYNTHEA, *ECQM, US_CORE]
DECEASED = {"Gilberto_Orosco", "6b3b4271"}
_SUFFIX = re.compile(
    r" \(from (Condition|MedicationRequest|MedicationStatement)/[A-Za-z0-9%.~-]+\)$")


def _id(path: Path) -> str:
    if path.parent.name == "synthea-r4":
        return "_".join(path.stem.split("_")[:-1])
    if path == US_CORE:
        return "us-core"
    return f"{path.parent.name}/{path.name[:8]}"


def _find(prefix: str) -> Path:
    found = [p for p in ALL if _id(p).startswith(prefix) or _id(p).endswith(prefix)]
    assert len(found) == 1, prefix
    return found[0]


@functools.cache
def as_of(path: Path) -> date:
    """The sample's as-of date: the day of its latest clinical record."""
    day = latest_clinical_date(r.data for r in load_source(path).resources)
    assert day is not None
    return day


@functools.cache
def imported(path: Path, day: date | None = None) -> FhirImport:
    """The import of a sample on its as-of date (or ``day``), cached across tests."""
    return import_fhir(path, as_of=day or as_of(path))


def screened(path: Path, day: date | None = None) -> tuple[FhirImport, Result]:
    """The import and its screening result."""
    result = imported(path, day)
    return result, screen(parse_case(result.case))


def concepts(result: Result) -> set[str]:
    """The concept ids of every finding."""
    return {f.concept for f in result.findings}


def test_all_57_samples_are_found() -> None:
    """The sample set is complete: 21 Synthea Bundles, 35 eCQM folders, the US Core folder."""
    assert (len(SYNTHEA), len(ECQM), len(ALL)) == (21, 35, 57)


@pytest.mark.parametrize("path", ALL, ids=_id)
def test_sample_imports_and_screens(path: Path) -> None:
    """Every sample imports to a valid case that screens, or is refused as deceased."""
    if any(key in _id(path) for key in DECEASED):
        with pytest.raises(DeceasedPatientError) as refused:
            imported(path)
        assert "died" in refused.value.reason
        assert "deceased" in [w.code for w in refused.value.warnings]
        return
    result, screening = screened(path)
    case = parse_case(result.case)
    assert case.screening_date == as_of(path)
    for entry in [*result.case["conditions"], *result.case["medications"]]:
        assert _SUFFIX.search(entry["text"]), entry["text"]
    fields = {p.field for p in result.provenance if p.field}
    assert {f"conditions[{i}]" for i in range(len(case.conditions))} <= fields
    assert {f"medications[{i}]" for i in range(len(case.medications))} <= fields
    assert screening.decision in ("do-not-infuse", "insufficient-data", "needs-review", "clear")
    assert "unanswered-history" in concepts(screening)  # the questionnaire is left to the doctor


def test_geoffrey_abbott_severe_hypertension() -> None:
    """194/116 from a Synthea 55284-4 panel (diastolic component first) is severe; the
    values keep the record's decimals (the rules compare at 0.1 mmHg)."""
    result, screening = screened(_find("Geoffrey_Abbott"))
    assert result.case["measurements"]["blood_pressure"] == "193.57/116.36 mmHg"
    assert "hypertension-severe" in concepts(screening)
    assert screening.decision == "do-not-infuse"


def test_alberto_atencio_benzodiazepine_seizures_and_carbamazepine() -> None:
    """Product codes 1153378 Klonopin and 308971 Tegretol fire their classes; epilepsy counts."""
    _, screening = screened(_find("Alberto_Atencio"))
    assert {"benzodiazepine", "seizure-disorder", "cyp-inducer"} <= concepts(screening)
    inducer = next(f for f in screening.findings if f.concept == "cyp-inducer")
    assert "carbamazepine" in inducer.basis.lower()
    assert "MedicationRequest/" in inducer.basis  # the provenance reaches the report


def test_rachael_mcdermott_stopped_clonazepam_does_not_count() -> None:
    """A stopped clonazepam order is imported as stopped and fires nothing."""
    result, screening = screened(_find("Rachael_McDermott"))
    clonazepam = [m for m in result.case["medications"] if "Clonazepam" in m["text"]]
    assert clonazepam
    assert {m["status"] for m in clonazepam} == {"stopped"}
    assert "benzodiazepine" not in concepts(screening)


def test_entered_in_error_flurazepam_does_not_count() -> None:
    """CMS506 26aeca6a: flurazepam entered-in-error is ignored; the oxycodone still counts."""
    result, screening = screened(_find("CMS506FHIRSafeUseofOpioids/26aeca6a"))
    flurazepam = [m for m in result.case["medications"] if m.get("code") == "1298088"]
    assert [m["status"] for m in flurazepam] == ["entered-in-error"]
    assert "benzodiazepine" not in concepts(screening)
    assert "opioid" in concepts(screening)


def test_morphine_naltrexone_fires_opioid_and_naltrexone() -> None:
    """CMS506 412e213e: the morphine/naltrexone combination fires both classes."""
    _, screening = screened(_find("CMS506FHIRSafeUseofOpioids/412e213e"))
    assert {"opioid", "naltrexone"} <= concepts(screening)


def test_nereida_rogahn_pregnant_with_stale_weight() -> None:
    """An active Normal pregnancy condition fires pregnancy; the 2018 weight is stale."""
    result, screening = screened(_find("Nereida_Rogahn"))
    assert {"pregnancy", "stale-measurement"} <= concepts(screening)
    stale = next(w for w in result.warnings if w.code == "stale-weight")
    assert "2018-" in stale.message


def test_willia_runolfsdottir_implausible_pregnancy_is_flagged_not_dropped() -> None:
    """A 98-year-old's active tubal pregnancy still counts, with a data-quality warning."""
    result, screening = screened(_find("Willia_Runolfsdottir"))
    assert "pregnancy" in concepts(screening)
    warning = next(w for w in result.warnings if w.code == "pregnancy-implausible")
    assert "98 years old" in warning.message
    assert warning.resource is not None
    assert warning.resource.startswith("Condition/")


@pytest.mark.parametrize("path", [p for p in ECQM if "CMSFHIR529" not in str(p)
                                  and "6b3b4271" not in str(p)], ids=_id)
def test_ecqm_cases_without_weight_get_missing_weight_and_no_dose(path: Path) -> None:
    """Every eCQM case without a weight observation: missing-weight, and no dose."""
    result, screening = screened(path)
    assert "weight" not in result.case["measurements"]
    assert "missing-weight" in concepts(screening)
    assert screening.dose is None
    assert screening.decision in ("insufficient-data", "do-not-infuse")


@pytest.mark.parametrize(("prefix", "weight", "bp"), [
    ("CMSFHIR529HybridHospitalWideReadmission/cae21936", "165 lb", "140/80 mmHg"),
    ("CMSFHIR529HybridHospitalWideReadmission/51a09eb7", "150 lb", None),
    ("PCSBPScreeningFollowUpFHIR/2e19c32d", None, "160/90 mmHg"),
])
def test_ecqm_pounds_and_latest_reading(prefix: str, weight: str | None, bp: str | None) -> None:
    """[lb_av] weights become lb (latest one, not the amended 170 lb); the latest BP wins."""
    measurements = imported(_find(prefix)).case["measurements"]
    assert measurements.get("weight") == weight
    assert measurements.get("blood_pressure") == bp


def test_us_core_sex_unknown_and_stale_pregnancy_status() -> None:
    """US Core: no gender -> sex unknown with a warning; a year-old "Pregnant" status is stale,
    so the screening asks for a current status (missing-pregnancy-status for sex unknown)."""
    result, screening = screened(US_CORE)
    assert result.case["patient"]["sex"] == "unknown"
    missing = next(w for w in result.warnings if w.code == "missing-gender")
    assert "Female" in missing.message  # the individual-sex extension is shown, not used
    assert result.case["patient"]["pregnant"] == "unknown"
    assert "stale-pregnancy-status" in [w.code for w in result.warnings]
    finding = next(f for f in screening.findings if f.concept == "missing-pregnancy-status")
    assert "sex unknown" in finding.basis
    assert result.case["measurements"]["blood_pressure"] == "109/72 mmHg"  # 96607-7 (2023)


def test_us_core_current_pregnancy_status_fires_pregnancy() -> None:
    """Screened on the day of the 82810-3 observation, Pregnant (77386006) is pregnant yes."""
    result, screening = screened(US_CORE, date(2022, 8, 24))
    assert result.case["patient"]["pregnant"] == "yes"
    assert "pregnancy" in concepts(screening)
    assert "missing-pregnancy-status" not in concepts(screening)


def test_us_core_pregnancy_intent_text_is_not_read(tmp_path: Path) -> None:
    """Without the status observation, the intent observation's text "Pregnant" sets nothing."""
    folder = tmp_path / "us-core"
    shutil.copytree(US_CORE, folder)
    (folder / "observation-pregnancy-status.json").unlink()
    result = import_fhir(folder, as_of=date(2022, 8, 24))
    assert result.case["patient"]["pregnant"] == "unknown"


def test_ecqm_mislabelled_icd10_display_is_warned_and_coded_right() -> None:
    """CMS1028 95edf017: F10.10 displayed "Thyrotoxicosis" reads as alcohol use, with a warning."""
    result, screening = screened(_find("CMS1028FHIRPCSevereOBComps/95edf017"))
    assert "icd10-display-mismatch" in [w.code for w in result.warnings]
    assert "substance-use-disorder-active" in concepts(screening)
    assert "hyperthyroidism-uncontrolled" not in concepts(screening)


def test_ecqm_gender_other_is_sex_unknown() -> None:
    """CMS104 003b2da3: gender "other" -> sex unknown, with a warning."""
    result = imported(_find("CMS104FHIRSTKDCAntithrombotic/003b2da3"))
    assert result.case["patient"]["sex"] == "unknown"
    assert "gender-not-binary" in [w.code for w in result.warnings]


def test_ecqm_seventeen_year_old_is_under_18() -> None:
    """CMS506 1f3afad8, screened at its 2024-01-03 encounter, is 17: age-under-18."""
    _, screening = screened(_find("CMS506FHIRSafeUseofOpioids/1f3afad8"))
    assert "age-under-18" in concepts(screening)


def test_gilberto_orosco_refused_as_deceased_with_orders_after_death() -> None:
    """Deceased 1994 (Patient.deceasedDateTime): refused; active orders after death listed."""
    with pytest.raises(DeceasedPatientError) as refused:
        imported(_find("Gilberto_Orosco"))
    error = refused.value
    assert error.deceased_on == "1994-04-11"
    assert "1994-04-11" in str(error)
    codes = [w.code for w in error.warnings]
    assert codes.count("orders-after-death") >= 2


def test_discharge_disposition_deceased_is_refused() -> None:
    """CMS506 6b3b4271: death recorded only as discharge disposition 371828006 is refused."""
    with pytest.raises(DeceasedPatientError) as refused:
        imported(_find("CMS506FHIRSafeUseofOpioids/6b3b4271"))
    assert refused.value.resource is not None
    assert refused.value.resource.startswith("Encounter/")
    assert refused.value.deceased_on == "2026-01-05"
