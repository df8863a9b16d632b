"""The course view's controller as the main window holds it: a course file or a course of the
records in the course window (:mod:`.course_view`, :mod:`.course_records`), and the main
window's course entries (Records > Courses of this patient, Start a course; Go > course view),
read from the record or the checklist open in the app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ketascreen.ui import actions
from ketascreen.ui.controllers.course_records import StoredCourseController

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ketascreen.rules import RuleSet
    from ketascreen.ui.controllers.checklist import ChecklistController
    from ketascreen.ui.controllers.session import SessionController
    from ketascreen.ui.dialogs import Dialogs
    from ketascreen.ui.settings import AppSettings


class CourseController(StoredCourseController):
    """Opens a course file, or a course of the records, into the course window and works on it.

    Args:
        dialogs: the questions asked (the window replaces them in tests).
        window: the main window (the course window's parent).
        rule_set: the rule set in force (the records database's clinic files when one is
            open; ``None``: the one in force without a database).
        session: the records session (a course stored in the records; ``None``: files only).
        settings: where the Sign dialog remembers folders (with ``session``).
        clinic: the clinic name printed on a checklist.
        checklist: the form's checklist (the patient and the signed screening open in the app).
        open_file: chooses a case or course file and opens it (Go > course view, no course
            open).

    Signals:
        message(str, int): a status-bar message and its timeout in ms (0: until replaced).
        opened: a course was opened (the course window shows it).
    """

    def __init__(self, *, dialogs: Dialogs, window: QWidget,
                 rule_set: Callable[[], RuleSet | None],
                 session: SessionController | None = None, settings: AppSettings | None = None,
                 clinic: str | None = None, checklist: ChecklistController | None = None,
                 open_file: Callable[[], bool] | None = None) -> None:
        super().__init__(dialogs=dialogs, window=window, rule_set=rule_set, session=session,
                         settings=settings, clinic=clinic)
        self.checklist = checklist
        self.open_file = open_file

    # -- the main window's course entries ---------------------------------------------------

    def show_window(self) -> bool:
        """Go > course view: show the open course's window, or choose a course file."""
        if self.view is not None and self.course is not None:
            self.view.show()
            self.view.raise_()
            self.view.activateWindow()
            return True
        return False if self.open_file is None else self.open_file()

    def open_screening_record(self) -> str | None:
        """The signed screening open in the app: the record opened from today's checklists,
        else the checklist just signed into the records."""
        record = None if self.session is None else self.session.record
        if record is not None:
            return record.item.record_id
        view = None if self.checklist is None else self.checklist.signed_view
        return view.record_id if view is not None and view.stored else None

    def open_patient(self) -> str | None:
        """The patient of the open record or of the form."""
        record = None if self.session is None else self.session.record
        if record is not None:
            return record.item.patient.patient_id
        # as screened last (never screens from here)
        outcome = None if self.checklist is None else self.checklist.outcome
        case = None if outcome is None else actions.case_of(outcome)
        return None if case is None else case.patient.id

    def offered(self) -> tuple[bool, bool]:
        """Whether Records > Courses of this patient and Start a course are offered: someone
        signed in and a patient open; a signed screening open and a role that may screen."""
        actor = None if self.session is None else self.session.actor
        may_start = False
        if actor is not None:
            from ketascreen.ui import records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

            may_start = records_actions.may(actor=actor,
                                            permission=records_actions.Permission.SCREEN)
        return (actor is not None and self.open_patient() is not None,
                self.open_screening_record() is not None and may_start)

    def courses_of_open_patient(self) -> bool:
        """Records > Courses of this patient: the latest course of the open record's (or the
        form's) patient, from the records, in the course view."""
        patient = self.open_patient()
        if patient is None:
            self.dialogs.error("Courses of this patient", "Open a signed checklist or a "
                               "screening of the patient first.")
            return False
        return self.courses_of_patient(patient)

    def start_from_open_screening(self) -> bool:
        """Records > Start a course: a course of infusions after the open signed screening."""
        record_id = self.open_screening_record()
        if record_id is None:
            self.dialogs.error("Start a course", "Open the patient's signed screening first "
                               "(from today's signed checklists), or sign it.")
            return False
        return self.start_course(record_id)
