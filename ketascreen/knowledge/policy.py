"""The clinic policy: severities per concept, decision settings and numeric thresholds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field

from ketascreen.concepts import ALL_CONCEPTS, DATA_CONCEPTS, INFUSION_DATA_CONCEPTS
from ketascreen.errors import KnowledgeBaseError, UnitInputError
from ketascreen.knowledge.datafiles import (
    AnyText,
    DataSource,
    Record,
    read_data_file,
    read_table,
    require_keys,
)
from ketascreen.models.result import Severity
from ketascreen.units import Dimension, Quantity, parse_quantity

POLICY_SCHEMA = "ketascreen-policy/1"
SEVERITIES: tuple[Severity, ...] = ("absolute", "relative", "info")

# Every threshold a rule may read, with its type: a quantity of a dimension, or a whole number.
THRESHOLD_TYPES: dict[str, Dimension | type[int]] = {
    "hypertension_severe_systolic": Dimension.PRESSURE,
    "hypertension_severe_diastolic": Dimension.PRESSURE,
    "hypertension_elevated_systolic": Dimension.PRESSURE,
    "hypertension_elevated_diastolic": Dimension.PRESSURE,
    "adult_age_years": int,
    "older_adult_age_years": int,
    "pregnancy_status_from_age_years": int,
    "pregnancy_status_to_age_years": int,
    "plausible_weight_min": Dimension.MASS,
    "plausible_weight_max": Dimension.MASS,
    "plausible_bmi_min_kg_m2": int,
    "plausible_bmi_max_kg_m2": int,
    "weight_max_age_days": int,
    "blood_pressure_max_age_days": int,
    "recent_mi_window_days": int,
    "benzodiazepine_daily_limit_diazepam_eq": Dimension.MASS,
    "dast10_moderate_at": int,
    "dast10_high_at": int,
    "audit_c_positive_male": int,
    "audit_c_positive_female": int,
    # Vital-sign limits (local policy; the side each fires on is the rule's, see rules.toml).
    "hypotension_systolic": Dimension.PRESSURE,
    "bradycardia_heart_rate": Dimension.FREQUENCY,
    "tachycardia_heart_rate": Dimension.FREQUENCY,
    "hypoxaemia_spo2": Dimension.FRACTION,
    # The day-of re-check of an infusion of a course (C#/R# or local policy: policy.toml).
    "fasting_solids_min": Dimension.TIME,
    "fasting_clear_fluids_min": Dimension.TIME,
    "infusion_interval_min_days": int,
    "infusions_in_7_days_max": int,
    "phq9_item9_from": int,
    "phq9_item9_escalate_from": int,
    "weight_change_percent": int,
    "prior_severe_systolic": Dimension.PRESSURE,
    "prior_severe_diastolic": Dimension.PRESSURE,
    "discharge_aldrete_min": int,
    "course_remission_below": int,
    "course_response_percent": int,
    "course_improvement_percent": int,
    "course_judged_from_infusion": int,
}


class DecisionTable(Record):
    """``[decision]``: which absolute findings may be acknowledged, which data gaps block."""

    acknowledgeable_absolute: tuple[str, ...]
    blocking_data: tuple[str, ...]


class PolicyFile(Record):
    """``policy.toml`` as written: its tables, before concepts and thresholds are checked."""

    schema_name: str = Field(alias="schema")
    version: AnyText
    name: AnyText
    severity: dict[str, object]
    decision: DecisionTable
    thresholds: dict[str, Any]


@dataclass(frozen=True, eq=False, repr=False)
class Policy:
    """A loaded, validated clinic policy."""

    version: str
    name: str
    sha256: str
    severity: dict[str, Severity]
    acknowledgeable_absolute: frozenset[str]
    blocking_data: frozenset[str]
    quantities: dict[str, Quantity]
    numbers: dict[str, int]

    def quantity(self, key: str) -> Quantity:
        """A quantity threshold by name."""
        return self.quantities[key]

    def number(self, key: str) -> int:
        """A whole-number threshold by name."""
        return self.numbers[key]


def load_policy(source: DataSource = None) -> Policy:
    """Load the shipped policy, or a clinic's policy file (its bytes or its path).

    Raises:
        KnowledgeBaseError: unknown or missing key, unknown concept, bad severity, a threshold of
            the wrong type or unit.
    """
    data = read_data_file("policy.toml", source, schema=POLICY_SCHEMA)
    file = data.name
    doc = read_table(file, "(top level)", data.content, PolicyFile)
    severity: dict[str, Severity] = {}
    for key, value in doc.severity.items():
        concept = key.split(".", 1)[0]
        if concept not in ALL_CONCEPTS:
            raise KnowledgeBaseError(file, f"severity.{key}", "unknown concept")
        if value not in SEVERITIES:
            raise KnowledgeBaseError(file, f"severity.{key}",
                                     f"{value!r} is not one of {', '.join(SEVERITIES)}")
        severity[key] = value
    decision = doc.decision
    for concept in decision.acknowledgeable_absolute:
        if concept not in ALL_CONCEPTS:
            raise KnowledgeBaseError(file, "decision.acknowledgeable_absolute",
                                     f"unknown concept {concept!r}")
    for concept in decision.blocking_data:
        if concept not in DATA_CONCEPTS and concept not in INFUSION_DATA_CONCEPTS:
            raise KnowledgeBaseError(file, "decision.blocking_data",
                                     f"{concept!r} is not a data concept")
    quantities, numbers = _thresholds(file, doc.thresholds)
    return Policy(
        version=doc.version, name=doc.name, sha256=data.sha256,
        severity=severity,
        acknowledgeable_absolute=frozenset(decision.acknowledgeable_absolute),
        blocking_data=frozenset(decision.blocking_data),
        quantities=quantities, numbers=numbers,
    )


def _thresholds(file: str, table: dict[str, Any]) -> tuple[dict[str, Quantity], dict[str, int]]:
    require_keys(file, "thresholds", table, required=set(THRESHOLD_TYPES))
    quantities: dict[str, Quantity] = {}
    numbers: dict[str, int] = {}
    for key, kind in THRESHOLD_TYPES.items():
        value = table[key]
        if kind is int:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise KnowledgeBaseError(file, f"thresholds.{key}",
                                         f"{value!r} must be a whole number")
            numbers[key] = value
        else:
            assert isinstance(kind, Dimension)
            try:
                quantities[key] = parse_quantity(value, kind, field=f"thresholds.{key}")
            except UnitInputError as error:
                raise KnowledgeBaseError(file, f"thresholds.{key}", error.reason) from None
    return quantities, numbers
