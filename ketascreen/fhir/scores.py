"""PHQ-9 and GAD-7 scores and the vital-sign readings of a record, each with its date.

A course takes an imported score as an infusion's ``pre.phq9`` / ``pre.gad7`` and the readings as
its vital signs, so every usable one is kept (not only the latest), with its source and date:

- scores: Observations of the total, LOINC 44261-6 (PHQ-9) and 70274-6 (GAD-7) (C82, C84), as
  ``valueInteger`` or a whole ``valueQuantity`` (unit ``{score}`` or none); the item scores come
  from the QuestionnaireResponse the Observation is ``derivedFrom`` when it answers every item
  (linkId or item code = the item's LOINC code; answer = a LOINC answer of list LL358-3 or an
  integer 0-3) and the items add up to the total. A completed QuestionnaireResponse of the form
  44249-1 or 69737-5 that no score Observation derives from is a score of its own (its total
  item, or the sum of its items). Totals and items are validated with
  :mod:`ketascreen.models.scales`; an unusable score is left out with a warning.
- readings: blood-pressure panels (as :mod:`ketascreen.fhir.vitals` reads them), heart rate
  8867-4 in ``/min`` (C87) and oxygen saturation 2708-6 or 59408-5 in ``%`` (C88, C89). What is
  unusable here is skipped without a warning: the case's own measurements already warn.

Usable means, as for the case's measurements: status final, amended, corrected or preliminary
(a response: completed or amended), dated, and not after the as-of date.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from pydantic import Field, ValidationError

from ketascreen.errors import CaseValidationError, ImportWarning
from ketascreen.fhir import model as fm
from ketascreen.fhir.course_export import ANSWERS, GAD7, PHQ9, Scale
from ketascreen.fhir.dates import Moment, parse_moment
from ketascreen.fhir.reader import SourcedResource
from ketascreen.fhir.record import Item, Record
from ketascreen.fhir.result import ImportedScore, ImportedVital, VitalKind
from ketascreen.fhir.vitals import BP_PANELS, _acceptable, _bp_value, _moment, _usable
from ketascreen.models.scales import ScaleScore, gad7_score, phq9_score

SCALES: dict[str, Scale] = {PHQ9.total: PHQ9, GAD7.total: GAD7}
RESPONSE_STATUSES = frozenset({"completed", "amended"})
HEART_RATE_CODES = ("8867-4",)
SPO2_CODES = ("2708-6", "59408-5")
RATE_UNITS = {"/min": "/min", "{beats}/min": "/min", "1/min": "/min"}
PERCENT_UNITS = {"%": "%"}
_SCALARS: tuple[tuple[VitalKind, tuple[str, ...], dict[str, str]], ...] = (
    ("heart_rate", HEART_RATE_CODES, RATE_UNITS), ("spo2", SPO2_CODES, PERCENT_UNITS))
_ANSWER_SCORES = {code: score for score, (code, _) in enumerate(ANSWERS)}


class _Answer(fm.Element):
    value_coding: fm.Coding | None = None
    value_integer: int | None = None


class _ResponseItem(fm.Element):
    link_id: str | None = None
    answer: list[_Answer] = Field(default_factory=list)
    item: list[_ResponseItem] = Field(default_factory=list)


class _Response(fm.Resource):
    questionnaire: str | None = None
    status: str | None = None
    subject: fm.Reference | None = None
    authored: str | None = None
    item: list[_ResponseItem] = Field(default_factory=list)


class _ScoreObservation(fm.Resource):
    value_integer: int | None = None
    value_quantity: fm.Quantity | None = None
    derived_from: list[fm.Reference] = Field(default_factory=list)


@dataclass
class MappedScores:
    """The scores and readings found, oldest first, and the warnings about left-out scores."""

    scores: list[ImportedScore] = field(default_factory=list)
    vitals: list[ImportedVital] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)


def map_scores(record: Record, as_of: date) -> MappedScores:
    """Every usable PHQ-9/GAD-7 and vital-sign reading of ``record`` up to ``as_of``."""
    out = MappedScores()
    used_responses: set[str] = set()
    found: list[tuple[Moment, ImportedScore]] = []
    for item in record.observations:
        observation = item.resource
        if not _usable(observation) or observation.code is None:
            continue
        scale = next((s for code, s in SCALES.items() if observation.code.has(fm.LOINC, code)),
                     None)
        if scale is not None:
            score = _observation_score(record, item, scale, as_of=as_of, out=out,
                                       used=used_responses)
            if score is not None:
                found.append(score)
    for resource in record.others:
        if resource.resource_type == "QuestionnaireResponse" \
                and resource.label not in used_responses:
            score = _response_score(record, resource, as_of, out)
            if score is not None:
                found.append(score)
    found.sort(key=lambda pair: pair[0].instant)
    out.scores = [score for _, score in found]
    out.vitals = _readings(record, as_of)
    return out


def _warn(out: MappedScores, label: str, problem: str) -> None:
    out.warnings.append(ImportWarning(
        "unusable-score", f"A PHQ-9/GAD-7 score was not imported: {problem}.", label))


def _dated(moment: Moment | None, as_of: date, label: str, out: MappedScores) -> bool:
    if moment is None:
        _warn(out, label, "it has no date")
        return False
    if moment.day > as_of:
        _warn(out, label, f"it is dated {moment.day.isoformat()}, after the as-of date "
                          f"{as_of.isoformat()}")
        return False
    return True


def _validated(scale: Scale, value: list[int] | int, label: str,
               out: MappedScores) -> ScaleScore | None:
    try:
        return (phq9_score if scale is PHQ9 else gad7_score)(value, field=scale.name)
    except CaseValidationError as error:
        _warn(out, label, f"{scale.name} {error}")
        return None


def _whole(observation: _ScoreObservation) -> int | None:
    if observation.value_integer is not None:
        return observation.value_integer
    quantity = observation.value_quantity
    if quantity is None or quantity.value is None or not float(quantity.value).is_integer():
        return None
    if quantity.code not in (None, "{score}") or quantity.system not in (None, fm.UCUM):
        return None
    return int(quantity.value)


def _observation_score(record: Record, item: Item[fm.Observation], scale: Scale, *,
                       as_of: date, out: MappedScores,
                       used: set[str]) -> tuple[Moment, ImportedScore] | None:
    label = item.label
    try:
        observation = _ScoreObservation.model_validate(item.source.data)
    except ValidationError:
        _warn(out, label, "its value or derivedFrom is malformed")
        return None
    moment = _moment(item.resource)
    if not _dated(moment, as_of, label, out) or moment is None:
        return None
    total = _whole(observation)
    if total is None:
        _warn(out, label, "its value is not a whole number (valueInteger, or valueQuantity in "
                          "{score})")
        return None
    checked = _validated(scale, total, label, out)
    if checked is None:
        return None
    items: tuple[int, ...] | None = None
    response_label: str | None = None
    for reference in observation.derived_from:
        target = record.resolve(reference, item.source)
        if target is None or target.resource_type != "QuestionnaireResponse":
            continue
        response = _response(target)
        if response is None or not record.belongs(response.subject):
            continue
        used.add(target.label)
        answered = _items(scale, response)
        if answered is not None and sum(answered) == total:
            items, response_label = answered, target.label
        elif answered is not None:
            out.warnings.append(ImportWarning(
                "score-mismatch", f"The {scale.name} items of {target.label} add up to "
                f"{sum(answered)}, not the total {total} of {label}: the total alone is "
                "imported.", label))
        break
    return moment, ImportedScore(scale.name, checked.total, items, moment.local, moment.text,
                                 label, str(item.source.file), response_label)


def _response(resource: SourcedResource) -> _Response | None:
    try:
        return _Response.model_validate(resource.data)
    except ValidationError:
        return None


def _answers(items: list[_ResponseItem]) -> Iterator[tuple[str, _Answer]]:
    for entry in items:
        if entry.link_id and entry.answer:
            yield entry.link_id.strip(), entry.answer[0]
        yield from _answers(entry.item)


def _answer_score(answer: _Answer) -> int | None:
    if answer.value_integer is not None:
        return answer.value_integer
    coding = answer.value_coding
    if coding is not None and coding.system == fm.LOINC and coding.code:
        return _ANSWER_SCORES.get(coding.code.strip())
    return None


def _items(scale: Scale, response: _Response) -> tuple[int, ...] | None:
    """The item scores in questionnaire order when every item is answered 0-3, else None."""
    by_code = {code: _answer_score(answer) for code, answer in _answers(response.item)}
    scores = [by_code.get(code) for code, _ in scale.items]
    if any(score is None or not 0 <= score <= 3 for score in scores):
        return None
    return tuple(score for score in scores if score is not None)


def _response_scale(response: _Response) -> Scale | None:
    canonical = (response.questionnaire or "").split("|")[0].rstrip("/")
    return next((s for s in (PHQ9, GAD7) if canonical.rsplit("/", 1)[-1] == s.panel), None)


def _response_score(record: Record, resource: SourcedResource, as_of: date,
                    out: MappedScores) -> tuple[Moment, ImportedScore] | None:
    response = _response(resource)
    if response is None or not record.belongs(response.subject):
        return None
    scale = _response_scale(response)
    if scale is None or response.status not in RESPONSE_STATUSES:
        return None
    label = resource.label
    moment = parse_moment(response.authored)
    if not _dated(moment, as_of, label, out) or moment is None:
        return None
    items = _items(scale, response)
    total_answer = dict(_answers(response.item)).get(scale.total)
    total = total_answer.value_integer if total_answer is not None else None
    if total is None and items is None:
        _warn(out, label, f"it has neither a total ({scale.total}) nor every item answered")
        return None
    if items is not None and total is not None and sum(items) != total:
        _warn(out, label, f"its items add up to {sum(items)}, not its total {total}")
        return None
    checked = _validated(scale, list(items) if items is not None else total or 0, label, out)
    if checked is None:
        return None
    return moment, ImportedScore(scale.name, checked.total, items, moment.local, moment.text,
                                 label, str(resource.file), label if items is not None else None)


def _reading(item: Item[fm.Observation]) -> tuple[VitalKind, str | None] | None:
    observation = item.resource
    code = observation.code
    if code is None:
        return None
    if code.has(fm.LOINC, *BP_PANELS):
        return "blood_pressure", _bp_value(observation)[0]
    quantity = observation.value_quantity
    for kind, codes, units in _SCALARS:
        if code.has(fm.LOINC, *codes):
            if quantity is None or quantity.value is None or quantity.code not in units \
                    or quantity.system not in (None, fm.UCUM):
                return kind, None
            number = f"{quantity.value:.1f}".removesuffix(".0")
            return kind, f"{number} {units[quantity.code]}"
    return None


def _readings(record: Record, as_of: date) -> list[ImportedVital]:
    found: list[tuple[Moment, ImportedVital]] = []
    for item in record.observations:
        if not _usable(item.resource):
            continue
        reading = _reading(item)
        if reading is None:
            continue
        kind, value = reading
        if value is None:
            continue
        moment = _moment(item.resource)
        if moment is None or moment.day > as_of or not _acceptable(kind, value):
            continue
        found.append((moment, ImportedVital(kind, value, moment.local, moment.text, item.label,
                                            str(item.source.file))))
    found.sort(key=lambda pair: pair[0].instant)
    return [vital for _, vital in found]
