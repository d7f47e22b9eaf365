"""Small pieces every panel uses: the message strip (Orange-style in-panel messages), the stale-vectors note, a
placeholder label, the refresher that keeps a hidden view from working for nobody, and control rows that wrap
(`flow_row`) so no panel widens the window beyond a laptop screen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, SignalInstance
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QToolButton, QWidget
from superqt import QFlowLayout

from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner

_STYLES = {
    "error": "background:#fde2e1; color:#8a1c17; border:1px solid #f2b8b5;",
    "warning": "background:#fff4d6; color:#6b4e00; border:1px solid #f0d68a;",
    "info": "background:#e3f0fd; color:#0b4a7a; border:1px solid #b5d3f2;",
}


def flow_row(*parts: QWidget | tuple[str, QWidget]) -> QFlowLayout:
    """Controls laid out left to right that wrap onto more lines instead of widening the window.

    A (label, widget) pair stays on one line together, so a label never ends a line without its control.
    """
    layout = QFlowLayout()
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setHorizontalSpacing(10)
    layout.setVerticalSpacing(4)
    for part in parts:
        if isinstance(part, tuple):
            label, widget = part
            pair = QWidget()
            pair_layout = QHBoxLayout(pair)
            pair_layout.setContentsMargins(0, 0, 0, 0)
            pair_layout.setSpacing(4)
            pair_layout.addWidget(QLabel(label))
            pair_layout.addWidget(widget)
            layout.addWidget(pair)
        else:
            layout.addWidget(part)
    return layout


class ElidedLabel(QLabel):
    """A one-line label that may be narrower than its text: it ends in "…" where cut, the tooltip has it all."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, self.sizePolicy().verticalPolicy())
        self.setMinimumWidth(40)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text if len(text) > 20 else "")

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, int(self.alignment()), shown)


@contextmanager
def synced(*widgets: QObject) -> Iterator[None]:
    """Signals of `widgets` blocked while a view shows state in them, so showing a value never sends it back."""
    before = [widget.blockSignals(True) for widget in widgets]
    try:
        yield
    finally:
        for widget, blocked in zip(widgets, before, strict=True):
            widget.blockSignals(blocked)


class MessageStrip(QWidget):
    """A one-line message inside a panel, next to what it is about; hidden when there is nothing to say."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("×")
        close.setAutoRaise(True)
        close.clicked.connect(self.clear)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.level = ""
        self.hide()

    def show_message(self, level: str, text: str) -> None:
        """Show `text` at `level` ("error", "warning", "info"); an empty level clears the strip."""
        if not level:
            self.clear()
            return
        self.level = level
        self.label.setText(text)
        self.setStyleSheet(f"QLabel {{ {_STYLES[level]} padding:4px; border-radius:3px; }}")
        self.show()

    def show_error(self, text: str) -> None:
        self.show_message("error", text)

    def show_warning(self, text: str) -> None:
        self.show_message("warning", text)

    def show_info(self, text: str) -> None:
        self.show_message("info", text)

    def follow(self, notice: SignalInstance, topic: str) -> None:
        """Show here the pipeline's notices (topic, level, text) about `topic`."""
        notice.connect(lambda about, level, text: about == topic and self.show_message(level, text))

    def clear(self) -> None:
        self.level = ""
        self.label.clear()
        self.hide()

    def text(self) -> str:
        return self.label.text()


class StaleNote(QLabel):
    """A line over a view that says, in place, when what it shows was made from another corpus or another model
    than the one chosen now (AppState.stale_reason).

    Every view that draws vectors carries one, so none can show an old embedding as if it were current.
    """

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setWordWrap(True)
        self.setStyleSheet(f"QLabel {{ {_STYLES['warning']} padding:3px; border-radius:3px; }}")
        state.stale_changed.connect(self._update)
        state.vectors_changed.connect(self._update)
        self.hide()

    def _update(self) -> None:
        reason = self.state.stale_reason()
        self.setText(reason)
        if self.parent() is not None:  # never a window of its own
            self.setVisible(bool(reason))


def placeholder_label(text: str) -> QLabel:
    """A centred grey sentence for a view that has nothing to show yet (honest, never fake data)."""
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setStyleSheet("color:#777; font-size:14px; padding:24px;")
    return label


class OnScreenRefresher(QObject):
    """Runs a view's costly refresh when asked if the view is on screen, else at the view's next paint.

    A similarity matrix or a second scatter of 20 000 points costs real time; a dock tabbed behind another
    should not pay it until someone looks. `showEvent` is not enough (a dock tabbed behind another counts as
    shown); a paint happens only for a visible region, so the paint is the cue, and the refresh runs just after
    it, never inside it.
    """

    def __init__(self, widget: QWidget, refresh: Callable[[], None]) -> None:
        super().__init__(widget)
        self._widget, self._refresh = widget, refresh
        self.stale = False
        self._soon = QTimer(self, singleShot=True, interval=0)  # requests in one event-loop turn make one refresh
        self._soon.timeout.connect(self._run)
        widget.installEventFilter(self)

    def request(self) -> None:
        """Refresh on the next event-loop turn if the view is on screen; else at its next paint."""
        self.stale = True
        if self._widget.isVisible() and not self._widget.visibleRegion().isEmpty():
            self._soon.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.stale and event.type() == QEvent.Type.Paint:
            self._soon.start()
        return False

    def _run(self) -> None:
        if self.stale:
            self.stale = False
            self._refresh()


class TaskProgress:
    """A progress bar and a Cancel button that follow one task of the TaskRunner, and the button that starts it.

    The Search lab and the Evaluation view each run one task of their own: while it runs the bar shows (busy until
    the first progress arrives), Cancel shows, and the start button is off. Both keep their place when hidden, so
    the row does not jump.
    """

    def __init__(self, runner: TaskRunner, key: str, start_button: QPushButton) -> None:
        self.runner, self.key, self.start_button = runner, key, start_button
        self.bar = QProgressBar()
        self.bar.setMaximumHeight(14)
        self.cancel_button = QPushButton("Cancel")
        for appearing in (self.bar, self.cancel_button):
            policy = appearing.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            appearing.setSizePolicy(policy)
        self.cancel_button.clicked.connect(lambda: runner.cancel(key))
        runner.task_started.connect(self._changed)
        runner.task_finished.connect(self._changed)
        runner.task_progress.connect(self._progressed)
        self._changed(key)

    def _changed(self, key: str, *_: object) -> None:
        if key != self.key:
            return
        running = self.runner.is_running(key)
        self.bar.setVisible(running)
        self.cancel_button.setVisible(running)
        self.start_button.setEnabled(not running)
        if running:
            self.bar.setRange(0, 0)

    def _progressed(self, key: str, done: int, total: int) -> None:
        if key == self.key:
            self.bar.setRange(0, max(total, 1))
            self.bar.setValue(done)
