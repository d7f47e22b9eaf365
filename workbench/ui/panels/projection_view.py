"""ProjectionView: placeholder until its issue lands; it says honestly what will appear here."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner
from workbench.ui.widgets import placeholder_label


class ProjectionView(QWidget):
    def __init__(self, state: AppState, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.runner = state, runner
        layout = QVBoxLayout(self)
        layout.addWidget(
            placeholder_label(
                "Projection comes with embeddings: press Embed to see a 2-D map of documents and queries."
            )
        )
