"""The desktop app's only door into the core: small keyword-only action functions.

Each user action (screen the form, open or save a case file, import a FHIR record, read a
certificate, sign the checklist) is one short function here that calls one core entry point and
hands back plain data or a typed core error. Widgets never call the core themselves and hold no
clinical logic; nothing in this module imports Qt, so every action is testable without a display
(Anki's ``aqt/operations`` layering).

One module per duty: :mod:`.screening` (screen the form, word the decision), :mod:`.measurements`
(questionnaire, instruments, units, protocol defaults), :mod:`.recognition` (medications and
problems), :mod:`.files` (case files, FHIR import), :mod:`.signing` (the checklist, signing,
signed checklists read back), and for a course of infusions :mod:`.course` (course files,
infusion states, the PHQ-9 chart), :mod:`.recheck` (the day-of re-check) and :mod:`.monitoring`
(the nurse's monitoring form).
"""

from __future__ import annotations

from ketascreen.ui.actions.files import (
    ImportedCase,
    OpenedCase,
    case_file_bytes,
    import_fhir_file,
    normalised,
    open_case_file,
    save_case_file,
    write_file,
)
from ketascreen.ui.actions.measurements import (
    HistoryQuestion,
    MeasurementKind,
    audit_c_score,
    convert_measurement,
    dast10_score,
    history_questions,
    protocol_defaults,
    unit_problem,
)
from ketascreen.ui.actions.recognition import (
    DrugName,
    Recognition,
    drug_names,
    preload_condition_context,
    recognise_condition,
    recognise_medication,
)
from ketascreen.ui.actions.screening import (
    SIGNATURE_MEANING_TEXT,
    Decision,
    FormScreening,
    case_of,
    decision_label,
    rules_unavailable,
    ruleset,
    screen_document,
    screening_of,
    signing_refusal,
    signing_status,
)
from ketascreen.ui.actions.signing import (
    OpenedSignedChecklist,
    PageSize,
    SignedChecklist,
    checklist_pdf,
    configured_trust,
    display_copy,
    open_signed_checklist,
    read_signer,
    record_id_of,
    sign_checklist,
)

__all__ = [
    "SIGNATURE_MEANING_TEXT",
    "Decision",
    "DrugName",
    "FormScreening",
    "HistoryQuestion",
    "ImportedCase",
    "MeasurementKind",
    "OpenedCase",
    "OpenedSignedChecklist",
    "PageSize",
    "Recognition",
    "SignedChecklist",
    "audit_c_score",
    "case_file_bytes",
    "case_of",
    "checklist_pdf",
    "configured_trust",
    "convert_measurement",
    "dast10_score",
    "decision_label",
    "display_copy",
    "drug_names",
    "history_questions",
    "import_fhir_file",
    "normalised",
    "open_case_file",
    "open_signed_checklist",
    "preload_condition_context",
    "protocol_defaults",
    "read_signer",
    "recognise_condition",
    "recognise_medication",
    "record_id_of",
    "rules_unavailable",
    "ruleset",
    "save_case_file",
    "screen_document",
    "screening_of",
    "sign_checklist",
    "signing_refusal",
    "signing_status",
    "unit_problem",
    "write_file",
]
