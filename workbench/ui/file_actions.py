"""The File menu's workspace actions: Open, Save, Save As, Export…, autosave every minute, recovery at start.

Reading AppState into a `Workspace` (a cheap snapshot of references) happens on the GUI thread; every file read or write
runs through the TaskRunner. Opening validates the whole file before AppState is touched, so a bad file is a message and
what is loaded stays. Opening restores vectors, the 2-D layout, clusters and the last Compare run as they were saved:
nothing is re-embedded or re-projected. View settings are AppState's (`ViewSettings` and the remembered category
colours), with the window's dock arrangement beside them; no widget is asked for anything. No secret is ever put into a
workspace (core/session.py drops any settings key that looks like one; the API key lives only in AppState.api_key, and
B's key only in AppState's credentials for B, neither of which is read here).
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QByteArray, QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMenu, QMessageBox

from workbench.core.corpus import Corpus
from workbench.core.encoding import CategoryColours
from workbench.core.exports import EXPORT_FORMATS, export_vectors
from workbench.core.session import (
    AUTOSAVE_INTERVAL_S,
    WORKSPACE_SUFFIX,
    RecoveryFile,
    Workspace,
    autosave_path,
    discard_autosave,
    load_workspace,
    recovery_files,
    save_workspace,
    write_autosave,
)
from workbench.core.view_settings import ViewSettings
from workbench.core.workspace_comparison import SavedComparison
from workbench.ui.lab_state import LabSettings
from workbench.ui.pipeline import ComparisonOutcome
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner

log = logging.getLogger("workbench.ui.files")
WORKSPACE_FILTER = f"Embedding Workbench workspace (*{WORKSPACE_SUFFIX})"
OPEN_TASK, SAVE_TASK, AUTOSAVE_TASK, EXPORT_TASK = "workspace-open", "workspace-save", "autosave", "export"


class FileActions(QObject):
    """Builds the workspace actions into `menu` and runs them over `state` for `window` (titles, dock layout)."""

    def __init__(self, window: QMainWindow, state: AppState, runner: TaskRunner, menu: QMenu) -> None:
        super().__init__(window)
        self.window, self.state, self.runner = window, state, runner
        self.path: Path | None = None
        self.last_message = ""
        self._dirty = False
        self._loading = False
        # Tests replace this; it returns "restore", "discard" or "later".
        self.ask_recovery: Callable[[RecoveryFile], str] = self._ask_recovery

        self.open_action = self._action("Open workspace…", QKeySequence.StandardKey.Open, self.choose_and_open)
        self.save_action = self._action("Save workspace", QKeySequence.StandardKey.Save, self.save)
        self.save_as_action = self._action("Save workspace as…", QKeySequence.StandardKey.SaveAs, self.choose_and_save)
        self.export_action = self._action("Export vectors…", QKeySequence("Ctrl+Shift+E"), self.choose_and_export)
        menu.addSeparator()
        for action in (self.open_action, self.save_action, self.save_as_action, self.export_action):
            menu.addAction(action)

        for signal in (
            self.state.corpus_changed,
            self.state.spec_changed,
            self.state.vectors_changed,
            self.state.projection_changed,
            self.state.clusters_changed,
            self.state.selection_changed,
            self.state.view_changed,
            self.state.lab_changed,
            self.state.comparison_changed,
        ):
            signal.connect(self._changed)
        self.state.vectors_changed.connect(self._update_enabled)
        self._update_enabled()
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_INTERVAL_S * 1000)
        self.autosave_timer.timeout.connect(self.autosave_now)
        self.autosave_timer.start()
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        if recovery_files():  # a glob and a few small reads; the question waits until the window is up
            QTimer.singleShot(0, self.offer_recovery)

    def _action(self, text: str, shortcut: Any, slot: Callable[[], None]) -> QAction:
        action = QAction(text, self.window)
        action.setShortcut(shortcut)
        action.triggered.connect(slot)
        return action

    def _changed(self) -> None:
        if not self._loading:
            self._dirty = True

    def _update_enabled(self) -> None:
        has_vectors = self.state.embedding is not None and len(self.state.embedding.items) > 0
        self.export_action.setEnabled(has_vectors)
        self.export_action.setToolTip("Export vectors with ids, texts and metadata" if has_vectors else "Embed first.")

    def _say(self, message: str, timeout_ms: int = 15_000) -> None:
        self.last_message = message
        self.window.statusBar().showMessage(message, timeout_ms)

    # -- AppState <-> Workspace --------------------------------------------------------------------------------
    def snapshot(self) -> Workspace:
        """What AppState holds now, as a Workspace (references, not copies: AppState replaces, never mutates)."""
        state = self.state
        view: dict[str, Any] = {
            "window_state": base64.b64encode(bytes(self.window.saveState().data())).decode(),
            "settings": state.view.to_dict(),
            "colours": state.colours.to_rows(),
            "search_lab": state.lab.settings.to_dict(),  # the search lab's choices (ui/lab_state.py)
        }
        return Workspace(
            items=list(state.corpus.items),
            spec=state.spec,
            embedding=state.embedding,
            projection=state.projection,
            projection_note=state.projection_note,
            clusters=state.clusters,
            cluster_names=dict(state.cluster_names),
            subclusters=state.subclusters,
            subcluster_names=dict(state.subcluster_names),
            subcluster_parent=dict(state.subcluster_parent),
            cluster_assigned=state.cluster_assigned,
            cluster_prompts=dict(state.cluster_prompts),
            selection=list(state.selection),
            view=view,
            labels=state.lab.labels,
            comparison=saved_comparison(state),
        )

    def apply(self, workspace: Workspace, corpus: Corpus | None = None) -> None:
        """Replace AppState with a workspace, vectors and layout included (no embedding, no projection runs).

        `corpus`: the workspace's items as a Corpus made on the worker that read it (`_loaded_and_warmed`)."""
        state = self.state
        self._loading = True
        try:
            view = workspace.view
            state.set_spec(workspace.spec)
            state.set_colours(CategoryColours.from_rows(view.get("colours")))
            state.replace_view(ViewSettings.from_dict(view.get("settings")))
            state.set_corpus(corpus or corpus_of(workspace))
            state.set_embedding(workspace.embedding, workspace.projection, workspace.projection_note)
            if workspace.clusters is not None:
                state.set_clusters(workspace.clusters, workspace.cluster_names, workspace.subclusters,
                                   workspace.subcluster_names, workspace.subcluster_parent, workspace.cluster_assigned,
                                   workspace.cluster_prompts)  # fmt: skip
            if workspace.comparison is not None:  # B as it was compared with these vectors (A)
                saved = workspace.comparison
                state.set_comparison(ComparisonOutcome(state.embedding, saved.result_b, saved.xy_b, saved.comparison))
            state.set_selection(workspace.selection)
            state.set_lab(labels=workspace.labels, settings=LabSettings.from_dict(view.get("search_lab")), search=None,
                          evaluation=None, focus=None)  # fmt: skip
            if isinstance(view.get("window_state"), str):
                self.window.restoreState(QByteArray(base64.b64decode(view["window_state"])))
        finally:
            self._loading = False
        self._dirty = False

    # -- open / save -------------------------------------------------------------------------------------------
    def choose_and_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open workspace", "", WORKSPACE_FILTER)
        if path:
            self.open(Path(path))

    def open(self, path: Path, on_opened: Callable[[], None] | None = None) -> None:
        """Read and check `path` off the GUI thread; apply it only when all of it is good."""
        path = Path(path)

        def opened(outcome: tuple[Workspace, Corpus, str]) -> None:
            workspace, corpus, summary = outcome
            self.apply(workspace, corpus)
            self.path = path
            self.window.setWindowTitle(f"Embedding Workbench — {path.name}")
            self._say(f"Opened {path.name}: {summary}.")
            if on_opened:
                on_opened()

        self.runner.start(
            OPEN_TASK,
            f"Opening {path.name}",
            lambda progress, cancelled: _loaded_and_warmed(path, progress, cancelled),
            opened,
            lambda message: self._say(message, 0),
        )

    def choose_and_save(self) -> None:
        start = str(self.path) if self.path else f"workspace{WORKSPACE_SUFFIX}"
        path, _ = QFileDialog.getSaveFileName(self.window, "Save workspace", start, WORKSPACE_FILTER)
        if path:
            path = Path(path)
            self.save_to(path if path.suffix == WORKSPACE_SUFFIX else path.with_name(path.name + WORKSPACE_SUFFIX))

    def save(self) -> None:
        if self.path is None:
            self.choose_and_save()
        else:
            self.save_to(self.path)

    def save_to(self, path: Path) -> None:
        workspace = self.snapshot()

        def save(progress, cancelled) -> str:
            save_workspace(path, workspace, progress, cancelled)
            return workspace.summary()  # here: it counts every item

        def saved(summary: str) -> None:
            self.path = path
            self.window.setWindowTitle(f"Embedding Workbench — {path.name}")
            self._say(f"Saved {path.name}: {summary}.")

        self.runner.start(
            SAVE_TASK,
            f"Saving {path.name}",
            save,
            saved,
            lambda message: self._say(f"Could not save {path.name}: {message}", 0),
        )

    # -- export ------------------------------------------------------------------------------------------------
    def choose_and_export(self) -> None:
        filters = list(EXPORT_FORMATS.values())
        path, chosen = QFileDialog.getSaveFileName(self.window, "Export vectors", "", ";;".join(filters))
        if not path:
            return
        path = Path(path)
        if path.suffix.lower() not in EXPORT_FORMATS:
            suffix = next((s for s, label in EXPORT_FORMATS.items() if label == chosen), ".parquet")
            path = path.with_name(path.name + suffix)
        self.export(path)

    def export(self, path: Path) -> None:
        result = self.state.embedding
        if result is None:
            self._say("Nothing to export yet: embed first.")
            return
        derived: dict[str, Any] = {}
        if self.state.projection is not None:
            derived["x"], derived["y"] = self.state.projection[:, 0], self.state.projection[:, 1]
        if self.state.clusters is not None:
            derived["cluster"] = self.state.clusters
            names = self.state.cluster_names
            derived["cluster_name"] = np.array([names.get(int(c), "") for c in self.state.clusters], dtype=object)
        items, vectors, spec = result.items, result.vectors, result.spec
        self.runner.start(
            EXPORT_TASK,
            f"Exporting {path.name}",
            lambda progress, cancelled: export_vectors(path, items, vectors, spec, derived, progress, cancelled),
            lambda written: self._say(f"Exported {len(items)} vectors to {', '.join(p.name for p in written)}."),
            lambda message: self._say(f"Could not export: {message}", 0),
        )

    # -- autosave and recovery ---------------------------------------------------------------------------------
    def autosave_now(self, force: bool = False) -> None:
        """Write this run's autosave when something changed since the last one, or `force` (off the GUI thread)."""
        if not (self._dirty or force) or self.runner.is_running(AUTOSAVE_TASK):
            return
        if not len(self.state.corpus) and self.state.embedding is None:
            return
        self._dirty = False
        workspace = self.snapshot()

        def failed(message: str) -> None:
            self._dirty = True
            log.warning("autosave failed: %s", message)

        self.runner.start(
            AUTOSAVE_TASK,
            "Autosaving",
            lambda progress, cancelled: write_autosave(workspace, progress, cancelled),
            lambda path: log.info("autosaved to %s", path),
            failed,
        )

    def offer_recovery(self) -> None:
        """Ask about autosaves that earlier runs left when they did not exit cleanly, newest first."""
        for found in recovery_files():
            answer = self.ask_recovery(found)
            if answer == "restore":

                def adopt(found: RecoveryFile = found) -> None:
                    os.replace(found.path, autosave_path())  # it is now this run's autosave
                    self.path = None
                    self.window.setWindowTitle("Embedding Workbench — recovered work")

                self.open(found.path, on_opened=adopt)
                return
            if answer == "discard":
                discard_autosave(found.path)

    def _ask_recovery(self, found: RecoveryFile) -> str:
        box = QMessageBox(self.window)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Recover unsaved work?")
        box.setText("Embedding Workbench did not close cleanly last time. Restore the work it autosaved?")
        box.setInformativeText(f"Autosaved {found.saved_at}: {found.summary}.")
        restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        clicked = box.clickedButton()
        return "restore" if clicked is restore else "discard" if clicked is discard else "later"

    def shutdown(self) -> None:
        """A clean exit: no recovery needed next time."""
        self.autosave_timer.stop()
        self.runner.cancel(AUTOSAVE_TASK)
        self.runner.wait_for_done(5_000)
        discard_autosave()


def corpus_of(workspace: Workspace) -> Corpus:
    """The workspace's documents, then its queries (the order the Documents and Queries panels keep)."""
    documents = [i for i in workspace.items if i.kind == "document"]
    return Corpus(documents + [i for i in workspace.items if i.kind != "document"])


def saved_comparison(state: AppState) -> SavedComparison | None:
    """The Compare run to save: B and its numbers, when they were made from the vectors a workspace saves."""
    outcome = state.comparison
    if outcome is None or outcome.embedding is not state.embedding:
        return None
    if outcome.result_b.ids != outcome.embedding.ids:  # the pipeline makes B row for row with A; else save the rest
        log.warning("the comparison's rows are not the embedding's: the workspace is saved without it")
        return None
    return SavedComparison(outcome.result_b, outcome.xy_b, outcome.comparison)


def _loaded_and_warmed(path: Path, progress, cancelled) -> tuple[Workspace, Corpus, str]:
    """The workspace, its corpus and its summary, with the columns the views read computed here on the worker,
    not on the GUI thread (for a million items each pass over them costs 40-200 ms)."""
    workspace = load_workspace(path, progress, cancelled)
    if workspace.embedding is not None:
        workspace.embedding.warm()
    if workspace.comparison is not None:
        workspace.comparison.result_b.warm()
    return workspace, corpus_of(workspace).warm(), workspace.summary()
