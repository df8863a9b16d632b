"""The wording of the two substance-use screens, as published.

DAST-10: Skinner HA, The Drug Abuse Screening Test, Addictive Behaviors 1982;7(4):363-371; the
10-item version as distributed by NIDA and the Centre for Addiction and Mental Health (clinical
facts R78, R79). AUDIT-C: Bush K et al., Arch Intern Med 1998;158:1789-1795, the first three
AUDIT questions with their 0-4 answer scores (R81). Scoring is the core's
(:mod:`ketascreen.rules.scores`): item 3 of the DAST-10 is reverse-scored by the program, never
by the person answering.
"""

from __future__ import annotations

from typing import Final

DAST10_INTRODUCTION: Final = (
    "These questions refer to the past 12 months and to drug use other than alcohol and "
    "tobacco. \"Drug abuse\" refers to (1) the use of prescribed or over-the-counter drugs in "
    "excess of the directions, and (2) any nonmedical use of drugs. Answer every question "
    "Yes or No.")

DAST10_ITEMS: Final = (
    "Have you used drugs other than those required for medical reasons?",
    "Do you abuse more than one drug at a time?",
    "Are you always able to stop using drugs when you want to?",
    "Have you had \"blackouts\" or \"flashbacks\" as a result of drug use?",
    "Do you ever feel bad or guilty about your drug use?",
    "Does your spouse (or parents) ever complain about your involvement with drugs?",
    "Have you neglected your family because of your use of drugs?",
    "Have you engaged in illegal activities in order to obtain drugs?",
    "Have you ever experienced withdrawal symptoms (felt sick) when you stopped taking drugs?",
    "Have you had medical problems as a result of your drug use (e.g. memory loss, hepatitis, "
    "convulsions, bleeding)?",
)

DAST10_REVERSED_NOTE: Final = "Scores 1 point when answered No (reverse-scored by the program)."

AUDIT_C_QUESTIONS: Final = (
    ("How often do you have a drink containing alcohol?",
     ("Never", "Monthly or less", "2 to 4 times a month", "2 to 3 times a week",
      "4 or more times a week")),
    ("How many standard drinks containing alcohol do you have on a typical day?",
     ("1 or 2", "3 or 4", "5 or 6", "7 to 9", "10 or more")),
    ("How often do you have six or more drinks on one occasion?",
     ("Never", "Less than monthly", "Monthly", "Weekly", "Daily or almost daily")),
)
"""Each question with its five answers; an answer's position is its score (0 to 4)."""
