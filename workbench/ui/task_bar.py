"""The status bar's list of running tasks: each with its own label, progress bar and Cancel that cancels only it.

One Cancel for everything stopped autosave, UMAP and a similarity matrix together while its label named one of
them. Here every running task shows as an entry; entries come and go with the TaskRunner's signals. Quiet
housekeeping (autosave, reading the keyring) runs without an entry.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from workbench.ui.tasks import TaskRunner

QUIET_TASKS = frozenset({"autosave", "recall-key"})


class TaskEntry(QWidget):
    """One running task: what it is, how far it got, and a button that cancels just this task."""

    def __init__(self, runner: TaskRunner, key: str, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.label = QLabel(label)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(140)
        self.progress.setMaximumHeight(16)
        self.cancel = QToolButton(text="✕", autoRaise=True, toolTip=f"Cancel: {label}")
        self.cancel.clicked.connect(lambda: runner.cancel(key))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        layout.setSpacing(4)
        for widget in (self.label, self.progress, self.cancel):
            layout.addWidget(widget)

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)


class TaskBar(QWidget):
    """Running tasks side by side; hidden when none is running."""

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.entries: dict[str, TaskEntry] = {}
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        runner.task_started.connect(self._started)
        runner.task_progress.connect(self._progressed)
        runner.task_finished.connect(self._finished)
        self.hide()

    def _started(self, key: str, label: str) -> None:
        if key in QUIET_TASKS:
            return
        self._finished(key)  # a newer task with the same key replaces the older one's entry
        entry = TaskEntry(self.runner, key, label, self)
        self.entries[key] = entry
        self._layout.addWidget(entry)
        self.show()

    def _progressed(self, key: str, done: int, total: int) -> None:
        if key in self.entries:
            self.entries[key].set_progress(done, total)

    def _finished(self, key: str) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            entry.hide()
            entry.deleteLater()
        self.setVisible(bool(self.entries))
