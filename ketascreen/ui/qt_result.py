"""Views of the screening result: the decision banner and the findings panel.

The decision banner is always visible. It shows an icon, the decision in words and what to do
next; its colour only repeats what the words say. The findings panel groups the findings by
severity, each with an icon and the severity's word, each expandable to its basis (the inputs
that made it fire), the action and the source. A finding the physician may acknowledge carries
an Acknowledge control that needs a typed reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ketascreen.errors import FieldProblem
from ketascreen.models.result import Finding
from ketascreen.ui import actions
from ketascreen.ui.actions import FormScreening
from ketascreen.ui.widgets import (
    SEVERITY_HEADING,
    SEVERITY_TEXT,
    describe_problem,
    set_text,
    severity_icon,
    standard_icon,
)

_DECISION_LOOK = {
    # decision: (icon, background, text colour)
    "do-not-infuse": (QStyle.StandardPixmap.SP_MessageBoxCritical, "#b00020", "#ffffff"),
    "insufficient-data": (QStyle.StandardPixmap.SP_MessageBoxQuestion, "#ffe08a", "#000000"),
    "needs-review": (QStyle.StandardPixmap.SP_MessageBoxWarning, "#ffc870", "#000000"),
    "clear": (QStyle.StandardPixmap.SP_DialogApplyButton, "#c8ecc8", "#000000"),
    "not-screened": (QStyle.StandardPixmap.SP_MessageBoxInformation, "#e4e4e4", "#000000"),
}
_KIND_TEXT = {"contraindication": "Contraindication", "interaction": "Interaction",
              "abuse-risk": "Abuse risk", "data": "Missing or doubtful data", "dose": "Dose"}


class QtDecision(QFrame):
    """The decision banner of a :class:`~ketascreen.ui.actions.FormScreening`.

    Args:
        parent: the owning widget.

    Signals:
        none (it only shows).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("decision")
        self.setAutoFillBackground(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        self.icon = QLabel(self)
        self.icon.setFixedSize(40, 40)
        layout.addWidget(self.icon)
        column = QVBoxLayout()
        layout.addLayout(column, 1)
        self.title = QLabel(self)
        self.title.setObjectName("decision-title")
        self.explanation = QLabel(self)
        self.explanation.setObjectName("decision-explanation")
        self.explanation.setWordWrap(True)
        self.signing = QLabel(self)
        self.signing.setObjectName("decision-signing")
        self.signing.setWordWrap(True)
        column.addWidget(self.title)
        column.addWidget(self.explanation)
        column.addWidget(self.signing)
        self.decision: str = ""
        self.show_outcome(None, pending=False)

    def show_outcome(self, outcome: FormScreening | None, *, pending: bool) -> None:
        """Show the decision of ``outcome`` (``None``: nothing screened yet)."""
        if outcome is None or outcome.decision is None:
            key = "not-screened"
            title = "NOT SCREENED"
            count = 0 if outcome is None else len({p.field for p in outcome.problems})
            explanation = ("Enter the patient to start the screening." if outcome is None else
                           f"{count} field{' needs' if count == 1 else 's need'} a value or a "
                           "correction (marked on the form). No decision and no dose until "
                           "then.")
        else:
            key = outcome.decision
            title, explanation = actions.decision_label(decision=outcome.decision)
        if key != self.decision:  # restyling is costly: only when the decision changes
            icon, background, colour = _DECISION_LOOK[key]
            self.icon.setPixmap(standard_icon(icon).pixmap(QSize(36, 36)))
            self.setStyleSheet(f"QFrame#decision {{ background: {background}; border: 2px "
                               f"solid #303030; border-radius: 6px; }} QFrame#decision QLabel "
                               f"{{ color: {colour}; }}")
            self.decision = key
        set_text(self.title, f"<span style='font-size: 20px; font-weight: 800;'>{title}</span>"
                           + ("  <i>(updating...)</i>" if pending else ""))
        set_text(self.explanation, explanation)
        set_text(self.signing, actions.signing_status(outcome=outcome))
        self.setAccessibleName(f"Decision: {title}. {explanation}")


class QtFinding(QFrame):
    """One finding: severity icon and word, title, and expandable basis, action and source.

    Args:
        finding: the finding shown.
        acknowledgeable: whether the policy lets the physician acknowledge it.
        reason: the recorded acknowledgement reason, if any.
        parent: the owning widget.

    Signals:
        acknowledge_requested: (concept, reason) the physician confirmed a typed reason.
        withdraw_requested: (concept) the physician withdrew an acknowledgement.
    """

    acknowledge_requested = Signal(str, str)
    withdraw_requested = Signal(str)

    def __init__(self, finding: Finding, acknowledgeable: bool, reason: str | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.finding = finding
        self.acknowledgeable = acknowledgeable
        self.recorded_reason = reason
        self._editing = False
        self._severity = ""
        self.setObjectName(f"finding-{finding.rule_id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        header = QHBoxLayout()
        layout.addLayout(header)
        self.expander = QToolButton(self)
        self.expander.setObjectName("expander")
        self.expander.setArrowType(Qt.ArrowType.RightArrow)
        self.expander.setCheckable(True)
        self.expander.setAutoRaise(True)
        self.expander.toggled.connect(self.set_expanded)
        header.addWidget(self.expander, 0, Qt.AlignmentFlag.AlignTop)
        self.icon = QLabel(self)
        header.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        self.heading = QLabel(self)
        self.heading.setWordWrap(True)
        self.heading.setObjectName("finding-heading")
        header.addWidget(self.heading, 1)
        self.state = QLabel(self)
        self.state.setObjectName("finding-state")
        self.state.setWordWrap(True)
        layout.addWidget(self.state)
        self.details = QLabel(self)
        self.details.setObjectName("finding-details")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.hide()
        layout.addWidget(self.details)
        layout.addLayout(self._build_controls())
        self.show_finding(finding, acknowledgeable, reason)

    def _build_controls(self) -> QHBoxLayout:
        """The acknowledgement controls: Acknowledge, reason, Confirm, Cancel, Withdraw."""
        self.ack_button = QPushButton("Acknowledge...", self)
        self.ack_button.setObjectName("acknowledge")
        self.ack_button.clicked.connect(self._start_acknowledgement)
        self.reason = QLineEdit(self)
        self.reason.setObjectName("acknowledge-reason")
        self.reason.setPlaceholderText("Reason for proceeding despite this finding (required)")
        self.reason.textChanged.connect(self._reason_changed)
        self.reason.returnPressed.connect(self._confirm)
        self.confirm = QPushButton("Confirm acknowledgement", self)
        self.confirm.setObjectName("acknowledge-confirm")
        self.confirm.clicked.connect(self._confirm)
        self.cancel = QPushButton("Cancel", self)
        self.cancel.clicked.connect(self._cancel)
        self.withdraw = QPushButton("Withdraw acknowledgement", self)
        self.withdraw.setObjectName("acknowledge-withdraw")
        self.withdraw.clicked.connect(lambda: self.withdraw_requested.emit(self.finding.concept))
        controls = QHBoxLayout()
        for widget in (self.ack_button, self.reason, self.confirm, self.cancel, self.withdraw):
            controls.addWidget(widget)
        controls.addStretch(1)
        return controls

    def set_expanded(self, expanded: bool) -> None:
        """Show or hide the basis, action and source."""
        self.expander.setArrowType(Qt.ArrowType.DownArrow if expanded
                                   else Qt.ArrowType.RightArrow)
        if self.expander.isChecked() != expanded:
            self.expander.setChecked(expanded)
        self.details.setVisible(expanded)

    def show_finding(self, finding: Finding, acknowledgeable: bool, reason: str | None) -> None:
        """Show ``finding`` (the row is reused across re-screenings; typing is kept)."""
        self.finding, self.acknowledgeable, self.recorded_reason = finding, acknowledgeable, reason
        if self._severity != finding.severity:
            self.icon.setPixmap(severity_icon(finding.severity).pixmap(QSize(20, 20)))
            self._severity = finding.severity
        heading = (f"<b>{SEVERITY_TEXT[finding.severity]}</b> \u00b7 {_escape(finding.title)}"
                   f"  <span style='color:#505050'>({_KIND_TEXT[finding.kind]})</span>")
        if self.heading.text() != heading:
            self.heading.setText(heading)
        details = (f"<b>Basis:</b> {_escape(finding.basis)}<br><b>Action:</b> "
                   f"{_escape(finding.action)}<br><b>Source:</b> {_escape(finding.source)}"
                   f"<br><span style='color:#505050'>Rule {finding.rule_id}, concept "
                   f"{finding.concept}</span>")
        if self.details.text() != details:
            self.details.setText(details)
        self.expander.setAccessibleName(f"Details of {finding.title}")
        self._refresh_state()

    def _refresh_state(self) -> None:
        finding = self.finding
        if finding.acknowledged:
            state = f"\u2714 Acknowledged: \u201c{self.recorded_reason or ''}\u201d"
        elif self.acknowledgeable:
            state = "\u25b8 Needs acknowledgement with a reason before signing"
        elif finding.kind == "data" and finding.severity != "info":
            state = "\u25b8 Complete the data: blocks signing until resolved"
        elif finding.severity == "absolute":
            state = "\u2716 Cannot be acknowledged: do not infuse"
        else:
            state = "For information; changes nothing"
        if self.state.text() != state:
            self.state.setText(state)
        can_start = self.acknowledgeable and not finding.acknowledged
        self.ack_button.setVisible(can_start and not self._editing)
        for widget in (self.reason, self.confirm, self.cancel):
            widget.setVisible(can_start and self._editing)
        self.confirm.setEnabled(bool(self.reason.text().strip()))
        self.withdraw.setVisible(finding.acknowledged)

    def _start_acknowledgement(self) -> None:
        self._editing = True
        self.set_expanded(True)
        self._refresh_state()
        self.reason.setFocus()

    def _reason_changed(self) -> None:
        self.confirm.setEnabled(bool(self.reason.text().strip()))

    def _confirm(self) -> None:
        reason = self.reason.text().strip()
        if not reason:
            return  # a reason is required; the button stays disabled
        self._editing = False
        self.reason.clear()
        self.acknowledge_requested.emit(self.finding.concept, reason)

    def _cancel(self) -> None:
        self._editing = False
        self.reason.clear()
        self._refresh_state()


class QtFindings(QWidget):
    """The findings of a screening, grouped by severity.

    Args:
        parent: the owning widget.

    Signals:
        acknowledge_requested: (concept, reason) from a finding's Acknowledge control.
        withdraw_requested: (concept) from a finding or a stale acknowledgement.
    """

    acknowledge_requested = Signal(str, str)
    withdraw_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel(self)
        self.summary.setObjectName("findings-summary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.form_errors = QLabel(self)
        self.form_errors.setObjectName("form-errors")
        self.form_errors.setWordWrap(True)
        self.form_errors.setStyleSheet("color: #a00000;")
        layout.addWidget(self.form_errors)
        self.import_warnings = QLabel(self)
        self.import_warnings.setObjectName("import-warnings")
        self.import_warnings.setWordWrap(True)
        self.import_warnings.hide()
        layout.addWidget(self.import_warnings)
        self.groups: dict[str, tuple[QLabel, QVBoxLayout]] = {}
        for severity in ("absolute", "relative", "info"):
            heading = QLabel(self)
            heading.setObjectName(f"group-{severity}")
            heading.setStyleSheet("font-weight: 700; padding-top: 6px;")
            layout.addWidget(heading)
            rows = QVBoxLayout()
            rows.setSpacing(3)
            layout.addLayout(rows)
            self.groups[severity] = (heading, rows)
        self.stale = QWidget(self)
        self.stale_layout = QVBoxLayout(self.stale)
        self.stale_layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.stale)
        layout.addStretch(1)
        self.rows: dict[str, QtFinding] = {}
        self.show_outcome(None, [])

    def finding_rows(self) -> list[QtFinding]:
        """The rows shown, in order."""
        return list(self.rows.values())

    def row(self, concept: str) -> QtFinding | None:
        """The row of the first finding about ``concept``."""
        return next((r for r in self.rows.values() if r.finding.concept == concept), None)

    def show_import_warnings(self, warnings: Sequence[tuple[str, str, str | None]]) -> None:
        """List the data-quality warnings of a FHIR import (empty: hide them)."""
        if not warnings:
            self.import_warnings.hide()
            return
        lines = [f"\u26a0 {message}" + (f" [{resource}]" if resource else "")
                 for _code, message, resource in warnings]
        self.import_warnings.setText(
            f"<b>FHIR import: {len(warnings)} warning(s) to review</b><br>"
            + "<br>".join(_escape(line) for line in lines))
        self.import_warnings.show()

    def show_outcome(self, outcome: FormScreening | None,
                     form_errors: Sequence[FieldProblem]) -> None:
        """Show the findings of ``outcome`` and the form errors no field claimed."""
        if form_errors:
            self.form_errors.setText("<b>Form errors</b><br>" + "<br>".join(
                _escape("\u2716 " + describe_problem(p, with_field=p.field))
                for p in form_errors))
            self.form_errors.show()
        else:
            self.form_errors.hide()
        screening = None if outcome is None else outcome.screening
        findings = [] if screening is None else screening.result.findings
        reasons = {}
        if screening is not None:
            reasons = {a.concept: a.reason for a in screening.case.acknowledgements}
        if screening is None:
            set_text(self.summary, "No findings: the form has not been screened."
                                 if outcome is None or not outcome.problems else
                                 "No findings: correct the form to screen it.")
        else:
            counts = {s: sum(f.severity == s for f in findings) for s in SEVERITY_TEXT}
            risk = screening.result.abuse_risk
            set_text(self.summary,
                f"{len(findings)} finding(s): {counts['absolute']} absolute, "
                f"{counts['relative']} relative, {counts['info']} info. "
                f"Abuse-risk tier: {risk.tier.upper()}.")
        wanted = {f.rule_id: f for f in findings}
        for rule_id in list(self.rows):
            if rule_id not in wanted:
                gone = self.rows.pop(rule_id)
                gone.setParent(None)
                gone.deleteLater()
        allowed = outcome.acknowledgeable if outcome is not None else frozenset()
        for severity, (heading, rows) in self.groups.items():
            group = [f for f in findings if f.severity == severity]
            set_text(heading, f"{SEVERITY_HEADING[severity]} ({len(group)})" if group else "")
            heading.setVisible(bool(group))
            for position, finding in enumerate(group):
                existing = self.rows.get(finding.rule_id)
                if existing is None:
                    row = QtFinding(finding, finding.rule_id in allowed,
                                    reasons.get(finding.concept), self)
                    row.acknowledge_requested.connect(self.acknowledge_requested)
                    row.withdraw_requested.connect(self.withdraw_requested)
                    self.rows[finding.rule_id] = row
                else:
                    row = existing
                    row.show_finding(finding, finding.rule_id in allowed,
                                     reasons.get(finding.concept))
                if rows.indexOf(row) != position:
                    rows.insertWidget(position, row)
                    row.show()  # at once, not on the next turn of the event loop
        self.rows = {f.rule_id: self.rows[f.rule_id]
                     for s in self.groups for f in findings if f.severity == s}
        self._show_stale(screening, reasons)

    def _show_stale(self, screening: object, reasons: dict[str, str]) -> None:
        """Acknowledgements recorded for concepts that no longer need one, with Withdraw."""
        while self.stale_layout.count():
            item = self.stale_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        acknowledged = {r.finding.concept for r in self.rows.values()
                        if r.finding.acknowledged}
        stale = {c: r for c, r in reasons.items() if c not in acknowledged}
        self.stale.setVisible(bool(stale))
        if not stale:
            return
        self.stale_layout.addWidget(QLabel(
            "<b>Acknowledgements that match no current finding</b> (kept in the case and "
            "printed only if the finding returns):", self.stale))
        for concept, reason in stale.items():
            line = QHBoxLayout()
            holder = QWidget(self.stale)
            holder.setLayout(line)
            line.setContentsMargins(0, 0, 0, 0)
            label = QLabel(_escape(f"{concept}: \u201c{reason}\u201d"), holder)
            label.setWordWrap(True)
            button = QPushButton("Withdraw", holder)
            button.setObjectName(f"withdraw-{concept}")
            button.clicked.connect(lambda _=False, c=concept: self.withdraw_requested.emit(c))
            line.addWidget(label, 1)
            line.addWidget(button)
            self.stale_layout.addWidget(holder)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
