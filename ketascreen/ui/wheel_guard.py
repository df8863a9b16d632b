"""One policy for the mouse wheel: no value changes that the user did not mean.

A combo box, spin box (date and time edits included) or slider changes its value when the mouse
wheel turns over it, even when the pointer only rests there while the form is scrolled; a weight
unit turned from lb to kg that way more than doubles the dose. The :class:`WheelGuard` is an
application-wide event filter, installed once (:func:`install_wheel_guard`, by the main window
as soon as its widgets are built, before any input can reach them), so it covers every such
widget of every window and dialog, including those created later (list rows added at run time).
Such a widget reacts to the wheel only while it has the keyboard focus *and* the user clicked
into it; otherwise the wheel scrolls the scroll area around it, as if the widget were not there.
Focus by Tab alone is not enough (a Tab stop is passed through, not chosen), and the wheel never
gives such a widget the focus (``Qt.WheelFocus`` is lowered to ``Qt.StrongFocus``).
Scroll bars are sliders whose whole purpose is the wheel: they are left alone.
"""

from __future__ import annotations

import weakref

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QFocusEvent, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QScrollBar,
    QWidget,
)

GUARDED_TYPES: tuple[type[QWidget], ...] = (QComboBox, QAbstractSpinBox, QAbstractSlider)
"""The widgets whose value the wheel would change."""

_GUARD_NAME = "ketascreen-wheel-guard"
_WATCHED = frozenset({QEvent.Type.Polish, QEvent.Type.MouseButtonPress, QEvent.Type.FocusOut,
                      QEvent.Type.Wheel})


def guarded_widget(obj: QObject | None) -> QWidget | None:
    """The value widget ``obj`` belongs to (itself or an ancestor, e.g. the line edit inside a
    spin box), or ``None`` when it is not part of one. Scroll bars are never guarded."""
    widget = obj if isinstance(obj, QWidget) else None
    while widget is not None:
        if isinstance(widget, GUARDED_TYPES) and not isinstance(widget, QScrollBar):
            return widget
        if widget.isWindow():
            return None
        widget = widget.parentWidget()
    return None


class WheelGuard(QObject):
    """The application-wide event filter of the wheel policy.

    Args:
        parent: the application (the filter lives as long as it).

    Signals:
        none (it filters events).
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(_GUARD_NAME)
        self._clicked: weakref.WeakSet[QWidget] = weakref.WeakSet()

    def clicked_into(self, widget: QWidget) -> bool:
        """Whether ``widget`` was clicked into and still has the keyboard focus."""
        return widget in self._clicked and widget.hasFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Remember clicks into value widgets; send the wheel past those not clicked into."""
        kind = event.type()
        if kind not in _WATCHED:
            return False  # nearly every event: paint, layout, timers
        if kind == QEvent.Type.Polish:
            _lower_wheel_focus(watched)
        elif kind == QEvent.Type.MouseButtonPress:
            widget = guarded_widget(watched)
            if widget is not None:
                self._clicked.add(widget)
        elif kind == QEvent.Type.FocusOut and isinstance(event, QFocusEvent):
            widget = guarded_widget(watched)
            if (widget is not None and widget is watched
                    and event.reason() != Qt.FocusReason.PopupFocusReason
                    and QApplication.activePopupWidget() is None):
                self._clicked.discard(widget)  # left (not for its own list): click again
        elif kind == QEvent.Type.Wheel and isinstance(event, QWheelEvent):
            widget = guarded_widget(watched)
            if widget is not None and not self.clicked_into(widget):
                _lower_wheel_focus(widget)
                _scroll_instead(widget, event)
                return True
        return False


def _lower_wheel_focus(obj: QObject) -> None:
    """Give a value widget that would take the focus from the wheel ``Qt.StrongFocus``."""
    if (isinstance(obj, GUARDED_TYPES) and not isinstance(obj, QScrollBar)
            and obj.focusPolicy() == Qt.FocusPolicy.WheelFocus):
        obj.setFocusPolicy(Qt.FocusPolicy.StrongFocus)


def _scroll_instead(widget: QWidget, event: QWheelEvent) -> None:
    """Send ``event`` to the viewport of the nearest scroll area around ``widget``."""
    area = widget.parentWidget()
    while area is not None and not isinstance(area, QAbstractScrollArea):
        area = area.parentWidget()
    if area is None:
        return
    viewport = area.viewport()
    position = QPointF(viewport.mapFromGlobal(event.globalPosition().toPoint()))
    forwarded = QWheelEvent(position, event.globalPosition(), event.pixelDelta(),
                            event.angleDelta(), event.buttons(), event.modifiers(),
                            event.phase(), event.inverted(), event.source())
    QApplication.sendEvent(viewport, forwarded)


def install_wheel_guard(app: QApplication | None = None) -> WheelGuard:
    """Install the wheel policy on ``app`` (the running application) once; return it.

    It applies to every widget of the application from then on, and lowers the focus policy of
    the value widgets that already exist.
    """
    application = app if app is not None else QApplication.instance()
    if not isinstance(application, QApplication):
        raise RuntimeError("install_wheel_guard needs a QApplication")
    existing = application.findChild(WheelGuard, _GUARD_NAME)
    if isinstance(existing, WheelGuard):
        return existing
    guard = WheelGuard(application)
    application.installEventFilter(guard)
    for widget in application.allWidgets():
        _lower_wheel_focus(widget)
    return guard
