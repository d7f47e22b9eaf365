"""The File menu's relevance-label imports: a BEIR folder (documents, queries and labels) or a qrels TSV for the
corpus already loaded. Reading and checking run through the TaskRunner (a BEIR corpus can be large); AppState
changes only when everything read and agreed, so bad input is a message and what was loaded stays.

The reading and every message (a missing file, a bad line, label ids absent from the corpus: how many and a
few examples) are core's (`core.beir`, `core.relevance`); this module chooses the files, asks for a split when a
folder has several, and hands the result to AppState. Messages go to the Evaluation view's strip (the lab
pipeline's "evaluate" notices) and to the status bar.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow, QMenu

from workbench.core.beir import LabelledSet, beir_splits, read_beir_folder
from workbench.core.relevance import RelevanceLabels, check_labels, read_qrels
from workbench.ui.lab_pipeline import LabPipeline
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner

IMPORT_TASK = "lab-import"


class LabFiles(QObject):
    """Adds "Import BEIR folder…" and "Import relevance labels (qrels)…" to `menu` and runs them."""

    def __init__(self, window: QMainWindow, state: AppState, runner: TaskRunner, pipeline: LabPipeline,
                 menu: QMenu) -> None:  # fmt: skip
        super().__init__(window)
        self.window, self.state, self.runner, self.pipeline = window, state, runner, pipeline
        self.last_message = ""
        # Replaced in tests: the split to read among a folder's several (None: cancelled).
        self.choose_split: Callable[[list[str]], str | None] = self._ask_split
        menu.addSeparator()
        self.beir_action = menu.addAction("Import BEIR folder…", self.choose_and_import_beir)
        self.beir_action.setToolTip("corpus.jsonl, queries.jsonl and qrels/<split>.tsv: documents, queries, labels")
        self.qrels_action = menu.addAction("Import relevance labels (qrels)…", self.choose_and_import_qrels)
        self.qrels_action.setToolTip("A qrels TSV (query-id, corpus-id, score) for the documents and queries loaded")

    def _say(self, level: str, text: str) -> None:
        self.last_message = text
        self.pipeline.say("evaluate", level, text)
        self.state.status_message.emit(text)

    # -- BEIR folder ---------------------------------------------------------------------------------------------
    def choose_and_import_beir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Import a BEIR folder")
        if folder:
            self.import_beir(Path(folder))

    def import_beir(self, folder: Path) -> None:
        splits = beir_splits(folder)  # a glob of one folder: instant
        split = None
        if len(splits) > 1:
            split = self.choose_split(splits)
            if split is None:
                return

        def read(progress, cancelled) -> LabelledSet:
            return read_beir_folder(folder, split, progress, cancelled)

        self.runner.start(IMPORT_TASK, f"Reading {folder.name}", read, lambda found: self._beir_read(folder, found),
                          on_error=lambda message: self._say("error", message))  # fmt: skip

    def _beir_read(self, folder: Path, found: LabelledSet) -> None:
        self.state.set_items("document", found.documents)
        self.state.set_items("query", found.queries)
        self.state.set_lab(labels=found.labels)
        evaluated = len(found.evaluated_queries)
        text = (f"{folder.name}: {len(found.documents)} documents, {len(found.queries)} queries, {len(found.labels)} "
                f"relevance labels ({evaluated} queries to evaluate). Press Embed, then Evaluate.")  # fmt: skip
        self._say("info", " ".join([text, *found.notes]))

    def _ask_split(self, splits: list[str]) -> str | None:
        start = splits.index("test") if "test" in splits else 0
        split, ok = QInputDialog.getItem(self.window, "Import a BEIR folder", "Labels of the split:", splits, start,
                                         False)  # fmt: skip
        return split if ok else None

    # -- qrels for the loaded corpus -----------------------------------------------------------------------------
    def choose_and_import_qrels(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Import relevance labels", "",
                                              "qrels (*.tsv *.txt *.qrels);;All files (*)")  # fmt: skip
        if path:
            self.import_qrels(Path(path))

    def import_qrels(self, path: Path) -> None:
        """Labels for the documents and queries loaded now; ids they lack are an error, nothing changes."""
        items = list(self.state.corpus.items)
        if not any(item.kind == "query" for item in items):
            self._say("warning", "Load the queries these labels judge first (Queries panel), or import a BEIR folder.")
            return
        documents = [item.id for item in items if item.kind == "document"]
        queries = [item.id for item in items if item.kind == "query"]

        def read(progress, cancelled) -> tuple[RelevanceLabels, list[str]]:
            labels = read_qrels(path)
            check = check_labels(labels, documents, queries)
            if (error := check.error()) is not None:
                raise error
            return labels, check.notes()

        self.runner.start(IMPORT_TASK, f"Reading {path.name}", read, self._qrels_read,
                          on_error=lambda message: self._say("error", message))  # fmt: skip

    def _qrels_read(self, found: tuple[RelevanceLabels, list[str]]) -> None:
        labels, notes = found
        self.state.set_lab(labels=labels)
        queries = len(labels.labelled_queries())
        text = f"{Path(labels.source).name}: {len(labels)} relevance labels for {queries} queries."
        self._say("info", " ".join([text, *notes]))
