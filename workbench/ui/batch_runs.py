"""Gemini Batch-mode runs for the pipeline: submit, then look at the jobs every so often, then hand the vectors over.

Why not one task that waits: a job may take hours, and a task that sleeps holds a worker thread (the pool has 4)
and keeps Embed disabled all that time. Instead each look is a short task (`embed_items_in_batches(wait=False)`
under the Embed task's key: submit what is missing, poll the jobs once, collect the finished ones) and a timer
starts the next look. The jobs' names live in the cache database, so nothing is lost when the app closes: the
next Embed in Batch mode with the same texts collects them (the Model panel says so at start).

The pipeline stays the one writer: it hands in what to do with a finished run (`on_result`) and with an error
(`on_error`), the same two callbacks a synchronous run ends in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Signal

from workbench.core.embedding import EmbeddingResult
from workbench.core.gemini_batch import (
    BatchOutcome,
    FailedText,
    embed_items_in_batches,
    pending_jobs_sentence,
    poll_interval_s,
)
from workbench.core.items import Item

PENDING_TASK = "batch-pending"


class BatchRuns(QObject):
    """The Batch-mode run under way (at most one), and what to tell the person about it."""

    status_changed = Signal(str, str)  # level ("info", "warning", "error"; "" clears), text

    def __init__(self, pipeline, on_result: Callable[[EmbeddingResult], None], on_error: Callable[[str], None]) -> None:
        super().__init__(pipeline)
        self.pipeline, self._on_result, self._on_error = pipeline, on_result, on_error
        self._run: tuple[list[Item], object] | None = None  # the items and embedder of the run under way
        self._failed_texts: list[FailedText] = []  # texts an earlier look of this run saw fail: not submitted again
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self._look)
        self.last_status = ""

    @property
    def wanted(self) -> bool:
        """Batch mode is chosen and the model is Gemini's."""
        state = self.pipeline.state
        return state.view.gemini_batch and state.spec.provider == "gemini"

    @property
    def active(self) -> bool:
        return self._run is not None

    def start(self, items: Sequence[Item], embedder: object) -> None:
        """A new Batch-mode run for these items (a run under way is dropped; its jobs stay remembered)."""
        self._run = (list(items), embedder)
        self._failed_texts = []
        self._timer.stop()
        self._look()

    def stop(self, sentence: str = "") -> None:
        """Stop looking at the jobs (they keep running at Google and stay remembered)."""
        self._run = None
        self._timer.stop()
        self._say("info" if sentence else "", sentence)

    def show_pending(self) -> None:
        """Say whether jobs from earlier runs wait to be collected (a small SQLite read, off the GUI thread)."""
        cache = self.pipeline.cache
        self.pipeline.runner.start(
            PENDING_TASK, "Looking for Gemini batch jobs", lambda progress, cancelled: pending_jobs_sentence(cache),
            on_done=lambda sentence: self._say("info" if sentence else "", sentence) if not self.active else None,
        )  # fmt: skip

    def _look(self) -> None:
        from workbench.ui.pipeline import EMBED_TASK

        if self._run is None:
            return
        items, embedder = self._run
        cache, failed = self.pipeline.cache, list(self._failed_texts)

        def look(progress, cancelled) -> BatchOutcome:
            outcome = embed_items_in_batches(
                items, embedder, cache, wait=False, progress=progress, cancelled=cancelled, failed_before=failed
            )
            if outcome.result is not None:
                outcome.result.warm()  # the views' columns, here, off the GUI thread
            return outcome

        self.pipeline.runner.start(
            EMBED_TASK,
            f"Gemini Batch: {len(items)} items",
            look,
            on_done=self._looked,
            on_error=self._failed,
            on_cancelled=lambda message: self.stop(
                "Stopped looking at the Gemini batch jobs; they keep running at Google and are remembered: Embed "
                "in Batch mode again to collect them."
            ),
        )

    def _looked(self, outcome: BatchOutcome) -> None:
        if self._run is None:
            return
        if outcome.result is not None:
            self._run = None
            self._say("info", outcome.status.summary())
            self._on_result(outcome.result)
            return
        self._failed_texts = list(outcome.status.failed)
        seconds = poll_interval_s()
        self._say("info", f"{outcome.status.summary()} Next look in {seconds:g} s; closing the app loses nothing.")
        self._timer.start(int(seconds * 1000))

    def _failed(self, message: str) -> None:
        self._run = None
        self._say("", "")
        self._on_error(message)

    def _say(self, level: str, text: str) -> None:
        self.last_status = text
        self.status_changed.emit(level, text)
