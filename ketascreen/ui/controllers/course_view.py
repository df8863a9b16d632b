"""The course window's duty: show a course (its infusions, PHQ-9 trend and figures), the day-of
re-check of the next infusion and the monitoring of the infusion under way, and, for a course
file, open it and save the re-check or the monitoring record into it.

Everything it decides comes from the core through :mod:`ketascreen.ui.actions.course`,
:mod:`~ketascreen.ui.actions.recheck` and :mod:`~ketascreen.ui.actions.monitoring`: the course
is validated by the course model (each problem names its full field path), the re-checked
infusion is screened by :func:`ketascreen.screening.run_course` with the rule set in force, and
the file is written atomically. The course file is changed only by the user's Save. A course
stored in the records is :class:`ketascreen.ui.controllers.course.CourseController`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ketascreen.errors import KnowledgeBaseError, StorageError
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
    from ketascreen.ui.dialogs import Dialogs
    from ketascreen.ui.qt_course import QtCourseWindow


class CourseViewController(QObject):
    """Shows a course in the course window; opens a course file into it and saves it.

    Args:
        dialogs: the questions asked (the window replaces them in tests).
        window: the main window (the course window's parent).
        rule_set: the rule set in force (the records database's clinic files when one is
            open; ``None``: the one in force without a database).

    Signals:
        message(str, int): a status-bar message and its timeout in ms (0: until replaced).
        opened: a course was opened (the course window shows it).
    """

    message = Signal(str, int)
    opened = Signal()

    def __init__(self, *, dialogs: Dialogs, window: QWidget,
                 rule_set: Callable[[], RuleSet | None]) -> None:
        super().__init__(window)
        self.dialogs = dialogs
        self.window = window
        self.rule_set = rule_set
        self.course_id: str | None = None
        self.record_view: CourseView | None = None
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
        with it (atomically) and show the course as saved."""
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
        course refuses (each with its path)."""
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
