"""The Model panel's Batch-mode row: "Batch (half price)" for Gemini, the size above which it is offered, and where
the jobs stand.

Both choices are AppState's (`ViewSettings.gemini_batch`, `batch_offer_above`, saved in workspaces); this row
shows them and sends `set_view`. One status strip follows the pipeline's BatchRuns (submitted, jobs at Google,
texts back), says at start when jobs of an earlier session wait to be collected, and, when it has nothing else to
say, offers Batch mode for a Gemini run of more texts than the chosen size.
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QSpinBox, QWidget

from workbench.ui.state import AppState
from workbench.ui.widgets import MessageStrip, synced


class BatchControls(QWidget):
    """The row (a checkbox and the offer size) for the panel's form; `status`, a strip the panel places below."""

    def __init__(self, state: AppState, pipeline, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.batch = state, pipeline.batch
        self.enabled = QCheckBox("Half price")
        self.enabled.setToolTip(
            "Gemini Batch mode: half the price, results within a day. The jobs are remembered, so the app may be "
            "closed meanwhile; Embed again in Batch mode to collect them."
        )
        self.offer_above = QSpinBox(minimum=0, maximum=10_000_000, singleStep=500, prefix="offer > ")
        self.offer_above.setToolTip("offer Batch mode for Gemini runs of more texts than this")
        self.status = MessageStrip()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.enabled)
        layout.addWidget(self.offer_above, 1)
        self._show()
        self.enabled.toggled.connect(self._toggled)
        self.offer_above.valueChanged.connect(lambda value: state.set_view(batch_offer_above=value))
        state.view_changed.connect(lambda changed: self._show())
        state.spec_changed.connect(self._show)
        state.corpus_changed.connect(self._show)
        self.batch.status_changed.connect(self._status)
        self.batch.show_pending()

    def _toggled(self, checked: bool) -> None:
        self.state.set_view(gemini_batch=checked)
        if not checked and self.batch.active:
            self.batch.stop(
                "Batch mode off: the jobs under way keep running at Google and are remembered; tick Batch and "
                "Embed again to collect them."
            )

    def _status(self, level: str, text: str) -> None:
        self.status.show_message(level, text)
        if not level:
            self._show()  # nothing to say about jobs: the offer may show again

    @property
    def offered(self) -> str:
        """The offer of Batch mode for a Gemini run of more texts than the chosen size, or ''."""
        view, count = self.state.view, len(self.state.corpus)
        if self.state.spec.provider != "gemini" or view.gemini_batch or count <= view.batch_offer_above:
            return ""
        return f"{count} texts: Batch mode (Half price) costs half and finishes within a day."

    def _show(self) -> None:
        """Show AppState's choices without sending them back; the offer where no job status is shown."""
        view, gemini = self.state.view, self.state.spec.provider == "gemini"
        with synced(self.enabled, self.offer_above):
            self.enabled.setChecked(view.gemini_batch)
            self.offer_above.setValue(view.batch_offer_above)
        self.enabled.setEnabled(gemini)
        self.offer_above.setEnabled(gemini)
        if self.batch.last_status:
            return
        offer = self.offered
        self.status.show_message("warning" if offer else "", offer)
