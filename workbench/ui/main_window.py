"""The main window: docks the panels over one AppState and one Pipeline, holds the Embed action, and lists the
running tasks in the status bar, each with its own Cancel."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QToolBar, QWidget

from workbench.core.cache import EmbeddingCache
from workbench.core.importers import ImportOptions, read_items
from workbench.ui.crash import CrashHandler
from workbench.ui.file_actions import FileActions
from workbench.ui.lab_files import LabFiles
from workbench.ui.lab_pipeline import LabPipeline
from workbench.ui.panels.compare_view import CompareView
from workbench.ui.panels.corpus_panel import CorpusPanel
from workbench.ui.panels.evaluation_view import EvaluationView
from workbench.ui.panels.milvus_panel import MilvusPanel
from workbench.ui.panels.model_panel import ModelPanel
from workbench.ui.panels.projection_view import ProjectionView
from workbench.ui.panels.search_lab import SearchLabPanel
from workbench.ui.panels.similarity_view import SimilarityView
from workbench.ui.pipeline import EMBED_TASK, Pipeline
from workbench.ui.state import AppState
from workbench.ui.task_bar import TaskBar
from workbench.ui.tasks import TaskRunner
from workbench.ui.window_layout import WindowLayout

log = logging.getLogger("workbench.ui")
RESOURCES = Path(__file__).resolve().parents[1] / "resources"


def scrolling(panel: QWidget, least_height: int = 120) -> QScrollArea:
    """The panel in a vertical scroll area, so the three stacked left docks never make the window taller than a
    laptop's 768 px: their rows (the Model panel's token summary, Batch and Device rows, a message strip that
    appears) would otherwise add up to the window's minimum height. Width is not scrolled: the panel keeps it."""
    area = QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)  # the panel fills the dock and its text boxes stretch, as without the area
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    least_width = max(panel.minimumSizeHint().width(), panel.minimumWidth())  # a panel may keep room for hidden rows
    area.setMinimumWidth(least_width + area.verticalScrollBar().sizeHint().width())
    area.setMinimumHeight(min(least_height, panel.minimumSizeHint().height()))
    return area


class MainWindow(QMainWindow):
    def __init__(self, state: AppState, runner: TaskRunner, cache: EmbeddingCache, parent: QWidget | None = None):
        super().__init__(parent)
        self.state, self.runner, self.cache = state, runner, cache
        self.pipeline = Pipeline(state, runner, cache, self)
        self.setWindowTitle("Embedding Workbench")
        self.setDockNestingEnabled(True)

        self.model_panel = ModelPanel(state, runner, self.pipeline)
        self.documents_panel = CorpusPanel(state, runner, "document")
        self.queries_panel = CorpusPanel(state, runner, "query")
        self.projection_view = ProjectionView(state, runner, self.pipeline)
        self.similarity_view = SimilarityView(state, runner, self.pipeline)
        self.milvus_panel = MilvusPanel(state, runner)
        self.compare_view = CompareView(state, self.pipeline)
        self.lab_pipeline = LabPipeline(state, runner, self)
        self.search_lab = SearchLabPanel(state, runner, self.lab_pipeline)
        self.evaluation_view = EvaluationView(state, runner, self.lab_pipeline)
        self.setCentralWidget(self.projection_view)
        self.docks: dict[str, QDockWidget] = {}
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self._dock("Model & key", scrolling(self.model_panel), left)
        self._dock("Documents", scrolling(self.documents_panel), left)
        self._dock("Queries", scrolling(self.queries_panel), left)
        self._dock("Similarity", self.similarity_view, right)
        self._dock("Milvus", self.milvus_panel, right)
        self._dock("Compare", self.compare_view, right)
        self._dock("Search lab", self.search_lab, right)
        self._dock("Evaluation", self.evaluation_view, right)
        self.tabifyDockWidget(self.docks["Similarity"], self.docks["Milvus"])
        self.tabifyDockWidget(self.docks["Milvus"], self.docks["Compare"])
        self.tabifyDockWidget(self.docks["Compare"], self.docks["Search lab"])
        self.tabifyDockWidget(self.docks["Search lab"], self.docks["Evaluation"])
        self.docks["Similarity"].raise_()
        docks = list(self.docks.values())
        self.window_layout = WindowLayout(self, docks[:3], docks[3:])
        self.window_layout.fit_to_screen()
        self._shown_before = False

        self._build_actions()
        self._build_status_bar()
        state.corpus_changed.connect(self._update_embed_enabled)
        runner.task_started.connect(self._update_embed_enabled)
        runner.task_finished.connect(self._update_embed_enabled)
        state.status_message.connect(lambda text: self.statusBar().showMessage(text, 10_000))
        self._update_embed_enabled()

    # -- layout ------------------------------------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title.replace("&", "&&"), self)  # a single & would be read as a mnemonic
        dock.setObjectName(f"dock-{title}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[title] = dock
        return dock

    def _build_actions(self) -> None:
        self.embed_action = QAction("Embed", self)
        self.embed_action.setShortcut(QKeySequence("Ctrl+E"))
        self.embed_action.triggered.connect(self.start_embedding)
        self.sample_action = QAction("Load sample corpus", self)
        self.sample_action.triggered.connect(self.load_sample_corpus)
        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("main-toolbar")
        toolbar.addAction(self.embed_action)
        toolbar.addAction(self.sample_action)
        self.addToolBar(toolbar)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.sample_action)
        self.import_folder_action = file_menu.addAction("Import folder…", self.documents_panel.choose_folder)
        self.import_folder_action.setToolTip("Read every .md, .txt, .html and .pdf file of a folder as a document")
        # -- workspace open/save/export, autosave, recovery: workbench/ui/file_actions.py (issue 7) --
        self.file_actions = FileActions(self, self.state, self.runner, file_menu)
        self.lab_files = LabFiles(self, self.state, self.runner, self.lab_pipeline, file_menu)  # labels (issue 15)
        # installed by the app (ui/app.py), not by tests:
        self.crash_handler = CrashHandler(self, lambda: self.file_actions.autosave_now(force=True))
        file_menu.addSeparator()
        file_menu.addAction("Quit", QKeySequence.StandardKey.Quit, self.close)
        run_menu = self.menuBar().addMenu("&Run")
        run_menu.addAction(self.embed_action)
        view_menu = self.menuBar().addMenu("&View")
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        self.reset_layout_action = view_menu.addAction("Reset layout", lambda: self.window_layout.reset())

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.task_bar = TaskBar(self.runner)
        bar.addPermanentWidget(self.task_bar)
        self.runner.task_failed.connect(lambda key, message: bar.showMessage(message, 15_000))

    # -- embedding ---------------------------------------------------------------------------------------------
    def _update_embed_enabled(self, *_: object) -> None:
        has_items = len(self.state.corpus) > 0
        running = self.runner.is_running(EMBED_TASK)
        self.embed_action.setEnabled(has_items and not running)
        self.embed_action.setToolTip(
            "Embed documents and queries (Ctrl+E)" if has_items else "Nothing to embed: paste or import texts first."
        )

    def start_embedding(self) -> None:
        self.pipeline.embed()

    # -- sample corpus -----------------------------------------------------------------------------------------
    def load_sample_corpus(self) -> None:
        """The bundled 40 documents and 6 queries (46 lines: read synchronously in well under 20 ms)."""
        documents, _ = read_items(RESOURCES / "sample_documents.jsonl", ImportOptions(kind="document"))
        queries, _ = read_items(RESOURCES / "sample_queries.jsonl", ImportOptions(kind="query"))
        self.state.set_items("document", documents)
        self.state.set_items("query", queries)
        self.statusBar().showMessage(f"Sample corpus: {len(documents)} documents, {len(queries)} queries.", 10_000)

    def showEvent(self, event: QShowEvent) -> None:
        """The first time: the person's own arrangement from the last run, else the default sizes."""
        super().showEvent(event)
        if not self._shown_before:
            self._shown_before = True
            if not self.window_layout.restore():
                QTimer.singleShot(0, self.window_layout.apply_default_sizes)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.window_layout.save()
        self.runner.cancel_all()
        self.runner.wait_for_done(5_000)
        super().closeEvent(event)
