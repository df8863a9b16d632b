"""The readable plain-text screening report that ``ketascreen screen`` prints."""

from __future__ import annotations

import textwrap

from ketascreen.checklist import dose_box_from
from ketascreen.escape import neutralise
from ketascreen.models.checklist import NO_DOSE_PREFIX
from ketascreen.models.result import Finding
from ketascreen.screening import Screening

DECISION_BANNERS = {
    "do-not-infuse": "[X] DO NOT INFUSE",
    "insufficient-data": "[?] INSUFFICIENT DATA - complete the missing items",
    "needs-review": "[!] NEEDS REVIEW - acknowledge each relative finding with a reason",
    "clear": "[OK] CLEAR for infusion",
}
SEVERITY_HEADINGS = {
    "absolute": "ABSOLUTE - do not infuse",
    "relative": "RELATIVE - physician must acknowledge",
    "info": "INFORMATION",
}
_WIDTH = 96


def _wrap(label: str, text: str) -> list[str]:
    return textwrap.wrap(text, _WIDTH, initial_indent=f"      {label:<8}",
                         subsequent_indent=" " * 14) or [f"      {label}"]


def _finding(finding: Finding) -> list[str]:
    mark = " (acknowledged)" if finding.acknowledged else ""
    lines = [f"  - {finding.title}{mark}   [{finding.rule_id} {finding.concept}]"]
    lines += _wrap("basis", finding.basis)
    lines += _wrap("action", finding.action)
    lines += _wrap("source", finding.source)
    return lines


def render_report(screening: Screening, *, import_warnings: tuple[str, ...] = ()) -> str:
    """The report: patient, decision, findings by severity, abuse risk, dose, rule set, and
    the data-quality warnings of a FHIR import. The dose is shown exactly when the screening
    shows it (the checklist's dose box, row for row); else the calculation's refusal, or the
    screening's no-dose reason (``do not infuse.``) when the calculation gave a dose. Control and
    invisible characters in any text are replaced by visible escapes (``\\x1b``)."""
    case, result, dose = screening.case, screening.result, screening.dose
    patient = case.patient
    lines = [
        f"ketascreen screening - {patient.name} ({patient.id}), born "
        f"{patient.birth_date.isoformat()}, {patient.sex}, age {case.age_years()}",
        f"Screening date {case.screening_date.isoformat()}; indication {case.indication}",
        "",
        "DECISION: " + DECISION_BANNERS[result.decision],
        "",
    ]
    for severity in ("absolute", "relative", "info"):
        group = [f for f in result.findings if f.severity == severity]
        if not group:
            continue
        lines.append(f"{SEVERITY_HEADINGS[severity]} ({len(group)})")
        for finding in group:
            lines += _finding(finding)
        lines.append("")
    if not result.findings:
        lines += ["No findings.", ""]
    for ack in case.acknowledgements:
        lines += _wrap("ack", f"{ack.concept}: {ack.reason}")
    risk = result.abuse_risk
    scores = []
    if risk.dast10 is not None:
        scores.append(f"DAST-10 {risk.dast10}")
    if risk.audit_c is not None:
        verdict = "positive" if risk.audit_c_positive else "negative"
        scores.append(f"AUDIT-C {risk.audit_c} ({verdict})")
    lines.append(f"Abuse risk: {risk.tier}" + (f" ({', '.join(scores)})" if scores else ""))
    lines += ["", "PUMP PROGRAMMING"]
    box = screening.dose_box
    if box is None:  # the screening decided there is no dose; the report names the most
        # specific reason: the calculation's refusal where there is one, else the screening's
        refused = dose_box_from(dose)[1]
        lines.append(f"  {refused or NO_DOSE_PREFIX + str(screening.no_dose_reason)}")
    else:  # the checklist's dose box, row for row: one quantity, one string everywhere
        lines += [f"  {label + ':':<21}{text}" for label, text in box.rows]
    if dose.working:
        lines.append("  Working:")
        lines += [f"    {line}" for line in dose.working]
    lines.append("")
    if import_warnings:
        lines += ["", f"IMPORTED RECORD: DATA-QUALITY WARNINGS ({len(import_warnings)})"]
        lines += [f"  - {w}" for w in import_warnings]
        lines.append("")
    lines.append(f"Rule set {result.ruleset.version}, sha256 {result.ruleset.sha256}")
    # Each line escaped on its own: a control character, an ANSI escape or a newline inside a
    # typed or imported text is printed as a visible escape (\x1b), never acted on.
    return "\n".join(neutralise(line) for line in lines) + "\n"
