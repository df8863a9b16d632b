"""A course stored in the records database, in the course window: opened by its id or as the
courses of a patient, started from a signed screening, its day-of re-check screened by the store
and signed through the Sign dialog (the signed checklist staged, put in place only once the store
took the infusion), and a nurse's monitoring readings recorded by the store, each value
validated. The infusion states are the records' own; what a role may not do is not offered (a
nurse sees no check or sign control).

Everything goes through :mod:`ketascreen.ui.course_records_actions` (imported lazily:
SQLAlchemy is slow to load); a course file is :mod:`.course_view`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketascreen.errors import KetascreenError, StorageError
from ketascreen.models.parsing import CourseValidationError
from ketascreen.ui.actions import course as course_actions
from ketascreen.ui.actions import monitoring as monitoring_actions
from ketascreen.ui.actions import recheck as recheck_actions
from ketascreen.ui.controllers.course_view import CourseViewController
from ketascreen.ui.widgets import describe_problem

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ketascreen.models.course import Course
    from ketascreen.records.courseviews import CourseView
    from ketascreen.rules import RuleSet
    from ketascreen.ui.controllers.session import SessionController
    from ketascreen.ui.dialogs import Dialogs
    from ketascreen.ui.qt_sign_dialog import QtSignDialog
    from ketascreen.ui.settings import AppSettings


class StoredCourseController(CourseViewController):
    """The course window on a course file or, signed in, on a course of the records.

    Args:
        dialogs: the questions asked (the window replaces them in tests).
        window: the main window (the course window's parent).
        rule_set: the rule set in force (the records database's clinic files when one is
            open; ``None``: the one in force without a database).
        session: the records session (a course stored in the records; ``None``: files only).
        settings: where the Sign dialog remembers folders (with ``session``).
        clinic: the clinic name printed on a checklist.

    Signals:
        message(str, int): a status-bar message and its timeout in ms (0: until replaced).
        opened: a course was opened (the course window shows it).
    """

    def __init__(self, *, dialogs: Dialogs, window: QWidget,
                 rule_set: Callable[[], RuleSet | None],
                 session: SessionController | None = None, settings: AppSettings | None = None,
                 clinic: str | None = None) -> None:
        super().__init__(dialogs=dialogs, window=window, rule_set=rule_set)
        self.session = session
        self.settings = settings
        self.clinic = clinic
        self.sign_dialog: QtSignDialog | None = None
        self.pending_infusion: dict[str, object] | None = None

    # -- the course window's saves: the records' own for a stored course ---------------------

    def screen_recheck(self) -> course_actions.InfusionScreening | None:
        """Screen the next infusion as the re-check form holds it: the fields the course
        refuses are listed by their path, else the findings and the dose are shown (a course
        of the records: screened by the store)."""
        if self.course_id is not None:
            return self._screen_stored()
        return super().screen_recheck()

    def save_recheck(self) -> bool:
        """Save the re-check into the course file (:meth:`CourseViewController.save_recheck`).
        A course of the records: screen it with the store and sign it (:meth:`sign_stored`)."""
        if self.course_id is not None:
            return self.sign_stored()
        return super().save_recheck()

    def save_monitoring(self) -> bool:
        """Save the monitoring record into the course file
        (:meth:`CourseViewController.save_monitoring`). A course of the records: the new
        readings are recorded by the store (:meth:`record_stored`)."""
        if self.course_id is not None:
            return self.record_stored()
        return super().save_monitoring()

    # -- a course stored in the records ------------------------------------------------------

    def _records(self, title: str) -> tuple[Any, Any] | None:
        """The open store and the signed-in user, or ``None`` (told) when nobody is signed in."""
        session = self.session
        if session is None or session.store is None or session.actor is None:
            self.dialogs.error(title, "Sign in to the records first (Records > Sign in).")
            return None
        return session.store, session.actor

    def _refused(self, title: str, error: Exception) -> None:
        """Show a records refusal from its type and fields."""
        from ketascreen.ui import course_records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

        text = course_records_actions.course_error_text(error=error)
        if text is not None:
            self.dialogs.error(title, text)
        elif self.session is not None:
            self.session.records_error(title, error)
        else:  # pragma: no cover - records mode always has a session
            self.dialogs.error(title, str(error))

    def courses_of_patient(self, patient_id: str) -> bool:
        """Open the latest course of patient ``patient_id`` from the records (the others are
        named in the status bar); tell when the patient has none."""
        from ketascreen.ui import course_records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

        opened = self._records("Courses of this patient")
        if opened is None:
            return False
        store, actor = opened
        try:
            ids = course_records_actions.courses_of_patient(store=store, actor=actor,
                                                            patient_id=patient_id)
        except (KetascreenError, StorageError) as error:
            self._refused("Courses of this patient", error)
            return False
        if not ids:
            self.dialogs.info("Courses of this patient", f"Patient {patient_id} has no course "
                              "of infusions in the records. A physician starts one from the "
                              "signed screening (Records > Start a course).")
            return False
        if not self.open_record_course(ids[-1]):
            return False
        if len(ids) > 1:
            self.message.emit(f"Patient {patient_id}: courses {', '.join(ids)} (the latest "
                              "is shown)", 0)
        return True

    def start_course(self, record_id: str) -> bool:
        """Start a course of infusions after the signed screening ``record_id`` and open it."""
        from ketascreen.ui import course_records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

        opened = self._records("Start a course")
        if opened is None:
            return False
        store, actor = opened
        try:
            started = course_records_actions.start_course(store=store, actor=actor,
                                                          record_id=record_id)
        except (KetascreenError, StorageError) as error:
            self._refused("Start a course", error)
            return False
        return self.open_record_course(started.course_id)

    def open_record_course(self, course_id: str) -> bool:
        """Open course ``course_id`` of the records in the course window (refused while the
        open course has values typed and not saved)."""
        unsaved = self.unsaved()
        if unsaved and course_id != self.course_id:
            self.dialogs.error("Open course", (
                f"The course window holds {' and '.join(unsaved)} typed and not saved. Save "
                "it, or close the course window to discard it, then open the course again."))
            return False
        if not self.reload_stored(course_id):
            return False
        view = self._window()
        view.show()
        view.raise_()
        view.activateWindow()
        view.show_tab(0)
        self.message.emit(f"Opened course {course_id} from the records", 5000)
        self.opened.emit()
        return True

    def reload_stored(self, course_id: str | None = None, *, keep_recheck: bool = False,
                      keep_monitoring: bool = False) -> bool:
        """Read course ``course_id`` (default: the open one) from the records and show it."""
        from ketascreen.ui import (  # noqa: PLC0415 - SQLAlchemy, lazily
            course_records_actions,
            records_actions,
        )

        course_id = course_id or self.course_id
        opened = self._records("Open course")
        if opened is None or course_id is None:
            return False
        store, actor = opened
        permission = records_actions.Permission
        may_check = all(records_actions.may(actor=actor, permission=p)
                        for p in (permission.SCREEN, permission.SIGN))
        may_monitor = records_actions.may(actor=actor, permission=permission.RECORD_MONITORING)
        try:
            shown = course_records_actions.course_view(store=store, actor=actor,
                                                       course_id=course_id)
            course = course_records_actions.course_document(store=store, actor=actor,
                                                            course_id=course_id)
            case = None
            if course is None and may_check:
                case = records_actions.signed_record(
                    store=store, actor=actor, record_id=shown.screening_record).case()
        except (KetascreenError, StorageError) as error:
            self._refused("Open course", error)
            return False
        self.path = None
        self.course_id, self.record_view, self.course = shown.course_id, shown, course
        self._offer_controls(check=may_check, monitor=may_monitor, records=True)
        self._show_stored(shown, course, case, keep_recheck=keep_recheck,
                          keep_monitoring=keep_monitoring)
        return True

    def _show_stored(self, shown: CourseView, course: Course | None, case: Any, *,
                     keep_recheck: bool, keep_monitoring: bool) -> None:
        view = self._window()
        view.setWindowTitle(f"Course {shown.course_id} of {shown.patient_id} - ketascreen")
        rows = course_actions.stored_rows(
            [(i.number, i.state.value, i.start) for i in shown.infusions], course)
        plan = ("" if shown.planned is None
                else f", {shown.planned} planned over {shown.plan_weeks} weeks")
        view.overview.show_rows(
            f"<b>{shown.patient_name} ({shown.patient_id})</b>: course {shown.course_id} from "
            f"the records, after screening {shown.screening_record}; {shown.stored} "
            f"infusion(s) stored{plan}", rows)
        if course is None:
            view.overview.show_trend((), None)
            view.overview.show_figures(None, note="No infusion is stored yet: the figures "
                                       "appear once the first is checked.")
        else:
            self._show_screening_of_last(course, view)
        if not keep_recheck:
            # a stored infusion whose checklist is not signed (a draft) is checked again
            last = shown.infusions[shown.stored - 1] if shown.stored else None
            again = last is not None and last.state.value == "checked"
            self.prefill = (recheck_actions.recheck_prefill(course, again=again)
                            if course is not None
                            else None if case is None else recheck_actions.first_prefill(case))
            if self.prefill is not None:
                view.recheck.load(self.prefill, start="" if not again or course is None
                                  else course.last.start.strftime("%Y-%m-%dT%H:%M"))
            self.recheck_course = self.outcome = None
            self.pending_infusion = None
        if not keep_monitoring:
            if course is not None:
                self._load_monitoring(course, view)
            else:
                view.monitoring.load(0, (), (), band=None, notify=self._notify_values(),
                                     baseline=None)

    def _screen_stored(self) -> course_actions.InfusionScreening | None:
        from ketascreen.ui import course_records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

        view, prefill = self.view, self.prefill
        opened = self._records("Screen the infusion")
        if view is None or prefill is None or opened is None or self.course_id is None:
            return None
        store, actor = opened
        start, pre, protocol = view.recheck.values()
        infusion = recheck_actions.recheck_infusion(
            prefill, start=start, pre=pre, protocol=protocol,
            acknowledgements=view.recheck.acknowledgements)
        self.outcome = self.pending_infusion = None
        try:
            screening = course_records_actions.screen_infusion(store=store, actor=actor,
                                                               course_id=self.course_id,
                                                               infusion=infusion)
        except CourseValidationError as error:
            view.recheck.show_outcome(None, course_actions.problems_of(error))
            return None
        except (KetascreenError, StorageError) as error:
            self._refused("Screen the infusion", error)
            return None
        self.pending_infusion = infusion
        self.outcome = course_actions.infusion_screening(screening)
        view.recheck.show_outcome(self.outcome.form, (), self.outcome.course)
        return self.outcome

    def sign_stored(self) -> bool:
        """Screen the re-check with the store, then open the Sign dialog on that screening;
        once signed, the store takes the infusion with its signed checklist (the PDF is put in
        place only then)."""
        from ketascreen.ui.qt_sign_dialog import QtSignDialog  # noqa: PLC0415 - pyHanko, lazily

        if (self.view is not None and self.view.monitoring.has_input()
                and self.prefill is not None):
            self.dialogs.error("Sign the infusion", (
                f"Save the monitoring readings of infusion {self.monitored} first: signing "
                f"infusion {self.prefill.number} makes it the infusion under way."))
            return False
        outcome = self._screen_stored()
        session = self.session
        if (outcome is None or self.pending_infusion is None or session is None
                or self.settings is None or self.course_id is None):
            self.message.emit("Not signed: correct the fields listed in the re-check form", 0)
            return False
        infusion = self.pending_infusion
        case = outcome.form.screening.case if outcome.form.screening is not None else None
        folder = Path(self.settings.folder("checklist") or Path.home())
        patient = "" if case is None else f"{case.patient.id}-"
        name = f"{patient}{self.course_id}-infusion-{infusion['number']}-checklist.pdf"
        dialog = QtSignDialog(outcome.form, self.settings, folder / name, clinic=self.clinic,
                              store=session.store, actor=session.actor, parent=self.view)
        dialog.accepted.connect(lambda: self._signed_stored(dialog, infusion))
        self.sign_dialog = dialog
        dialog.open()
        return True

    def _signed_stored(self, dialog: QtSignDialog, infusion: dict[str, object]) -> None:
        from ketascreen.ui import course_records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

        signed = dialog.signed
        opened = self._records("Sign the infusion")
        if signed is None or opened is None or self.course_id is None:
            return
        store, actor = opened
        try:
            pdf = (signed.staged.temporary if signed.staged is not None
                   else signed.path).read_bytes()
            stored = course_records_actions.check_infusion(store=store, actor=actor,
                                                           course_id=self.course_id,
                                                           infusion=infusion, signed_pdf=pdf)
        except (KetascreenError, StorageError, OSError) as error:
            if signed.staged is not None:
                signed.staged.discard()
            self.message.emit(f"Signed checklist NOT written to {signed.path}: the infusion "
                              "could not be stored (see the message)", 0)
            if isinstance(error, OSError):
                self.dialogs.error("Sign the infusion", f"{signed.path}: {error.strerror}")
            else:
                self._refused("Sign the infusion", error)
            return
        if signed.staged is not None:
            signed.staged.commit()
        self.reload_stored(keep_monitoring=self.view is not None
                           and self.view.monitoring.has_input())
        self.message.emit(f"Infusion {infusion['number']} signed and stored as "
                          f"{stored.record_id}; checklist {signed.path}", 0)

    def record_stored(self) -> bool:
        """Record the monitoring readings typed after those recorded already; a refused value
        is listed with its field path, and nothing of that save is recorded."""
        from ketascreen.ui import course_records_actions  # noqa: PLC0415 - SQLAlchemy, lazily

        opened = self._records("Record the monitoring")
        if opened is None or self.view is None or self.course is None or not self.course_id:
            return False
        store, actor = opened
        recorded = self.course.infusion(self.monitored).monitoring
        changed = self.view.monitoring.changed_minutes(
            up_to=max((r.minute for r in recorded), default=-1))
        if changed:
            self.view.monitoring.show_problems([
                f"infusions[{self.monitored - 1}].monitoring: the reading at minute {m} is "
                "recorded already and is never changed in the records; put it back as it "
                "was (or close the course window to discard what was typed)" for m in changed])
            return False
        readings = monitoring_actions.new_readings(self.course, self.monitored,
                                                   self.view.monitoring.rows())
        rescue = self.view.monitoring.new_rescue()
        discharge = self.view.monitoring.new_discharge()
        if not readings and not rescue and discharge is None:
            self.view.monitoring.show_problems(
                ["No new reading, rescue drug or discharge typed to record."])
            return False
        try:
            findings = course_records_actions.record_after_infusion(
                store=store, actor=actor, course_id=self.course_id, number=self.monitored,
                monitoring=readings, rescue=rescue, discharge=discharge)
        except CourseValidationError as error:
            self.view.monitoring.show_problems(
                [describe_problem(p, with_field=p.field) for p in error.problems])
            return False
        except (KetascreenError, StorageError) as error:
            self._refused("Record the monitoring", error)
            return False
        number = self.monitored
        self.reload_stored(keep_recheck=self.view.recheck.has_input())
        self.message.emit(f"Recorded {len(readings)} reading(s), {len(rescue)} rescue drug(s)"
                          + (", the discharge" if discharge is not None else "")
                          + f" of infusion {number} ({len(findings)} finding(s))", 0)
        return True
