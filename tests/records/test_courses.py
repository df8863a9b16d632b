"""Courses of infusions in the records: start, day-of checks, what the nurse records after an
infusion (with the thresholds' findings), show, export, immutability, roles and the audit trail;
on SQLite and PostgreSQL (``database_url``)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pypdf
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from ketascreen.errors import (
    PermissionDeniedError,
    RecordError,
    SameDaySigningError,
    SignedRecordImmutableError,
)
from ketascreen.models.course import Discharge, MonitoringReading
from ketascreen.models.parsing import CourseValidationError, load_course, parse_course
from ketascreen.records.content import content_of
from ketascreen.records.courseviews import (
    CourseNotFoundError,
    CourseStartError,
    InfusionNotSignedError,
    InfusionOrderError,
    InfusionRecordError,
    InfusionSignedError,
    InfusionState,
)
from ketascreen.records.monitoring import NotifyValues, discharge_findings, reading_findings
from ketascreen.records.repository import RecordStore
from ketascreen.records.settings import rules_in_force
from ketascreen.records.views import StoredScreening
from ketascreen.reports.output import OutputExistsError, SigningRequest
from ketascreen.screening import Screening, rule_set_in_force, run_course
from ketascreen.units import parse_blood_pressure
from tests.records.conftest import People, add_people
from tests.records.rawsql import raw
from tests.records.support import screening_of
from tests.records.support import signed_pdf as signed_pdf_of

COURSE_EXAMPLE = Path(__file__).resolve().parents[1] / "course" / "data" / "course-example.json"


def _day_of(number: int, start: str, **pre: Any) -> dict[str, Any]:
    """Infusion ``number``'s day-of object: the example course's first infusion without what is
    recorded after it, at ``start`` (fasting moved along), ``pre`` changed."""
    first = json.loads(COURSE_EXAMPLE.read_text(encoding="utf-8"))["infusions"][0]
    day = start[:10]
    infusion = {k: v for k, v in copy.deepcopy(first).items()
                if k not in ("monitoring", "rescue", "discharge")}
    infusion["number"], infusion["start"] = number, start
    infusion["pre"]["last_solids"] = f"{day}T01:00"
    infusion["pre"]["last_clear_fluids"] = f"{day}T07:00"
    infusion["pre"].update(pre)
    return infusion


class Clock:
    """The store's clock, moved on by the tests (a checklist per patient per local day)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def next_day(self, days: int = 1) -> None:
        """Move on ``days`` days."""
        self.now += timedelta(days=days)


@pytest.fixture
def clock() -> Clock:
    """The clock of :func:`clinic`."""
    return Clock()


@pytest.fixture
def clinic(database_url: str, clock: Clock) -> Iterator[RecordStore]:
    """A store on a fresh database with a clock the test moves on, in UTC."""
    opened = RecordStore.open(database_url, clock=clock, zone=UTC)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def staff(clinic: RecordStore, signing_request: SigningRequest) -> People:
    """Admin, physician (certificate registered) and nurses of :func:`clinic`."""
    return add_people(clinic, signing_request)


Sign = Callable[[Screening], bytes]


@pytest.fixture
def screened(clinic: RecordStore, staff: People, sign: Sign) -> StoredScreening:
    """The example screening, signed on 2026-11-25."""
    screening = screening_of()
    return clinic.create(staff.physician, screening, signed_pdf=sign(screening))


def _check_and_sign(clinic: RecordStore, staff: People, clock: Clock, sign: Sign,
                    course_id: str, infusion: dict[str, Any]) -> StoredScreening:
    """Store an infusion's day-of check on the next day, then sign its checklist."""
    clock.next_day()
    screening = clinic.screen_infusion(staff.physician, course_id, infusion)
    draft = clinic.check_infusion(staff.physician, course_id, infusion)
    assert draft.status == "draft"
    return clinic.sign(staff.physician, draft.record_id, sign(screening))


# -- the thresholds (no database) -------------------------------------------------------------

NOTIFY = NotifyValues.from_policy(rule_set_in_force().policy)


def _reading(**values: Any) -> MonitoringReading:
    return MonitoringReading.model_validate({"minute": 40, **values})


@pytest.mark.parametrize(("values", "limits"), [
    pytest.param({"blood_pressure": "140/90 mmHg"}, [], id="at-140/90-silent"),
    # the elevated 140/90 screening limit is not a notify value during an infusion (C8)
    pytest.param({"blood_pressure": "141/91 mmHg"}, [], id="above-140/90-silent"),
    pytest.param({"blood_pressure": "180/100 mmHg"}, [], id="at-180/100-silent"),
    pytest.param({"blood_pressure": "181/100 mmHg"}, ["systolic above 180 mmHg"],
                 id="systolic-181-severe"),
    pytest.param({"blood_pressure": "170/101 mmHg"}, ["diastolic above 100 mmHg"],
                 id="diastolic-101-severe"),
    pytest.param({"blood_pressure": "24/13 kPa"}, ["systolic above 180 mmHg"],
                 id="kPa-converted-severe"),
    pytest.param({"blood_pressure": "90/60 mmHg"}, [], id="systolic-90-silent"),
    pytest.param({"blood_pressure": "89/60 mmHg"}, ["systolic below 90 mmHg"],
                 id="systolic-89-notify"),
    pytest.param({"heart_rate": "50 /min"}, [], id="hr-50-silent"),
    pytest.param({"heart_rate": "49 /min"}, ["heart rate below 50 /min"], id="hr-49-notify"),
    pytest.param({"heart_rate": "150 /min"}, [], id="hr-150-silent"),
    pytest.param({"heart_rate": "151 /min"}, ["heart rate above 150 /min"], id="hr-151-notify"),
    pytest.param({"spo2": "93 %"}, [], id="spo2-93-silent"),
    pytest.param({"spo2": "92 %"}, ["SpO2 at or below 92 %"], id="spo2-92-notify"),
])
def test_notify_values_at_and_beyond(values: dict[str, str], limits: list[str]) -> None:
    """The clinic's notify values: silent at the value, a finding with the reading beyond it."""
    found = reading_findings(_reading(**values), 3, NOTIFY, baseline=None)
    assert [f.limit for f in found] == limits
    assert all(f.kind == "notify" and f.field.startswith("monitoring[3].") for f in found)
    assert all(f.value == next(iter(values.values())) and f.minute == 40 for f in found)


@pytest.mark.parametrize(("reading", "crossed"), [
    pytest.param("156/96 mmHg", [], id="upper-edge-silent"),
    pytest.param("157/96 mmHg", ["systolic more than 20 % above"], id="systolic-above"),
    pytest.param("156/97 mmHg", ["diastolic more than 20 % above"], id="diastolic-above"),
    pytest.param("104/64 mmHg", [], id="lower-edge-silent"),
    pytest.param("103/64 mmHg", ["systolic more than 20 % below"], id="systolic-below"),
    pytest.param("104/63 mmHg", ["diastolic more than 20 % below"], id="diastolic-below"),
])
def test_the_patients_band(reading: str, crossed: list[str]) -> None:
    """+/-20 % of a 130/80 baseline is 104-156 / 64-96 mmHg, exactly."""
    found = reading_findings(_reading(blood_pressure=reading), 0, NOTIFY,
                             baseline=parse_blood_pressure("130/80 mmHg"))
    band = [f for f in found if f.kind == "band"]
    assert [f.limit.split(" the patient")[0] for f in band] == crossed
    assert all("C32" in f.sources and f.field == "monitoring[0].blood_pressure" for f in band)


@pytest.mark.parametrize(("aldrete", "escort", "fields"), [
    pytest.param(9, "yes", [], id="aldrete-9-escort-silent"),
    pytest.param(8, "yes", ["discharge.aldrete"], id="aldrete-8"),
    pytest.param(10, "no", ["discharge.escort"], id="no-escort"),
    pytest.param(10, "unknown", ["discharge.escort"], id="escort-unknown"),
])
def test_discharge_criteria(aldrete: int, escort: str, fields: list[str]) -> None:
    """Aldrete 9 or more (R116) and an escort (C32), else a discharge finding."""
    found = discharge_findings(Discharge(minute=90, aldrete=aldrete, escort=escort))
    assert [f.field for f in found] == fields


# -- the store --------------------------------------------------------------------------------

def test_a_course_from_start_to_discharge(clinic: RecordStore, staff: People, clock: Clock,
                                          screened: StoredScreening, sign: Sign) -> None:
    """Start, check and sign infusion 1, the nurse records monitoring with a BP spike, rescue
    and discharge; the states and the findings show in ``course show``."""
    started = clinic.start_course(staff.physician, screened.record_id, plan=(6, 3))
    assert started.screening_record == screened.record_id
    assert [i.state for i in started.infusions] == [InfusionState.PLANNED] * 6
    course_id = started.course_id

    clock.next_day()
    draft = clinic.check_infusion(staff.physician, course_id, _day_of(1, "2026-11-26T09:00"))
    shown = clinic.course(staff.nurse, course_id)
    assert [i.state for i in shown.infusions][:2] == [InfusionState.CHECKED,
                                                      InfusionState.PLANNED]
    assert shown.infusions[0].record_id == draft.record_id
    assert shown.figures is not None and shown.figures["infusion"] == 1
    with pytest.raises(InfusionNotSignedError):
        clinic.record_after_infusion(staff.nurse, course_id, 1,
                                     monitoring=[{"minute": 0, "spo2": "98 %"}])
    screening = clinic.screen_infusion(staff.physician, course_id,
                                       _day_of(1, "2026-11-26T09:00"))
    assert content_of(screening).record_id == draft.record_id
    with pytest.raises(PermissionDeniedError):
        clinic.sign(staff.nurse, draft.record_id, sign(screening))
    clinic.sign(staff.physician, draft.record_id, sign(screening))
    assert clinic.course(staff.nurse, course_id).infusions[0].state is InfusionState.SIGNED

    found = clinic.record_after_infusion(staff.nurse, course_id, 1, monitoring=[
        {"minute": 0, "blood_pressure": "134/86 mmHg", "heart_rate": "72 /min",
         "spo2": "98 %", "moaas": 5},
        {"minute": 40, "blood_pressure": "192/112 mmHg", "heart_rate": "88 /min",
         "spo2": "97 %", "moaas": 4}])
    # baseline 132/84 (the day's own): band 105.6-158.4 / 67.2-100.8 mmHg
    assert [(f.kind, f.field, f.minute) for f in found] == [
        ("notify", "monitoring[1].blood_pressure", 40),
        ("notify", "monitoring[1].blood_pressure", 40),
        ("band", "monitoring[1].blood_pressure", 40),
        ("band", "monitoring[1].blood_pressure", 40)]
    assert all(f.value == "192/112 mmHg" for f in found)
    assert clinic.course(staff.nurse, course_id).infusions[0].state is InfusionState.INFUSED
    clinic.record_after_infusion(staff.nurse, course_id, 1,
                                 rescue=[{"drug": "ondansetron", "dose": "4 mg", "minute": 45}])
    found = clinic.record_after_infusion(staff.nurse, course_id, 1,
                                         discharge={"minute": 90, "aldrete": 8, "escort": "yes"})
    assert [f.field for f in found] == ["discharge.aldrete"]
    with pytest.raises(InfusionRecordError, match="recorded already"):
        clinic.record_after_infusion(staff.nurse, course_id, 1,
                                     discharge={"minute": 95, "aldrete": 9, "escort": "yes"})

    shown = clinic.course(staff.physician, course_id)
    first = shown.infusions[0]
    assert first.state is InfusionState.DISCHARGED
    assert (first.monitoring, first.rescue, first.discharged) == (2, 1, True)
    assert len(first.findings) == 5
    data = shown.as_json()
    assert data["plan"] == {"infusions": 6, "weeks": 3}
    assert [i["state"] for i in data["infusions"]] == ["discharged"] + ["planned"] * 5
    actions = [e.action for e in clinic.course_events(staff.physician, course_id)]
    assert actions == ["course-start", "infusion-check", "monitoring", "monitoring", "rescue",
                       "discharge"]

    report = clinic.verify_audit()
    assert report.ok, report
    assert report.rows_checked >= 4 + 1 + 2 + 1 + 1 + 1 + 4  # ... course, infusion, 4 entries


def test_values_are_validated_with_their_units_and_field_paths(
        clinic: RecordStore, staff: People, clock: Clock, screened: StoredScreening,
        sign: Sign) -> None:
    """A unitless reading, a reading out of minute order, an unknown key: refused, naming the
    field; nothing stored."""
    course_id = clinic.start_course(staff.physician, screened.record_id).course_id
    _check_and_sign(clinic, staff, clock, sign, course_id, _day_of(1, "2026-11-26T09:00"))
    with pytest.raises(CourseValidationError) as error:
        clinic.record_after_infusion(staff.nurse, course_id, 1,
                                     monitoring=[{"minute": 10, "blood_pressure": "152/94"}])
    assert [p.field for p in error.value.problems] == ["infusions[0].monitoring[0].blood_pressure"]
    clinic.record_after_infusion(staff.nurse, course_id, 1,
                                 monitoring=[{"minute": 30, "heart_rate": "80 /min"}])
    with pytest.raises(CourseValidationError, match=r"infusions\[0\]\.monitoring"):
        clinic.record_after_infusion(staff.nurse, course_id, 1,
                                     monitoring=[{"minute": 20, "heart_rate": "80 /min"}])
    with pytest.raises(CourseValidationError, match=r"infusions\[0\]\.rescue\[0\]"):
        clinic.record_after_infusion(staff.nurse, course_id, 1,
                                     rescue=[{"drug": "ondansetron", "dose": "4",
                                              "minute": 15}])
    clock.next_day()
    with pytest.raises(CourseValidationError, match=r"infusions\[1\]\.pre\.weight"):
        clinic.check_infusion(staff.physician, course_id,
                              _day_of(2, "2026-11-28T09:00", weight="187"))
    assert clinic.course(staff.nurse, course_id).infusions[0].monitoring == 1


def test_start_needs_a_signed_current_screening(clinic: RecordStore, staff: People,
                                                clock: Clock, screened: StoredScreening,
                                                sign: Sign) -> None:
    """A draft and a screening replaced by an amendment are refused (recorded); an unknown
    course is a typed error."""
    clock.next_day()
    corrected = screening_of({"measurements.weight": "189 lb"})
    amendment = clinic.amend(staff.physician, screened.record_id, corrected,
                             signed_pdf=sign(corrected), reason="weight re-measured")
    with pytest.raises(CourseStartError, match=f"amended by {amendment.record_id}") as replaced:
        clinic.start_course(staff.physician, screened.record_id)
    assert replaced.value.superseded_by == amendment.record_id
    assert clinic.start_course(staff.physician, amendment.record_id).screening_record == \
        amendment.record_id
    draft = clinic.create(staff.physician, screening_of({"measurements.weight": "190 lb"}))
    with pytest.raises(CourseStartError, match="not signed") as error:
        clinic.start_course(staff.physician, draft.record_id)
    assert error.value.status == "draft"
    assert [e.action for e in clinic.events(staff.physician, draft.record_id)
            if e.outcome == "refused"] == ["course-start"]
    with pytest.raises(CourseNotFoundError):
        clinic.course(staff.physician, "KC-000000000000")


def test_roles(clinic: RecordStore, staff: People, clock: Clock, screened: StoredScreening,
               sign: Sign) -> None:
    """Physicians start courses and check infusions; nurses record monitoring; admins
    neither; each refusal is audited."""
    for actor in (staff.nurse, staff.admin):
        with pytest.raises(PermissionDeniedError):
            clinic.start_course(actor, screened.record_id)
    course_id = clinic.start_course(staff.physician, screened.record_id).course_id
    for actor in (staff.nurse, staff.admin):
        with pytest.raises(PermissionDeniedError):
            clinic.check_infusion(actor, course_id, _day_of(1, "2026-11-26T09:00"))
    infusion = _check_and_sign(clinic, staff, clock, sign, course_id,
                               _day_of(1, "2026-11-26T09:00"))
    with pytest.raises(CourseStartError, match="screening of an infusion"):
        clinic.start_course(staff.physician, infusion.record_id)
    reading = [{"minute": 0, "spo2": "98 %"}]
    for actor in (staff.physician, staff.admin):
        with pytest.raises(PermissionDeniedError):
            clinic.record_after_infusion(actor, course_id, 1, monitoring=reading)
    with pytest.raises(PermissionDeniedError):
        clinic.course(staff.admin, course_id)
    clinic.record_after_infusion(staff.nurse2, course_id, 1, monitoring=reading)
    refused = [(e.username, e.action) for e in clinic.course_events(staff.physician, course_id)
               if e.outcome == "refused"]
    assert refused == [("rnpatel", "screen"), ("admin", "screen"),
                       ("drsmith", "record-monitoring"), ("admin", "record-monitoring"),
                       ("admin", "view-courses")]


def test_a_signed_infusion_is_never_changed(clinic: RecordStore, staff: People, clock: Clock,
                                            screened: StoredScreening, sign: Sign,
                                            database_url: str) -> None:
    """Checking a signed infusion again is refused (amend it: the amendment links); a draft
    is checked again; the course tables refuse UPDATE and DELETE in the database."""
    course_id = clinic.start_course(staff.physician, screened.record_id).course_id
    signed = _check_and_sign(clinic, staff, clock, sign, course_id,
                             _day_of(1, "2026-11-26T09:00"))
    with pytest.raises(SignedRecordImmutableError):
        clinic.check_infusion(staff.physician, course_id,
                              _day_of(1, "2026-11-26T09:00", weight="188 lb"))
    with pytest.raises(InfusionOrderError):
        clinic.check_infusion(staff.physician, course_id, _day_of(3, "2026-11-28T09:00"))
    clock.next_day()
    corrected = _day_of(1, "2026-11-26T09:00", weight="188 lb")
    plain = screening_of({"measurements.weight": "188 lb"})
    with pytest.raises(RecordError, match="amend the infusion"):
        clinic.amend(staff.physician, signed.record_id, plain, signed_pdf=sign(plain),
                     reason="weight")
    amendment = clinic.amend_infusion(
        staff.physician, course_id, corrected, reason="weight re-measured",
        signed_pdf=sign(_amended(clinic, staff, course_id, corrected)))
    assert amendment.amends == signed.record_id
    first = clinic.course(staff.physician, course_id).infusions[0]
    assert (first.record_id, first.current_record_id) == (amendment.record_id,
                                                          amendment.record_id)
    assert clinic.get(staff.physician, signed.record_id).superseded_by == amendment.record_id

    clock.next_day()
    draft = clinic.check_infusion(staff.physician, course_id, _day_of(2, "2026-11-28T09:00"))
    concept = next(iter(clinic.get(staff.physician, draft.record_id).result().findings),
                   None)
    with pytest.raises(RecordError, match="infusion of a course"):
        clinic.acknowledge(staff.physician, draft.record_id,
                           concept=concept.concept if concept else "x", reason="seen")
    with pytest.raises(RecordError, match="infusion of a course"):
        clinic.update_draft(staff.physician, draft.record_id, screening_of())
    again = clinic.check_infusion(staff.physician, course_id,
                                  _day_of(2, "2026-11-28T09:00", weight="190 lb"))
    assert again.record_id != draft.record_id
    assert clinic.course(staff.physician, course_id).infusions[1].record_id == again.record_id

    for statement in ("UPDATE courses SET plan_infusions = 9",
                      "DELETE FROM courses",
                      "UPDATE course_infusions SET infusion_json = '{}'",
                      "DELETE FROM course_infusions"):
        with pytest.raises(IntegrityError, match=r"never changed"), \
                raw(database_url) as connection:
            connection.execute(text(statement))
    assert clinic.verify_audit().ok


def _amended(clinic: RecordStore, staff: People, course_id: str,
             corrected: dict[str, Any]) -> Screening:
    """The screening of a corrected infusion as :meth:`RecordStore.amend_infusion` stores it."""
    state = clinic.course_document(staff.physician, course_id).model_dump(
        mode="json", exclude_none=True)
    state["infusions"][corrected["number"] - 1] = corrected
    return run_course(parse_course(state), infusion=corrected["number"],
                      rules=rules_in_force(clinic), last_signed=corrected["number"] - 1)


def test_export_round_trip(clinic: RecordStore, staff: People, clock: Clock,
                           screened: StoredScreening, sign: Sign, tmp_path: Path,
                           database_url: str) -> None:
    """The exported file is a valid ketascreen-course/1 that screens each infusion to the result
    stored for it; the monitoring records are append-only in the database."""
    course_id = clinic.start_course(staff.physician, screened.record_id, plan=(6, 3)).course_id
    first = _check_and_sign(clinic, staff, clock, sign, course_id,
                            _day_of(1, "2026-11-26T09:00"))
    clinic.record_after_infusion(
        staff.nurse, course_id, 1,
        monitoring=[{"minute": 40, "blood_pressure": "190/100 mmHg", "heart_rate": "80 /min"}],
        discharge={"minute": 90, "aldrete": 10, "escort": "yes"})
    clock.next_day()
    second = clinic.check_infusion(staff.physician, course_id,
                                   _day_of(2, "2026-11-28T09:00",
                                           phq9=[1, 1, 1, 1, 1, 1, 1, 1, 2]))
    concepts = {f.concept for f in clinic.get(staff.physician, second.record_id).result().findings}
    assert {"prior-severe-hypertension", "suicidal-ideation"} <= concepts
    out = tmp_path / "course.json"
    assert clinic.export_course(staff.nurse, course_id, out) is False
    with pytest.raises(OutputExistsError):
        clinic.export_course(staff.nurse, course_id, out)
    course = load_course(out)
    assert course.screening_record == screened.record_id
    assert len(course.infusions) == 2
    assert course.infusion(1).monitoring[0].blood_pressure == "190/100 mmHg"
    ruleset = rules_in_force(clinic)
    for number, stored in ((1, first), (2, second)):
        again = content_of(run_course(course, infusion=number, rules=ruleset,
                                      last_signed=number - 1), ruleset)
        assert again.result_json == clinic.get(staff.physician, stored.record_id).result_json
        assert again.record_id == stored.record_id
    for statement in ("UPDATE infusion_records SET entry_json = '{}'",
                      "DELETE FROM infusion_records"):
        with pytest.raises(IntegrityError, match=r"append-only"), \
                raw(database_url) as connection:
            connection.execute(text(statement))
    assert [e.action for e in clinic.course_events(staff.nurse, course_id)][-1] == "course-export"
    assert clinic.verify_audit().ok


def test_course_show_lists_many_courses(clinic: RecordStore, staff: People,
                                        screened: StoredScreening) -> None:
    """Courses of a patient, oldest first; each shown on its own."""
    ids = [clinic.start_course(staff.physician, screened.record_id).course_id
           for _ in range(3)]
    assert clinic.courses_of_patient(staff.nurse, screened.patient.patient_id) == ids
    assert clinic.course(staff.nurse, ids[1].lower()).course_id == ids[1]
    assert clinic.course(staff.nurse, ids[1]).infusions == ()



# -- the command line -------------------------------------------------------------------------

def started_course(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch,
                   signing_request: SigningRequest, capsys: pytest.CaptureFixture[str],
                   *plan: str) -> tuple[Any, str]:
    """A command-line clinic and a course started (``course start RECORD_ID *plan``) after a
    screening signed yesterday."""
    from ketascreen.cli import main
    from tests.records.test_cli_records import _as
    from tests.records.test_cli_records import clinic as make_clinic

    clinic = make_clinic.__wrapped__(tmp_path, database_url, monkeypatch, signing_request,
                                     capsys)
    yesterday = Clock()
    yesterday.now = datetime.now(UTC) - timedelta(days=1)
    with RecordStore.open(database_url, clock=yesterday) as store:
        physician = store.authenticate("drsmith", "drsmith-password-123")
        first = screening_of()
        record = store.create(physician, first,
                              signed_pdf=signed_pdf_of(first, signing_request)).record_id
    assert main(["course", "start", record, *plan, *_as(clinic, "drsmith")]) == 0
    return clinic, capsys.readouterr().out.strip()


def test_command_line(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch,
                      signing_request: SigningRequest, capsys: pytest.CaptureFixture[str]
                      ) -> None:
    """course start/show/export and infusion check/record; a nurse may not check, a value
    without its unit is refused naming its field, the export screens with ``screen``."""
    from ketascreen.cli import main
    from tests.records.test_cli_records import _as

    clinic, course_id = started_course(tmp_path, database_url, monkeypatch, signing_request,
                                       capsys, "--plan", "6", "3")
    infusion_file = tmp_path / "infusion-1.json"
    infusion_file.write_text(json.dumps(_day_of(1, "2026-11-26T09:00")), encoding="utf-8")
    assert main(["infusion", "check", course_id, str(infusion_file),
                 *_as(clinic, "rnpatel")]) == 4
    assert "may not screen" in capsys.readouterr().err
    assert main(["infusion", "check", course_id, str(infusion_file),
                 *_as(clinic, "drsmith")]) == 0  # checked as a draft, then signed unchanged
    draft = capsys.readouterr()
    assert "(draft, decision clear)" in draft.err, draft
    checklist = tmp_path / "infusion-1.pdf"
    signing = ["--pdf", str(checklist), "--sign", str(clinic.key), "--passphrase-file",
               str(clinic.passphrase)]
    monkeypatch.setenv("KETASCREEN_CLINIC", "Riverside Ketamine Clinic")
    assert main(["infusion", "check", course_id, str(infusion_file), *signing,
                 *_as(clinic, "drsmith")]) == 0
    signed = capsys.readouterr()
    assert "(signed, decision clear)" in signed.err, signed
    assert draft.out.startswith("KS-") and draft.out == signed.out  # the draft itself signed
    # The clinic's name is printed on the infusion checklist as on the screening's.
    page = pypdf.PdfReader(checklist).pages[0].extract_text()
    assert "Riverside Ketamine Clinic" in page
    assert main(["infusion", "check", course_id, str(infusion_file), *signing, "--force",
                 *_as(clinic, "drsmith")]) == 2  # signed: never changed (amend it)
    assert "never changed" in capsys.readouterr().err

    assert main(["infusion", "record", course_id, "1", "--minute", "40", "--bp", "192/112",
                 *_as(clinic, "rnpatel")]) == 2
    assert "infusions[0].monitoring[0].blood_pressure" in capsys.readouterr().err
    assert main(["infusion", "record", course_id, "1", "--minute", "40", "--bp",
                 "192/112 mmHg", "--hr", "88 /min", "--rescue", "ondansetron", "4 mg", "45",
                 "--discharge", "90", "10", "yes", *_as(clinic, "rnpatel")]) == 0
    out = capsys.readouterr().out
    assert out.count("FINDING") == 4 and "systolic above 180 mmHg" in out
    assert main(["course", "show", course_id, "--json", *_as(clinic, "rnpatel")]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [i["state"] for i in shown["infusions"]] == ["discharged"] + ["planned"] * 5
    assert main(["course", "show", course_id, *_as(clinic, "rnpatel")]) == 0
    text_view = capsys.readouterr().out
    assert "discharged" in text_view and "FINDING minute 40" in text_view
    exported = tmp_path / "course.json"
    assert main(["course", "export", course_id, "-o", str(exported),
                 *_as(clinic, "rnpatel")]) == 0
    assert load_course(exported).infusion(1).discharge is not None
    capsys.readouterr()
    assert main(["screen", str(exported), "--json"]) in (0, 1)
    assert json.loads(capsys.readouterr().out)["course"]["infusion"] == 1


def _check_acknowledge_sign(clinic: RecordStore, staff: People, clock: Clock, sign: Sign,
                            course_id: str, infusion: dict[str, Any]
                            ) -> tuple[StoredScreening, set[str]]:
    """Check an infusion; if it needs review, check it again with each relative finding
    acknowledged (a draft is checked again), then sign it on a day of its own. Returns the
    signed record and the concepts found at the first check."""
    clock.next_day()
    draft = clinic.check_infusion(staff.physician, course_id, infusion)
    findings = clinic.get(staff.physician, draft.record_id).result().findings
    found = {f.concept for f in findings}
    if draft.decision != "clear":
        infusion = {**infusion, "acknowledgements": [
            {"concept": f.concept, "reason": "Reviewed with the patient today."}
            for f in findings if f.severity == "relative"]}
        draft = clinic.check_infusion(staff.physician, course_id, infusion)
    assert draft.decision == "clear", draft
    screening = clinic.screen_infusion(staff.physician, course_id, infusion)
    return clinic.sign(staff.physician, draft.record_id, sign(screening)), found


def test_six_infusions_end_to_end(clinic: RecordStore, staff: People, clock: Clock,
                                  screened: StoredScreening, sign: Sign, tmp_path: Path
                                  ) -> None:
    """Screening -> course start -> six infusions across a month end: a new opioid, a weight
    typed in kg instead of lb (caught by weight-change, checked again), PHQ-9 item 9 = 2, a BP
    spike recorded (the next infusion shows prior-severe-hypertension) -> export -> every
    infusion screens to the result stored for it."""
    course_id = clinic.start_course(staff.physician, screened.record_id, plan=(6, 3)).course_id
    starts = ["2026-11-26T09:00", "2026-11-29T09:00", "2026-12-02T09:00", "2026-12-05T09:00",
              "2026-12-08T09:00", "2026-12-11T09:00"]
    opioid = [*screened.case().model_dump(mode="json", exclude_none=True)["medications"],
              {"text": "Tramadol 50 mg tablet", "status": "active"}]
    changes: dict[int, dict[str, Any]] = {3: {"medications": opioid},
                                          5: {"phq9": [1, 1, 1, 1, 1, 1, 1, 1, 2]}}
    signed: dict[int, StoredScreening] = {}
    found: dict[int, set[str]] = {}
    for number, start in enumerate(starts, 1):
        if number == 4:
            clock.next_day()
            slip = clinic.check_infusion(staff.physician, course_id,
                                         _day_of(4, start, weight="187 kg"))
            found[40] = {f.concept for f in
                         clinic.get(staff.physician, slip.record_id).result().findings}
        signed[number], found[number] = _check_acknowledge_sign(
            clinic, staff, clock, sign, course_id, _day_of(number, start,
                                                          **changes.get(number, {})))
        reading = "192/112 mmHg" if number == 1 else "150/92 mmHg"
        clinic.record_after_infusion(staff.nurse, course_id, number,
                                     monitoring=[{"minute": 40, "blood_pressure": reading}],
                                     discharge={"minute": 90, "aldrete": 10, "escort": "yes"})
    assert "prior-severe-hypertension" in found[2]
    assert "medication-change" in found[3]
    assert "weight-change" in found[40] and "weight-change" not in found[4]
    assert "suicidal-ideation" in found[5]
    assert "suicidal-ideation" not in found[4] | found[6]
    shown = clinic.course(staff.nurse, course_id)
    assert [i.state for i in shown.infusions] == [InfusionState.DISCHARGED] * 6
    assert shown.figures is not None and shown.figures["infusion"] == 6

    out = tmp_path / "course.json"
    clinic.export_course(staff.nurse, course_id, out)
    course = load_course(out)
    ruleset = rules_in_force(clinic)
    for number, stored in signed.items():
        again = content_of(run_course(course, infusion=number, rules=ruleset,
                                      last_signed=number - 1), ruleset)
        assert again.record_id == stored.record_id, number
    assert clinic.verify_audit().ok


# -- one signed checklist per document: the screening per day, an infusion once --------------

def test_infusion_one_is_signed_the_day_of_the_screening(
        clinic: RecordStore, staff: People, clock: Clock, screened: StoredScreening,
        sign: Sign) -> None:
    """Infusion 1's checklist is signed the same day as the screening (stored signed, and a
    draft signed later); a second SCREENING checklist that day is still refused, naming the
    screening, not the infusion."""
    course_id = clinic.start_course(staff.physician, screened.record_id).course_id
    infusion = _day_of(1, "2026-11-25T16:00")
    first = clinic.check_infusion(staff.physician, course_id, infusion,
                                  signed_pdf=sign(clinic.screen_infusion(staff.physician,
                                                                         course_id, infusion)))
    assert first.is_signed
    other_course = clinic.start_course(staff.physician, screened.record_id).course_id
    infusion = _day_of(1, "2026-11-25T16:30", weight="188 lb")  # else the same record
    draft = clinic.check_infusion(staff.physician, other_course, infusion)
    screening = clinic.screen_infusion(staff.physician, other_course, infusion)
    assert clinic.sign(staff.physician, draft.record_id, sign(screening)).is_signed

    second = screening_of({"measurements.weight": "188 lb"})
    with pytest.raises(SameDaySigningError) as raised:
        clinic.create(staff.physician, second, signed_pdf=sign(second))
    assert not isinstance(raised.value, InfusionSignedError)
    assert raised.value.record_id == screened.record_id
    assert "already has a checklist signed today" in raised.value.reason
    assert f"--amends {screened.record_id}" in raised.value.how_to_amend
    clock.next_day()  # the next local day it is signed
    assert clinic.create(staff.physician, second, signed_pdf=sign(second)).is_signed
    assert clinic.verify_audit().ok


def test_an_infusion_is_signed_once(clinic: RecordStore, staff: People, clock: Clock,
                                    screened: StoredScreening, sign: Sign) -> None:
    """A replaced draft of a signed infusion is not signed as a second checklist of it, on any
    day: refused naming the signed record and the way to amend, and recorded."""
    course_id = clinic.start_course(staff.physician, screened.record_id).course_id
    _check_and_sign(clinic, staff, clock, sign, course_id, _day_of(1, "2026-11-26T09:00"))
    clock.next_day(2)
    stale = _day_of(2, "2026-11-28T09:00")
    stale_draft = clinic.check_infusion(staff.physician, course_id, stale)
    stale_pdf = sign(clinic.screen_infusion(staff.physician, course_id, stale))
    fresh = _day_of(2, "2026-11-28T09:00", weight="190 lb")
    fresh_draft = clinic.check_infusion(staff.physician, course_id, fresh)
    assert fresh_draft.record_id != stale_draft.record_id
    signed = clinic.sign(staff.physician, fresh_draft.record_id,
                         sign(clinic.screen_infusion(staff.physician, course_id, fresh)))
    for days in (0, 1):  # the same day and the next: one signed checklist per infusion
        clock.next_day(days)
        with pytest.raises(InfusionSignedError) as raised:
            clinic.sign(staff.physician, stale_draft.record_id, stale_pdf)
        error = raised.value
        assert (error.record_id, error.course_id, error.number) == (signed.record_id,
                                                                    course_id, 2)
        assert f"infusion 2 of course {course_id} already has a signed checklist" in error.reason
        assert "amend infusion 2" in error.how_to_amend
    assert clinic.get(staff.physician, stale_draft.record_id).status == "draft"
    refusals = [e for e in clinic.events(staff.physician, stale_draft.record_id)
                if e.outcome == "refused" and e.action == "sign"]
    assert len(refusals) == 2
    assert clinic.course(staff.physician, course_id).infusions[1].record_id == signed.record_id
    assert clinic.verify_audit().ok


def test_the_same_infusion_in_another_course_is_not_the_same_document(
        clinic: RecordStore, staff: People, clock: Clock, screened: StoredScreening,
        sign: Sign) -> None:
    """The twin: infusion 1 of a second course is signed though the first's is (its own)."""
    first = clinic.start_course(staff.physician, screened.record_id).course_id
    second = clinic.start_course(staff.physician, screened.record_id).course_id
    a = _check_and_sign(clinic, staff, clock, sign, first, _day_of(1, "2026-11-26T09:00"))
    b = _check_and_sign(clinic, staff, clock, sign, second, _day_of(1, "2026-11-27T09:00"))
    assert a.is_signed and b.is_signed and a.record_id != b.record_id


# -- the FHIR export and `screen COURSE --save` -----------------------------------------------

def test_fhir_export_in_the_clinics_zone(clinic: RecordStore, staff: People, clock: Clock,
                                         screened: StoredScreening, sign: Sign, tmp_path: Path,
                                         database_url: str) -> None:
    """The Bundle validates as FHIR, carries the course's scores and vitals back through the
    importer, is written in the store's time zone, and is not overwritten without force."""
    from fhir.resources.R4B.bundle import Bundle

    from ketascreen.fhir import import_fhir
    from ketascreen.records.course_export import export_course_fhir

    course_id = clinic.start_course(staff.physician, screened.record_id).course_id
    _check_and_sign(clinic, staff, clock, sign, course_id,
                    _day_of(1, "2026-11-26T09:00", phq9=[2, 2, 2, 2, 2, 2, 2, 2, 0]))
    clinic.record_after_infusion(staff.nurse, course_id, 1, monitoring=[
        {"minute": 40, "blood_pressure": "150/92 mmHg", "heart_rate": "80 /min"}])
    out = tmp_path / "bundle.json"
    assert export_course_fhir(clinic, staff.nurse, course_id, out) is False
    text_before = out.read_bytes()
    with pytest.raises(OutputExistsError):
        export_course_fhir(clinic, staff.nurse, course_id, out)
    assert out.read_bytes() == text_before
    bundle = json.loads(text_before)
    Bundle.model_validate(bundle)
    times = {e["resource"].get("effectiveDateTime") for e in bundle["entry"]} - {None}
    assert "2026-11-26T09:40:00+00:00" in times  # the store's zone is UTC
    imported = import_fhir(out, as_of=datetime(2026, 12, 31).date())
    pre = clinic.course_document(staff.nurse, course_id).infusion(1).pre
    assert [(s.scale, s.value) for s in imported.scores] == [
        ("phq9", [2, 2, 2, 2, 2, 2, 2, 2, 0]), ("gad7", pre.gad7)]
    assert ("blood_pressure", "150/92 mmHg") in [(v.kind, v.value) for v in imported.vitals]

    with RecordStore.open(database_url, clock=clock, zone=ZoneInfo("America/New_York")
                          ) as new_york:
        assert export_course_fhir(new_york, staff.nurse, course_id, out, force=True) is True
    times = {e["resource"].get("effectiveDateTime")
             for e in json.loads(out.read_text(encoding="utf-8"))["entry"]} - {None}
    assert "2026-11-26T09:40:00-05:00" in times
    actions = [e.action for e in clinic.course_events(staff.nurse, course_id)]
    assert actions[-2:] == ["course-export-fhir", "course-export-fhir"]
    assert clinic.verify_audit().ok


def test_command_line_fhir_export_and_screen_save_of_a_course(
        tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch,
        signing_request: SigningRequest, capsys: pytest.CaptureFixture[str]) -> None:
    """``course export ID --fhir OUT`` (refused over a file without --force, exit 2);
    ``screen COURSE.json --save`` is refused naming ``infusion check`` and stores nothing,
    while a case file is still saved."""
    from fhir.resources.R4B.bundle import Bundle

    from ketascreen.cli import main
    from tests.records.test_cli_records import _as, write_case

    clinic, course_id = started_course(tmp_path, database_url, monkeypatch, signing_request,
                                       capsys)
    infusion_file = tmp_path / "infusion-1.json"
    infusion_file.write_text(json.dumps(_day_of(1, "2026-11-26T09:00")), encoding="utf-8")
    assert main(["infusion", "check", course_id, str(infusion_file),
                 *_as(clinic, "drsmith")]) == 0
    bundle = tmp_path / "bundle.json"
    assert main(["course", "export", course_id, "--fhir", str(bundle),
                 *_as(clinic, "rnpatel")]) == 0
    assert "FHIR R4 Bundle" in capsys.readouterr().err
    Bundle.model_validate(json.loads(bundle.read_text(encoding="utf-8")))
    assert main(["course", "export", course_id, "--fhir", str(bundle),
                 *_as(clinic, "rnpatel")]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["course", "export", course_id, "--fhir", str(bundle), "--force",
                 *_as(clinic, "rnpatel")]) == 0
    assert "warning: replaced" in capsys.readouterr().err
    exported = tmp_path / "course.json"
    assert main(["course", "export", course_id, "-o", str(exported),
                 *_as(clinic, "rnpatel")]) == 0
    assert main(["course", "export", course_id, "-o", str(exported),
                 *_as(clinic, "rnpatel")]) == 2
    capsys.readouterr()

    with RecordStore.open(database_url) as store:
        before = len(store.list_records(store.authenticate("drsmith", "drsmith-password-123")))
    assert main(["screen", str(exported), "--save", *_as(clinic, "drsmith")]) == 2
    err = capsys.readouterr().err
    assert "is a course file" in err and "ketascreen infusion check COURSE_ID" in err
    case = write_case(tmp_path, {"measurements.weight": "188 lb"})
    assert main(["screen", str(case), "--save", *_as(clinic, "drsmith")]) == 0
    assert "(draft)" in capsys.readouterr().err
    with RecordStore.open(database_url) as store:
        after = store.list_records(store.authenticate("drsmith", "drsmith-password-123"))
    assert len(after) == before + 1


# -- a draft infusion signed unchanged --------------------------------------------------------

def _course_events(database_url: str, course_id: str) -> list[str]:
    """The actions of the audit events of course ``course_id``, in order."""
    with raw(database_url) as connection:
        return [row[0] for row in connection.execute(text(
            "SELECT action FROM audit_events WHERE record_id = :id ORDER BY seq"),
            {"id": course_id})]


def test_a_draft_infusion_checked_again_unchanged_with_its_signed_checklist_is_signed(
        clinic: RecordStore, staff: People, clock: Clock, screened: StoredScreening,
        sign: Sign, database_url: str) -> None:
    """The physician checks infusion 1 as a draft, then signs it unchanged: the draft itself
    is signed (no second link of its screening, one trail as for a screening's draft signed
    later); the twin, a changed draft, still replaces it."""
    course_id = clinic.start_course(staff.physician, screened.record_id).course_id
    clock.next_day()
    infusion = _day_of(1, "2026-11-26T09:00")
    draft = clinic.check_infusion(staff.physician, course_id, infusion)
    screening = clinic.screen_infusion(staff.physician, course_id, infusion)
    # a change its screening does not hold (the free text): refused, the draft left as it is
    retold = _day_of(1, "2026-11-26T09:00", since_last="Slept badly.")
    with pytest.raises(RecordError, match=r"does not hold \(pre\.since_last\)"):
        clinic.check_infusion(staff.physician, course_id, retold, signed_pdf=sign(
            clinic.screen_infusion(staff.physician, course_id, retold)))
    assert clinic.get(staff.physician, draft.record_id).status == "draft"
    signed = clinic.check_infusion(staff.physician, course_id, infusion,
                                   signed_pdf=sign(screening))
    assert (signed.record_id, signed.status) == (draft.record_id, "signed")
    first = clinic.course(staff.physician, course_id).infusions[0]
    assert (first.record_id, first.current_record_id) == (draft.record_id, draft.record_id)
    assert first.state is InfusionState.SIGNED
    assert _course_events(database_url, course_id) == ["course-start", "infusion-check"]
    # the app's warning follows the store's rule: an infusion's checklist is no screening's
    assert clinic.signed_today_for_patient(staff.physician, "MRN-0042") is None
    before = clinic.signed_today_for_patient(staff.physician, "MRN-0042",
                                             clock.now.date() - timedelta(days=1))
    assert before is not None and before.record_id == screened.record_id
    actions = [e.action for e in clinic.events(staff.physician, draft.record_id)
               if e.outcome != "refused"]
    assert actions.count("sign") == 1
    with pytest.raises(SignedRecordImmutableError):  # and now it is never changed
        clinic.check_infusion(staff.physician, course_id, infusion,
                              signed_pdf=sign(screening))
    assert clinic.verify_audit().ok

    clock.next_day(2)  # the twin: a changed draft is replaced by a new row
    second = _day_of(2, "2026-11-28T09:00")
    draft_2 = clinic.check_infusion(staff.physician, course_id, second)
    changed = _day_of(2, "2026-11-28T09:00", heart_rate="72 /min")
    signed_2 = clinic.check_infusion(
        staff.physician, course_id, changed,
        signed_pdf=sign(clinic.screen_infusion(staff.physician, course_id, changed)))
    assert signed_2.record_id != draft_2.record_id
    assert clinic.course(staff.physician, course_id).infusions[1].record_id == signed_2.record_id
    assert _course_events(database_url, course_id)[-2:] == ["infusion-check", "infusion-check"]
