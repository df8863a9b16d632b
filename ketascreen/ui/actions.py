"""The desktop app's only door into the core: small keyword-only action functions.

Each user action (screen the form, open or save a case file, import a FHIR record, read a
certificate, sign the checklist) is one short function here that calls one core entry point and
hands back plain data or a typed core error. Widgets never call the core themselves and hold no
clinical logic; nothing in this module imports Qt, so every action is testable without a display
(Anki's ``aqt/operations`` layering).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ketascreen.api import parse_case, parse_case_json
from ketascreen.display import format_number, format_quantity
from ketascreen.errors import CaseValidationError, FieldProblem, InputFileError, UnitInputError
from ketascreen.models.case import RXNORM, Case, Condition, Medication
from ketascreen.reports.checklist import (
    DECISION_LABELS,
    SIGNATURE_MEANING,
    canonical_json,
    dose_box_from,
    record_id_for,
)
from ketascreen.rules import RuleSet, default_ruleset
from ketascreen.rules.scores import audit_c_total, dast10_total
from ketascreen.units import Dimension, magnitude_in, parse_blood_pressure, parse_quantity

if TYPE_CHECKING:
    from ketascreen.reports.output import StagedFile
    from ketascreen.reports.signing import SignerIdentity, Verification
    from ketascreen.rules.engine import Screening

Decision = Literal["do-not-infuse", "insufficient-data", "needs-review", "clear"]
PageSize = Literal["letter", "a4"]
MeasurementKind = Literal["weight", "height", "blood_pressure", "heart_rate", "spo2"]

SIGNATURE_MEANING_TEXT = SIGNATURE_MEANING
"""The meaning every ketascreen signature carries (printed beside it, 21 CFR 11.50)."""


def ruleset() -> RuleSet:
    """The shipped rule set, loaded once per process.

    Raises:
        KnowledgeBaseError: a shipped or clinic-edited data file is invalid.
    """
    return default_ruleset()


# --------------------------------------------------------------------------------------------
# Screening the form


@dataclass(frozen=True)
class FormScreening:
    """What one screening of the form produced.

    Attributes:
        document: the case document that was screened (JSON-shaped, as the form built it).
        problems: every field the core refused, with its structured fields; empty when valid.
        screening: the core's screening, or ``None`` when the document is not a valid case.
        acknowledgeable: rule ids of findings the physician may acknowledge under the policy.
        dose_rows: the dose box exactly as the checklist prints it (label, text); empty when
            there is no dose.
        working: every step of the dose calculation, as printed.
        no_dose_reason: why there is no dose, for a clinician; ``None`` when there is one.
    """

    document: dict[str, Any]
    problems: tuple[FieldProblem, ...]
    screening: Screening | None
    acknowledgeable: frozenset[str]
    dose_rows: tuple[tuple[str, str], ...]
    working: tuple[str, ...]
    no_dose_reason: str | None

    @property
    def valid(self) -> bool:
        """Whether the document is a valid case (and was screened)."""
        return self.screening is not None

    @property
    def decision(self) -> Decision | None:
        """The decision, or ``None`` when the form could not be screened."""
        return None if self.screening is None else self.screening.result.decision


def screen_document(*, document: Mapping[str, Any]) -> FormScreening:
    """Validate the form's case document and, when it is a valid case, screen it.

    An invalid document is never screened: the result carries the problems and no dose.
    A DO NOT INFUSE decision carries no dose either, as on the printed checklist.
    """
    doc = dict(document)
    try:
        case = parse_case(doc)
    except CaseValidationError as error:
        return FormScreening(doc, tuple(error.problems), None, frozenset(), (), (),
                             "the form is incomplete or has errors (see the marked fields)")
    rules = ruleset()
    screening = rules.run(case)
    box, no_dose = dose_box_from(screening.dose)
    if screening.result.decision == "do-not-infuse":
        box, no_dose = None, "No dose: do not infuse."
    return FormScreening(
        document=doc, problems=(), screening=screening,
        acknowledgeable=_acknowledgeable(rules, screening),
        dose_rows=() if box is None else box.rows,
        working=() if box is None else box.working,
        no_dose_reason=None if no_dose is None else no_dose.removeprefix("No dose: "))


def _acknowledgeable(rules: RuleSet, screening: Screening) -> frozenset[str]:
    """Rule ids the policy lets the physician acknowledge (the engine's own criterion)."""
    by_id = {rule.id: rule for rule in rules.catalogue.rules}
    policy = rules.policy
    allowed: set[str] = set()
    for finding in screening.result.findings:
        rule = by_id[finding.rule_id]
        blocking = rule.kind == "data" and rule.severity_key in policy.blocking_data
        if not blocking and (finding.severity == "relative" or (
                finding.severity == "absolute"
                and finding.concept in policy.acknowledgeable_absolute)):
            allowed.add(finding.rule_id)
    return frozenset(allowed)


def decision_label(*, decision: Decision) -> tuple[str, str]:
    """The decision's printed label and its one-line explanation (as on the checklist)."""
    return DECISION_LABELS[decision]


def signing_refusal(*, outcome: FormScreening | None) -> str | None:
    """Why the checklist of ``outcome`` may not be signed now, or ``None`` when it may.

    Only a CLEAR screening is signed: its one signature meaning is "Screened and approved for
    first infusion". Insufficient data and unacknowledged relative findings must be resolved
    first; a DO NOT INFUSE checklist is documented unsigned (printed or exported) instead.
    """
    if outcome is None or not outcome.valid:
        return "The form is incomplete or has errors: correct the marked fields first."
    decision = outcome.decision
    if decision == "insufficient-data":
        return ("Insufficient data: complete the missing items listed under the findings, "
                "then sign.")
    if decision == "needs-review":
        return ("Each relative finding must be acknowledged with a reason before signing.")
    if decision == "do-not-infuse":
        return ("DO NOT INFUSE: an absolute contraindication was found. The signature means "
                f"\"{SIGNATURE_MEANING}\", so this checklist cannot be signed. Print it or "
                "export it unsigned to document the decision.")
    return None


def signing_status(*, outcome: FormScreening | None) -> str:
    """One line for the decision banner: ready to sign, or what stands in the way."""
    if outcome is None or outcome.screening is None:
        return "Not ready to sign: the form is incomplete or has errors."
    decision = outcome.decision
    if decision == "clear":
        return "Ready to sign: File > Sign checklist (Ctrl+G)."
    if decision == "needs-review":
        waiting = sum(1 for f in outcome.screening.result.findings
                      if f.rule_id in outcome.acknowledgeable and not f.acknowledged)
        return (f"Not ready to sign: {waiting} finding(s) still need an acknowledgement "
                "with a reason.")
    if decision == "insufficient-data":
        return "Not ready to sign: complete the missing or doubtful data first."
    return ("Cannot be signed (a signature means approval for infusion): print or export "
            "the unsigned checklist to document the decision.")


# --------------------------------------------------------------------------------------------
# Questionnaire, instruments, measurements, medications


@dataclass(frozen=True)
class HistoryQuestion:
    """One question of the screening questionnaire.

    Attributes:
        concept: the history concept id of concepts.md.
        title: the rule's clinician-facing title, used as the question.
        statement: why it matters (the rule's statement).
        severity: the severity under the clinic policy (absolute, relative or info).
    """

    concept: str
    title: str
    statement: str
    severity: str


def history_questions() -> tuple[HistoryQuestion, ...]:
    """Every history concept with its wording from the rule catalogue, in concepts.md order."""
    from ketascreen.concepts import HISTORY_CONCEPTS  # noqa: PLC0415 - small, data only

    rules = ruleset()
    by_concept = {r.concept: r for r in rules.catalogue.rules if r.kind == "contraindication"}
    questions = []
    for concept in HISTORY_CONCEPTS:
        rule = by_concept[concept]
        questions.append(HistoryQuestion(concept, rule.title, rule.statement,
                                         rules.policy.severity[rule.severity_key]))
    return tuple(questions)


def dast10_score(*, answers: Sequence[str | None]) -> int | None:
    """The DAST-10 total of ten yes/no answers (item 3 reverse-scored by the core), or
    ``None`` while any item is unanswered."""
    if len(answers) != 10 or any(a is None for a in answers):
        return None
    return dast10_total([str(a) for a in answers])


def audit_c_score(*, items: Sequence[int | None]) -> int | None:
    """The AUDIT-C total of three item scores, or ``None`` while any item is unanswered."""
    if len(items) != 3 or any(i is None for i in items):
        return None
    return audit_c_total([int(i) for i in items if i is not None])


_KIND_DIMENSION: dict[str, Dimension] = {
    "weight": Dimension.MASS, "height": Dimension.LENGTH, "heart_rate": Dimension.FREQUENCY,
    "spo2": Dimension.FRACTION,
}


def convert_measurement(*, kind: MeasurementKind, text: str) -> str | None:
    """The measurement in the other unit system, for display beside the input.

    ``"187 lb"`` -> ``"= 84.82 kg"``; ``"170 cm"`` -> ``"= 5 ft 6.9 in"``;
    ``"18.4/11.5 kPa"`` -> ``"= 138/86 mmHg"``. ``None`` when the text does not parse (the
    form's validation names the problem) or there is nothing to convert.
    """
    try:
        if kind == "blood_pressure":
            bp = parse_blood_pressure(text)
            systolic, diastolic = bp.mmhg()
            if str(bp.systolic.units) == "kilopascal":
                return f"= {format_number(systolic, 0)}/{format_number(diastolic, 0)} mmHg"
            return (f"= {format_number(magnitude_in(bp.systolic, 'kilopascal'), 1)}/"
                    f"{format_number(magnitude_in(bp.diastolic, 'kilopascal'), 1)} kPa")
        value = parse_quantity(text, _KIND_DIMENSION[kind])
    except UnitInputError:
        return None
    if kind == "weight":
        if str(value.units) == "kilogram":
            return f"= {format_quantity(value, 'lb', 1)}"
        return f"= {format_quantity(value, 'kg', 2)}"
    if kind == "height":
        if str(value.units) in ("centimeter", "meter", "millimeter"):
            # Round to the shown 0.1 in before splitting, so 182.8 cm is "6 ft 0 in", never
            # "5 ft 12 in" (a form the parser refuses and a nurse could misread).
            tenths = int(Decimal(str(magnitude_in(value, "inch"))).scaleb(1).quantize(
                Decimal(1), rounding=ROUND_HALF_UP))
            feet, rest = divmod(tenths, 120)
            return f"= {feet} ft {format_number(rest / 10, 1)} in"
        return f"= {format_quantity(value, 'cm', 1)}"
    return None


def unit_problem(*, kind: MeasurementKind, text: str) -> UnitInputError | None:
    """The unit error of a measurement text, or ``None`` when it parses (for tests and hints)."""
    try:
        if kind == "blood_pressure":
            parse_blood_pressure(text, field="measurements.blood_pressure")
        else:
            parse_quantity(text, _KIND_DIMENSION[kind], field=f"measurements.{kind}")
    except UnitInputError as error:
        return error
    return None


@dataclass(frozen=True)
class DrugName:
    """One completion entry of the medication list.

    Attributes:
        name: the name as inserted (brand capitalised, generic lower-case).
        ingredients: the ingredients it stands for.
        kind: ``generic``, ``brand`` or ``combination``.
    """

    name: str
    ingredients: tuple[str, ...]
    kind: str

    @property
    def label(self) -> str:
        """The text of the completion popup, e.g. ``Xanax - alprazolam (brand)``."""
        if self.kind == "generic":
            return f"{self.name} (generic)"
        return f"{self.name} - {' + '.join(self.ingredients)} ({self.kind})"


def drug_names() -> tuple[DrugName, ...]:
    """Every generic, brand and combination name of the drug knowledge base."""
    drugs = ruleset().drugs
    brand_case: dict[str, str] = {}
    for ingredient in drugs.ingredients.values():
        for brand in ingredient.brands:
            brand_case.setdefault(brand.lower(), brand)
    entries: list[DrugName] = []
    for name in drugs.names():
        match = drugs.recognise_text(name)
        if match is None:  # pragma: no cover - every listed name is recognised
            continue
        if name in drugs.ingredients:
            entries.append(DrugName(name, match.ingredients, "generic"))
        elif name in brand_case:
            entries.append(DrugName(brand_case[name], match.ingredients,
                                    "brand" if len(match.ingredients) == 1 else "combination"))
        else:
            shown = name[:1].upper() + name[1:]
            entries.append(DrugName(shown, match.ingredients,
                                    "combination" if len(match.ingredients) > 1 else "brand"))
    return tuple(entries)


@dataclass(frozen=True)
class Recognition:
    """What a medication or problem-list entry was recognised as.

    Attributes:
        labels: the medication classes (or history concepts) it counts as; empty when it was
            recognised but belongs to no screened class.
        matched: the names or code the recognition rests on.
        via: ``code`` or ``text``.
    """

    labels: tuple[str, ...]
    matched: str
    via: str
    not_counted: tuple[tuple[str, str], ...] = ()
    """Concepts named in the text whose context says they do not count (or are a question):
    ``(concept, reading)`` pairs such as ``("cerebrovascular-accident-history",
    "negated: 'no history of'")``."""


def recognise_medication(*, text: str, code: str = "") -> Recognition | None:
    """The classes a medication entry is recognised as, or ``None`` when it is not recognised
    (and therefore not checked for interactions)."""
    if not text.strip() and not code.strip():
        return None
    try:
        medication = Medication(text=text or None, system=RXNORM if code.strip() else None,
                                code=code.strip() or None)
    except ValueError:
        return None
    drugs = ruleset().drugs
    match = drugs.recognise(medication)
    if match is None:
        return None
    return Recognition(drugs.classes_of(match.ingredients),
                       f"{match.matched} ({', '.join(match.ingredients)})", match.via)


def recognise_condition(*, text: str, system: str = "", code: str = "") -> Recognition | None:
    """The history concepts a problem-list entry is recognised as, or ``None``."""
    if not text.strip() and not code.strip():
        return None
    try:
        condition = Condition(text=text or None, system=system or None, code=code or None)
    except ValueError:
        return None
    read = ruleset().conditions.read(condition)
    counted = [m for m in read if m.counts]
    not_counted = tuple(dict.fromkeys((m.entry.concept, m.assertion.describe())
                                      for m in read if not m.counts))
    if not counted and not not_counted:
        return None
    return Recognition(tuple(dict.fromkeys(m.entry.concept for m in counted)),
                       ", ".join(m.matched for m in counted or read), (counted or read)[0].via,
                       not_counted)


def preload_condition_context() -> None:
    """Load the problem-list context reader (spaCy, medspaCy ConText) now, not on first use.

    It takes a second or more; the app calls this from a background thread after its window is
    shown, so the first problem typed does not wait for it.
    """
    from ketascreen.rules.context import preload  # noqa: PLC0415 - lazy: spaCy is heavy

    preload()


def protocol_defaults(*, indication: str) -> str | None:
    """The formulary's default protocol for ``indication``, for display; ``None`` if unknown."""
    formulary = ruleset().formulary
    try:
        protocol = formulary.protocol(indication)
    except KeyError:
        return None
    dose = protocol.default_dose.text if protocol.default_dose else "no default dose"
    duration = (protocol.default_duration.text if protocol.default_duration
                else "no default duration")
    return (f"Formulary default for {indication}: {dose} over {duration}, "
            f"{protocol.weight_basis.value} body weight, limits {protocol.limits_text}.")


# --------------------------------------------------------------------------------------------
# Files


def normalised(document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` without empty containers, empty strings and ``None`` (for comparing what
    a file holds with what the form would write back)."""
    def clean(value: Any) -> Any:
        if isinstance(value, Mapping):
            out = {k: clean(v) for k, v in value.items()}
            return {k: v for k, v in out.items() if v not in (None, "", [], {})}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    result: dict[str, Any] = clean(document)
    return result


@dataclass(frozen=True)
class OpenedCase:
    """A case file as read: its JSON document, and the problems that make it invalid."""

    path: Path
    document: dict[str, Any]
    problems: tuple[FieldProblem, ...]


def open_case_file(*, path: Path) -> OpenedCase:
    """Read a ``ketascreen-case/1`` file.

    A file that is JSON but not a valid case is returned with its problems, so the form can
    show them on the fields; the caller refuses it if the form cannot hold it losslessly.

    Raises:
        CaseValidationError: unreadable, not JSON, duplicate keys, or not a JSON object.
    """
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CaseValidationError([FieldProblem("(file)", f"cannot be read: {error.strerror}")],
                                  source=str(path)) from None
    try:
        parse_case_json(raw, source=str(path))
        problems: tuple[FieldProblem, ...] = ()
    except CaseValidationError as error:
        problems = tuple(error.problems)
        if any(p.field in ("(document)", "(file)") for p in problems):
            raise
    data = json.loads(raw)
    if not isinstance(data, dict):  # pragma: no cover - refused above as "(document)"
        raise CaseValidationError([FieldProblem("(document)", "must be a JSON object")],
                                  source=str(path))
    return OpenedCase(path, data, problems)


def case_file_bytes(*, document: Mapping[str, Any]) -> bytes:
    """The bytes of a case file for ``document``.

    Raises:
        CaseValidationError: the document is not a valid case (a case file never is invalid).
    """
    case = parse_case(dict(document))
    data = case.model_dump(mode="json", exclude_none=True)
    return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def write_file(*, path: Path, data: bytes, force: bool) -> bool:
    """Write ``data`` atomically (temporary file, fsync, rename).

    Returns:
        Whether a signed document was replaced.

    Raises:
        OutputExistsError: ``path`` exists and ``force`` is false.
        OSError: the folder is not writable.
    """
    from ketascreen.reports.output import write_atomically  # noqa: PLC0415

    return write_atomically(path, data, force=force)


def save_case_file(*, path: Path, document: Mapping[str, Any], force: bool) -> Path:
    """Save ``document`` as a case file, atomically.

    Args:
        force: replace an existing file (Save over the file that is open, or a replacement
            the user confirmed).

    Raises:
        CaseValidationError: the document is not a valid case.
        OutputExistsError: ``path`` exists and ``force`` is false.
        OSError: the folder is not writable.
    """
    write_file(path=path, data=case_file_bytes(document=document), force=force)
    return path


@dataclass(frozen=True)
class ImportedCase:
    """A FHIR record imported as a case for the physician to complete.

    Attributes:
        document: the case document (questionnaire, screens and protocol left empty).
        warnings: (code, message, resource) of every data-quality warning.
        label: a short label of the patient for lists.
    """

    document: dict[str, Any]
    warnings: tuple[tuple[str, str, str | None], ...]
    label: str

    def checklist_lines(self) -> tuple[str, ...]:
        """The warnings as the checklist prints them."""
        return tuple(f"{code}: {message}" + (f" [{resource}]" if resource else "")
                     for code, message, resource in self.warnings)


def import_fhir_file(*, path: Path, as_of: date | None = None) -> ImportedCase:
    """Import one patient's FHIR R4 record (Bundle, resource file or folder).

    Raises:
        FhirImportError: unreadable or unusable record (DeceasedPatientError for a death).
        KnowledgeBaseError: the shipped knowledge base is invalid.
    """
    from ketascreen.fhir import import_fhir  # noqa: PLC0415 - only when importing

    imported = import_fhir(path, as_of=as_of)
    return ImportedCase(imported.case,
                        tuple((w.code, w.message, w.resource) for w in imported.warnings),
                        imported.patient_label)


# --------------------------------------------------------------------------------------------
# Checklist, signing


def read_signer(*, key_path: Path, passphrase: bytes) -> SignerIdentity:
    """Open a PKCS#12 key store and read the signer's printed name and credentials.

    Raises:
        InputFileError: the key file cannot be read.
        SigningError: wrong passphrase, or not a PKCS#12 key store.
    """
    from ketascreen.reports.signing import load_signer  # noqa: PLC0415 - pyHanko is slow

    try:
        data = key_path.read_bytes()
    except OSError as error:
        raise InputFileError(str(key_path), f"cannot be read: {error.strerror}") from None
    return load_signer(data, passphrase, path=str(key_path))


def checklist_pdf(*, outcome: FormScreening, page_size: PageSize = "letter",
                  clinic: str | None = None, import_warnings: tuple[str, ...] = ()) -> bytes:
    """The unsigned checklist of a screened form (it prints "Not signed").

    Raises:
        ValueError: the form was not screened (invalid document).
    """
    from ketascreen.reports.output import DEFAULT_CLINIC, produce_checklist  # noqa: PLC0415

    screening = _screened(outcome)
    box, no_dose = dose_box_from(screening.dose)
    data, _ = produce_checklist(screening.case, screening.result, dose=box,
                                no_dose_reason=no_dose, versions=screening.versions,
                                page_size=page_size, clinic=clinic or DEFAULT_CLINIC,
                                import_warnings=import_warnings)
    return data


@dataclass(frozen=True)
class SignedChecklist:
    """A signed checklist that was written and checked.

    Attributes:
        path: where it was written.
        record_id: the checklist's record id.
        signer: the printed name of the signer.
        verification: the core's verification of the written bytes.
        replaced_signed: whether a signed document was replaced (only with force).
        staged: with ``stage``, the signed file waiting beside ``path`` for its record to be
            committed (``staged.commit()`` puts it in place, ``staged.discard()`` removes it);
            ``None`` when it was written straight to ``path``.
    """

    path: Path
    record_id: str
    signer: str
    verification: Verification
    replaced_signed: bool
    staged: StagedFile | None = None


def sign_checklist(*, outcome: FormScreening, key_path: Path, passphrase: bytes, out_path: Path,
                   page_size: PageSize = "letter", clinic: str | None = None,
                   import_warnings: tuple[str, ...] = (), force: bool = False,
                   audit_head: tuple[int, str] | None = None,
                   stage: bool = False) -> SignedChecklist:
    """Render, sign (PAdES) and write the checklist, then verify the written file.

    ``audit_head`` (the records audit trail's last event, when signing into the records) is
    printed on the checklist and embedded under the signature. With ``stage`` the file is only
    staged beside ``out_path`` (see :attr:`SignedChecklist.staged`): signing into the records,
    the signed PDF appears at its destination only once its record is committed.

    Raises:
        ValueError: signing is refused for this outcome (see :func:`signing_refusal`).
        InputFileError: the key file cannot be read.
        SigningError: wrong passphrase, or not a PKCS#12 key store.
        OutputExistsError: ``out_path`` exists and ``force`` is false.
        OSError: the folder is not writable.
    """
    refusal = signing_refusal(outcome=outcome)
    if refusal is not None:
        raise ValueError(refusal)
    from ketascreen.reports.output import (  # noqa: PLC0415
        DEFAULT_CLINIC,
        SigningRequest,
        produce_checklist,
        stage_file,
    )
    screening = _screened(outcome)
    try:
        key = key_path.read_bytes()
    except OSError as error:
        raise InputFileError(str(key_path), f"cannot be read: {error.strerror}") from None
    box, no_dose = dose_box_from(screening.dose)
    data, checklist = produce_checklist(
        screening.case, screening.result, dose=box, no_dose_reason=no_dose,
        versions=screening.versions, page_size=page_size, clinic=clinic or DEFAULT_CLINIC,
        import_warnings=import_warnings,
        signing=SigningRequest(key, passphrase, str(key_path)), audit_head=audit_head)
    staged = None
    if stage:
        staged = stage_file(out_path, data, force=force)
        replaced, written = staged.replaces_signed, staged.temporary.read_bytes()
    else:
        replaced = write_file(path=out_path, data=data, force=force)
        written = out_path.read_bytes()
    signer = checklist.signer.name if checklist.signer else ""
    verification = _check_written(written, key=key, passphrase=passphrase)
    return SignedChecklist(out_path, checklist.record_id, signer, verification, replaced,
                           staged)


def _check_written(pdf: bytes, *, key: bytes, passphrase: bytes) -> Verification:
    """Verify the written checklist against the key it was just signed with (whether that
    certificate is this physician's is the records' decision, made separately)."""
    from ketascreen.reports.signing import read_certificate, verify_pdf  # noqa: PLC0415

    used = read_certificate(key, passphrase=passphrase).sha256
    return verify_pdf(pdf, registered=lambda fingerprint: (
        "the key this checklist was just signed with" if fingerprint == used else None))


def configured_trust() -> bytes | None:
    """The trust bundles named by ``$KETASCREEN_TRUST`` (read as `ketascreen verify` reads
    them), or ``None`` when none is configured or readable."""
    import os  # noqa: PLC0415

    from ketascreen.reports.signing import SigningError, trust_bundle  # noqa: PLC0415

    paths = [p for p in os.environ.get("KETASCREEN_TRUST", "").split(os.pathsep) if p]
    try:
        return trust_bundle([(p, Path(p).read_bytes()) for p in paths]) or None
    except (OSError, SigningError):
        return None


def record_id_of(*, outcome: FormScreening) -> str | None:
    """The record id the checklist of ``outcome`` prints (the hash of its case and result), or
    ``None`` when the form is not a valid case. Equal ids mean the same case and result, so
    the same dose, as a signed checklist bearing that id."""
    if outcome.screening is None:
        return None
    screening = outcome.screening
    return record_id_for(
        canonical_json(screening.case.model_dump(mode="json", exclude_none=True)),
        canonical_json(screening.result.model_dump(mode="json")))


@dataclass(frozen=True)
class OpenedSignedChecklist:
    """A signed checklist file, read back for the form.

    Attributes:
        document: the case it embeds (the form shows it, read-only).
        record_id: the record id of the embedded case and result (what the page prints).
        pdf: the file's bytes.
        signer: the signing certificate's name, as the page prints it.
        signed_at: when it was signed (aware), or ``None`` if the signature does not say.
        verification: the signature check.
    """

    document: dict[str, Any]
    record_id: str
    pdf: bytes
    signer: str
    signed_at: datetime | None
    verification: Verification


def open_signed_checklist(*, path: Path,
                          registered: Callable[[str], str | None] | None = None
                          ) -> OpenedSignedChecklist:
    """Read a signed checklist file: its embedded case, signer and signing time.

    The signer is trusted only when ``registered`` (who a certificate is registered to in the
    records, by sha256 fingerprint) knows its certificate, or a trust bundle in
    ``$KETASCREEN_TRUST`` issued it; otherwise ``verification`` says "unknown signer".

    Raises:
        InputFileError: the file cannot be read, is not signed, or embeds no case.
    """
    from ketascreen.records.documents import CASE_ATTACHMENT, RESULT_ATTACHMENT  # noqa: PLC0415
    from ketascreen.reports.signing import embedded_attachments, verify_pdf  # noqa: PLC0415

    try:
        pdf = path.read_bytes()
    except OSError as error:
        raise InputFileError(str(path), f"cannot be read: {error.strerror}") from None
    verification = verify_pdf(pdf, trust_pem=configured_trust(), registered=registered)
    try:
        attachments = embedded_attachments(pdf)
    except Exception:  # noqa: BLE001 - pyHanko raises many kinds on a broken PDF
        attachments = {}
    case_bytes = attachments.get(CASE_ATTACHMENT)
    result_bytes = attachments.get(RESULT_ATTACHMENT)
    if not verification.signed or case_bytes is None or result_bytes is None:
        raise InputFileError(str(path), "is not a signed ketascreen checklist")
    document = json.loads(case_bytes)
    when = (datetime.fromisoformat(verification.signing_time)
            if verification.signing_time else None)
    return OpenedSignedChecklist(document, record_id_for(case_bytes, result_bytes), pdf,
                                 verification.signer or "(unknown signer)",
                                 when, verification)


def _screened(outcome: FormScreening) -> Screening:
    if outcome.screening is None:
        raise ValueError("the form is not a valid case and was not screened")
    return outcome.screening


def case_of(outcome: FormScreening) -> Case | None:
    """The validated case of a screened form, or ``None``."""
    return None if outcome.screening is None else outcome.screening.case
