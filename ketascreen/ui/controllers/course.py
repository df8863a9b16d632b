"""The course view's duty: open a course file, show it, screen the day-of re-check of the next
infusion and save the re-check or the monitoring record into the course file.

Signed in to the records database, the same view shows a course stored there (opened by its id,
or as the courses of a patient): the infusion states are the records' own; a physician starts a
course from a signed screening, and the day-of re-check is screened by the store and signed
through the Sign dialog (the signed checklist staged, put in place only once the store took the
infusion); a nurse's monitoring readings are recorded by the store, each value validated. What a
role may not do is not offered (a nurse sees no check or sign control).

Everything it decides comes from the core through :mod:`ketascreen.ui.actions.course`: the
course is validated by the course model (each problem names its full field path), the re-checked
infusion is screened by :func:`ketascreen.screening.run_course` with the rule set in force, and
the file is written atomically. The course file is changed only by the user's Save.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from ketascreen.errors import KetascreenError, KnowledgeBaseError, StorageError
from ketascreen.models.parsing import CourseValidationError
from ketascreen.ui.actions import course as course_actions
from ketascreen.ui.actions import monitoring as monitoring_actions
from ketascreen.ui.actions import recheck as recheck_actions
from ketascreen.ui.actions.files import write_file
from ketascreen.ui.widgets import describe_problem

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ketascreen.models.course import Course
    from ketascreen.records.courseviews import CourseView
    from ketascreen.rules import RuleSet
    from ketascreen.ui.controllers.session import SessionController
    from ketascreen.ui.dialogs import Dialogs
    from ketascreen.ui.qt_course import QtCourseWindow
    from ketascreen.ui.qt_sign_dialog import QtSignDialog
    from ketascreen.ui.settings import AppSettings


class CourseController(QObject):
    """Opens a course file into the course window and works on it.

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

    message = Signal(str, int)
    opened = Signal()

    def __init__(self, *, dialogs: Dialogs, window: QWidget,
                 rule_set: Callable[[], RuleSet | None],
                 session: SessionController | None = None, settings: AppSettings | None = None,
                 clinic: str | None = None) -> None:
        super().__init__(window)
        self.dialogs = dialogs
        self.window = window
        self.rule_set = rule_set
        self.session = session
        self.settings = settings
        self.clinic = clinic
        self.course_id: str | None = None
        self.record_view: CourseView | None = None
        self.sign_dialog: QtSignDialog | None = None
        self.pending_infusion: dict[str, object] | None = None
        self.course: Course | None = None
        self.path: Path | None = None
        self.view: QtCourseWindow | None = None
        self.prefill: recheck_actions.RecheckPrefill | None = None
        self.recheck_course: Course | None = None
        self.outcome: course_actions.InfusionScreening | None = None
        self.monitored = 0

    def _window(self) -> QtCourseWindow:
        if self.view is None:
            from ketascreen.ui.qt_course import QtCourseWindow  # noqa: PLC0415 - on first use

            self.view = QtCourseWindow(self.window)
            self.view.recheck.screen_requested.connect(self.screen_recheck)
            self.view.recheck.save_requested.connect(self.save_recheck)
            self.view.monitoring.save_requested.connect(self.save_monitoring)
        return self.view

    def unsaved(self) -> tuple[str, ...]:
        """What the open course window holds typed and not saved (``"the re-check"``,
        ``"the monitoring record"``); empty when nothing, or when the window is closed (closing
        it is how typed values are discarded)."""
        view = self.view
        if view is None or not view.isVisible():
            return ()
        return tuple(name for name, form in (("the re-check", view.recheck),
                                             ("the monitoring record", view.monitoring))
                     if form.has_input())

    def open_path(self, path: Path) -> bool:
        """Open the course file ``path`` in the course window; refuse an invalid one, naming
        every offending field, and refuse while the open course has values typed and not
        saved (nothing typed is thrown away unasked)."""
        unsaved = self.unsaved()
        if unsaved:
            self.dialogs.error("Open course file", (
                f"The course window holds {' and '.join(unsaved)} typed and not saved. Save "
                "it, or close the course window to discard it, then open the course again."))
            return False
        try:
            course = course_actions.open_course_file(path=path)
        except CourseValidationError as error:
            self.dialogs.error("Open course file", "\n".join(
                [f"{path.name} is not a valid course file:"]
                + [describe_problem(p, with_field=p.field) for p in error.problems]))
            return False
        self.path = path
        self.course_id = self.record_view = None
        self._offer_controls(check=True, monitor=True, records=False)
        self.show_course(course)
        view = self._window()
        view.show()
        view.raise_()
        view.activateWindow()
        view.show_tab(0)
        self.message.emit(f"Opened course {path.name}", 5000)
        self.opened.emit()
        return True

    def show_course(self, course: Course, *, keep_recheck: bool = False,
                    keep_monitoring: bool = False) -> None:
        """Show ``course``: its infusions, trend and figures, the next re-check, the monitoring
        of the infusion under way (the last one checked). With ``keep_recheck`` or
        ``keep_monitoring`` that form keeps what is typed in it (the other one was saved)."""
        self.course = course
        view = self._window()
        patient = course.screening.patient.id
        view.setWindowTitle(f"Course of {patient} - ketascreen")
        rows = course_actions.infusion_rows(course)
        view.overview.show_rows(
            f"<b>{patient}</b>: {len(course.infusions)} infusion(s) in the file"
            + ("" if course.plan is None else
               f", {course.plan.infusions} planned over {course.plan.weeks} weeks"), rows)
        self._show_screening_of_last(course, view)
        if not keep_recheck:
            self.prefill = recheck_actions.recheck_prefill(course)
            start = "" if self.prefill.new else course.last.start.strftime("%Y-%m-%dT%H:%M")
            view.recheck.load(self.prefill, start=start)
            self.recheck_course = None
            self.outcome = None
        if not keep_monitoring:
            self._load_monitoring(course, view)

    def _show_screening_of_last(self, course: Course, view: QtCourseWindow) -> None:
        outcome = self._screen(course, course.last.number)
        planned = None if course.plan is None else course.plan.infusions
        series = course_actions.phq9_points(course)
        if outcome is None or outcome.course is None:
            view.overview.show_trend(series, course_actions.phq9_chart_svg(
                series, planned=planned))
            view.overview.show_figures(None, note="The course could not be screened.")
            return
        series = outcome.course.phq9_series
        view.overview.show_trend(series, course_actions.phq9_chart_svg(
            series, planned=outcome.course.figures.planned))
        view.overview.show_figures(
            outcome.course.figures,
            note=f"Figures of infusion {outcome.course.infusion}, the last "
                 + ("in the file." if self.course_id is None else "stored in the records."))

    def _screen(self, course: Course,
                number: int) -> course_actions.InfusionScreening | None:
        try:
            return course_actions.screen_infusion(course=course, infusion=number,
                                                  rules=self.rule_set())
        except (KnowledgeBaseError, StorageError) as error:
            self.message.emit(f"The course cannot be screened: {error}", 0)
            return None

    def _load_monitoring(self, course: Course, view: QtCourseWindow) -> None:
        number = course_actions.monitored_infusion(course)
        self.monitored = number
        infusion = course.infusion(number)
        minutes = monitoring_actions.infusion_minutes(course, number)
        baseline = infusion.pre.blood_pressure
        band = None if baseline is None else monitoring_actions.blood_pressure_band(baseline)
        view.monitoring.load(
            number, () if minutes is None else monitoring_actions.monitoring_minutes(minutes),
            infusion.monitoring, band=band, notify=self._notify_values(),
            baseline=baseline, rescue=infusion.rescue, discharge=infusion.discharge)

    def _notify_values(self) -> monitoring_actions.NotifyValues:
        try:
            return monitoring_actions.notify_values(rules=self.rule_set())
        except (KnowledgeBaseError, StorageError) as error:
            self.message.emit(f"The clinic policy cannot be read ({error}): the monitoring "
                              "form flags with the shipped notify values", 0)
            return monitoring_actions.DEFAULT_NOTIFY

    def screen_recheck(self) -> course_actions.InfusionScreening | None:
        """Screen the next infusion as the re-check form holds it: the fields the course
        refuses are listed by their path, else the findings and the dose are shown."""
        if self.course_id is not None:
            return self._screen_stored()
        if self.course is None or self.prefill is None or self.view is None:
            return None
        start, pre, protocol = self.view.recheck.values()
        try:
            course = recheck_actions.course_with_recheck(
                self.course, self.prefill, start=start, pre=pre, protocol=protocol,
                acknowledgements=self.view.recheck.acknowledgements)
        except CourseValidationError as error:
            self.recheck_course = self.outcome = None
            self.view.recheck.show_outcome(None, course_actions.problems_of(error))
            return None
        self.recheck_course = course
        self.outcome = self._screen(course, self.prefill.number)
        self.view.recheck.show_outcome(
            None if self.outcome is None else self.outcome.form, (),
            None if self.outcome is None else self.outcome.course)
        return self.outcome

    def _save(self, course: Course, what: str, *, saved: str) -> bool:
        if self.path is None:
            return False
        data = course_actions.course_file_bytes(course=course)
        try:
            write_file(path=self.path, data=data, force=True)
        except OSError as error:
            self.dialogs.error("Save course file", f"{self.path}: {error.strerror or error}")
            return False
        view = self.view
        prefill = recheck_actions.recheck_prefill(course)
        self.show_course(
            course,
            keep_recheck=(saved != "recheck" and view is not None and view.recheck.has_input()
                          and self.prefill == prefill),
            keep_monitoring=(saved != "monitoring" and view is not None
                             and view.monitoring.has_input()))
        self.message.emit(f"Saved {what} to {self.path.name}", 5000)
        return True

    def save_recheck(self) -> bool:
        """Screen the re-check again and, when the course accepts it, write the course file
        with it (atomically) and show the course as saved. A course of the records: screen
        it with the store and sign it (:meth:`sign_stored`)."""
        if self.course_id is not None:
            return self.sign_stored()
        if (self.view is not None and self.view.monitoring.has_input()
                and self.prefill is not None and self.prefill.new):
            self.dialogs.error("Save course file", (
                f"Save the monitoring record of infusion {self.monitored} first: saving the "
                f"re-check of infusion {self.prefill.number} makes it the infusion under way."))
            return False
        self.screen_recheck()
        if self.recheck_course is None or self.prefill is None:
            self.message.emit("Not saved: correct the fields listed in the re-check form", 0)
            return False
        return self._save(self.recheck_course, f"the re-check of infusion {self.prefill.number}",
                          saved="recheck")

    def save_monitoring(self) -> bool:
        """Write the monitoring form's readings into the course file, or list the fields the
        course refuses (each with its path). A course of the records: the new readings are
        recorded by the store (:meth:`record_stored`)."""
        if self.course_id is not None:
            return self.record_stored()
        if self.course is None or self.view is None:
            return False
        try:
            form = self.view.monitoring
            course = monitoring_actions.course_with_monitoring(
                self.course, self.monitored, form.rows(), rescue=form.new_rescue(),
                discharge=form.new_discharge())
        except CourseValidationError as error:
            self.view.monitoring.show_problems(
                [describe_problem(p, with_field=p.field) for p in error.problems])
            return False
        return self._save(course, f"the monitoring of infusion {self.monitored}",
                          saved="monitoring")

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

    def _offer_controls(self, *, check: bool, monitor: bool, records: bool) -> None:
        """Offer only what the role may do: the re-check (screen, sign) and the monitoring
        record's save; their words say where they save."""
        view = self._window()
        view.tabs.setTabVisible(1, check)
        view.recheck.screen_button.setVisible(check)
        view.recheck.save_button.setVisible(check)
        view.recheck.save_button.setText("Si&gn and store in the records..." if records
                                         else "Sa&ve to the course file")
        view.monitoring.save_button.setVisible(monitor)
        view.monitoring.add_button.setVisible(monitor)
        view.monitoring.save_button.setText("&Save the readings to the records" if records
                                            else "&Save the record to the course file")

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
