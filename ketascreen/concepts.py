"""The concept vocabulary of ``spec/concepts.md``: the ids every finding is named by.

Ids are a contract shared with other programs and never change; titles and wording live in the
rule set. ``tests/unit/test_concepts.py`` checks these tuples against the spec file itself.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

HistoryConcept = Literal[
    "ketamine-hypersensitivity",
    "aneurysmal-vascular-disease",
    "arteriovenous-malformation",
    "intracerebral-hemorrhage-history",
    "cerebrovascular-accident-history",
    "severe-cardiac-disease",
    "cardiovascular-disease",
    "pre-eclampsia",
    "psychotic-disorder",
    "mania-current",
    "bipolar-disorder",
    "substance-use-disorder-active",
    "substance-use-disorder-remission",
    "dissociative-misuse-history",
    "ketamine-uropathy",
    "raised-intracranial-pressure",
    "raised-intraocular-pressure",
    "hyperthyroidism-uncontrolled",
    "severe-hepatic-impairment",
    "porphyria",
    "seizure-disorder",
    "obstructive-sleep-apnea",
    "cognitive-impairment",
]
"""The history concept ids as a type, for the case model's questionnaire keys."""

HISTORY_CONCEPTS: Final[tuple[str, ...]] = get_args(HistoryConcept)
"""The history concepts, in the order of concepts.md."""

DERIVED_CONCEPTS: Final = (
    "hypertension-severe",
    "hypertension-elevated",
    "pregnancy",
    "breastfeeding",
    "age-under-18",
    "age-65-plus",
)

MEDICATION_CLASSES: Final = (
    "benzodiazepine",
    "sedative-hypnotic",
    "opioid",
    "mao-inhibitor",
    "psychostimulant",
    "sympathomimetic",
    "theophylline",
    "thyroid-hormone",
    "lamotrigine",
    "naltrexone",
    "nmda-antagonist",
    "cyp3a4-inhibitor",
    "cyp2b6-inhibitor",
    "cyp-inducer",
    "cns-depressant-other",
)

ABUSE_RISK_CONCEPTS: Final = ("abuse-risk",)

DATA_CONCEPTS: Final = (
    "missing-weight",
    "missing-height",
    "implausible-weight",
    "missing-blood-pressure",
    "missing-pregnancy-status",
    "unanswered-history",
    "missing-substance-use-screen",
    "stale-measurement",
)

DOSE_CONCEPTS: Final = (
    "dose-above-hard-limit",
    "dose-above-soft-limit",
    "dose-below-range",
    "duration-outside-range",
)

VITAL_SIGN_CONCEPTS: Final = (
    "hypotension",
    "bradycardia",
    "tachycardia",
    "hypoxaemia",
)
"""From the vital signs given; an absent value fires nothing (weakly sourced local policy)."""

DAY_OF_CONCEPTS: Final = (
    "fasting-not-met",
    "no-escort",
    "infusion-interval-short",
    "infusion-frequency-high",
    "course-beyond-plan",
    "suicidal-ideation",
    "urinary-symptoms",
    "weight-change",
    "prior-severe-hypertension",
    "prior-discharge-criteria-not-met",
    "medication-change",
    "course-response",
    "course-remission",
    "course-no-improvement",
)
"""The day-of concepts of an infusion of a course, in the order of concepts.md ("Day-of
concepts"), without ``pregnancy`` (a derived concept that also fires on a positive test)."""

INFUSION_DATA_CONCEPTS: Final = (
    "missing-fasting-times",
    "missing-escort",
    "missing-pregnancy-test",
    "missing-vital-signs",
    "missing-phq9",
)
"""The data concepts of an infusion (concepts.md, after the day-of table)."""

ALL_CONCEPTS: Final = (
    HISTORY_CONCEPTS + DERIVED_CONCEPTS + MEDICATION_CLASSES + ABUSE_RISK_CONCEPTS
    + DATA_CONCEPTS + DOSE_CONCEPTS + VITAL_SIGN_CONCEPTS + DAY_OF_CONCEPTS
    + INFUSION_DATA_CONCEPTS
)
