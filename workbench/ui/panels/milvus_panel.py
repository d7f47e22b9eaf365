"""Milvus panel: push the embedded items to a collection, and search it next to the exact ranking.

Every Milvus call runs as a TaskRunner task that hands one operation of `core.milvus.operations` to the app's
Milvus process (`MILVUS_PROCESS`), which opens the database, does one thing and closes it, so a Milvus Lite file
is free for the `workbench` CLI between operations (Lite lets one process hold it at a time). The GUI's process
never imports pymilvus: Milvus Lite's server is Python threads, and with gRPC's start-up they took the GIL from
the GUI for up to 400 ms per push.
The token lives in a masked field and in memory only. The exact ranking is computed from the collection's own
vectors (same filter), so recall@k says how much the index missed, not how the corpora differ; the table that
shows both side by side (one row per item, its rank in each) is in `milvus_tables`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.core.child_process import ChildService
from workbench.core.milvus import (
    INDEX_TYPES,
    METRICS,
    CollectionInfo,
    MilvusTarget,
    PushReport,
    embed_query,
    other_model_message,
    search_filter,
    value_like,
)
from workbench.core.milvus.operations import (
    SearchOutcome,
    drop_collection,
    list_collections,
    prepare_search,
    push_items,
    rebuild_fulltext,
    search_beside_exact,
)
from workbench.core.paths import default_milvus_uri
from workbench.core.secrets import register_secret
from workbench.ui.panels.milvus_tables import CollectionsTable, SearchResultsTable
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner
from workbench.ui.widgets import MessageStrip, OnScreenRefresher

log = logging.getLogger("workbench.ui.milvus")
PUSH_TASK, SEARCH_TASK, LIST_TASK, DROP_TASK = "milvus-push", "milvus-search", "milvus-list", "milvus-drop"
MILVUS_PROCESS = ChildService("The Milvus process")  # started on the first Milvus call; see the module docstring


@dataclass
class SearchResult:
    outcome: SearchOutcome
    other_model: str | None  # the warning when the collection's rows come from another model than the query


class MilvusPanel(QWidget):
    def __init__(self, state: AppState, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.runner = state, runner
        self.confirm = self._ask  # replaced in tests; the panel's modal questions (drop, add full text)
        self.collections: list[CollectionInfo] = []  # as last listed
        # The collections are listed the first time the panel is really on screen (listing starts Milvus).
        self.on_screen = OnScreenRefresher(self, self.refresh)
        self.on_screen.request()
        self.messages = MessageStrip()

        # -- where ----------------------------------------------------------------------------------------
        self.uri = QLineEdit(default_milvus_uri())
        self.uri.setPlaceholderText("Milvus Lite .db path, or http://host:19530")
        self.uri.setToolTip("A .db path is a Milvus Lite database on this computer; a URL is a Milvus server.")
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("server token (kept in memory only)")
        self.refresh_button = QPushButton("Refresh")
        self.collections_table = CollectionsTable()
        self.collections_table.setMaximumHeight(130)
        where = QGroupBox("Milvus")
        form = QFormLayout(where)
        uri_row = QHBoxLayout()
        uri_row.addWidget(self.uri, 1)
        uri_row.addWidget(self.refresh_button)
        form.addRow("Database", uri_row)
        form.addRow("Token", self.token)
        form.addRow(self.collections_table)

        # -- push -----------------------------------------------------------------------------------------
        self.collection = QLineEdit("workbench")
        self.metric_box = QComboBox()  # not `self.metric`: that would shadow QWidget.metric() and crash painting
        self.metric_box.addItems(METRICS)
        self.index_type = QComboBox()
        self.index_type.addItems(INDEX_TYPES)
        self.push_button = QPushButton("Push")
        self.drop_button = QPushButton("Drop…")
        self.fulltext_button = QPushButton("Add full text…")  # the re-push for a collection made without BM25
        self.fulltext_button.setToolTip("Copy this collection into one with a BM25 field (Milvus cannot add it to "
                                        "an existing collection); BM25 and hybrid search need it")  # fmt: skip
        self.fulltext_button.hide()
        self.count_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumHeight(14)
        self.cancel_button = QPushButton("Cancel")
        for appearing in (self.progress, self.cancel_button):  # showing them must not re-lay out the window:
            policy = appearing.sizePolicy()  # that repaints every view, 20 000 map points included
            policy.setRetainSizeWhenHidden(True)
            appearing.setSizePolicy(policy)
        push_box = QGroupBox("Push embedded items")
        push_form = QFormLayout(push_box)
        options = QHBoxLayout()
        options.addWidget(self.collection, 2)
        options.addWidget(self.metric_box)
        options.addWidget(self.index_type)
        push_form.addRow("Collection", options)
        buttons = QHBoxLayout()
        for widget in (self.push_button, self.drop_button, self.fulltext_button, self.progress, self.cancel_button):
            buttons.addWidget(widget)
        buttons.addWidget(self.count_label, 1)
        push_form.addRow(buttons)

        # -- search ---------------------------------------------------------------------------------------
        self.query = QLineEdit()
        self.query.setPlaceholderText("Type a query and press Enter")
        self.top_k = QSpinBox()
        self.top_k.setRange(1, 100)
        self.top_k.setValue(10)
        self.top_k.setPrefix("top ")
        self.kind_filter = QComboBox()
        self.kind_filter.addItem("documents", "document")
        self.kind_filter.addItem("queries", "query")
        self.kind_filter.addItem("any kind", "")
        self.meta_key = QComboBox()
        self.meta_key.setEditable(True)
        self.meta_key.setToolTip("A metadata field; its value is sent as a filter parameter, never pasted in.")
        self.meta_value = QLineEdit()
        self.meta_value.setPlaceholderText("value")
        self.expression = QLineEdit()
        self.expression.setPlaceholderText('optional Milvus expression, e.g. metadata["year"] > 2020')
        self.search_button = QPushButton("Search")
        self.recall_label = QLabel("")
        self.results = SearchResultsTable(state)
        search_box = QGroupBox("Search the collection")
        search_layout = QVBoxLayout(search_box)
        row = QHBoxLayout()
        row.addWidget(self.query, 1)
        row.addWidget(self.top_k)
        row.addWidget(self.search_button)
        search_layout.addLayout(row)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Only"))
        filters.addWidget(self.kind_filter)
        filters.addWidget(QLabel("where"))
        filters.addWidget(self.meta_key, 1)
        filters.addWidget(QLabel("="))
        filters.addWidget(self.meta_value, 1)
        search_layout.addLayout(filters)
        search_layout.addWidget(self.expression)
        recall_row = QHBoxLayout()
        recall_row.addWidget(self.recall_label, 1)
        recall_row.addWidget(self.results.columns_button)
        search_layout.addLayout(recall_row)
        search_layout.addWidget(self.results, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(where)
        layout.addWidget(push_box)
        layout.addWidget(search_box, 1)
        layout.addWidget(self.messages)

        self.refresh_button.clicked.connect(self.refresh)
        for field in (self.uri, self.token, self.collection):  # the search lab searches what is chosen here
            field.editingFinished.connect(self._share_target)
        self.uri.editingFinished.connect(self.refresh)
        self.collections_table.itemSelectionChanged.connect(self._on_collection_picked)
        self.push_button.clicked.connect(self.push)
        self.drop_button.clicked.connect(self.drop)
        self.fulltext_button.clicked.connect(self.add_fulltext)
        self.cancel_button.clicked.connect(lambda: self.runner.cancel(PUSH_TASK))
        self.search_button.clicked.connect(self.search)
        self.query.returnPressed.connect(self.search)
        self.results.cellDoubleClicked.connect(lambda row, _column: self._on_hit_activated(row))
        state.vectors_changed.connect(self._update_enabled)
        state.corpus_changed.connect(self._fill_metadata_keys)
        self._set_pushing(False)
        self._update_enabled()
        self._fill_metadata_keys()

    # -- state -----------------------------------------------------------------------------------------------
    def target(self) -> MilvusTarget:
        token = self.token.text().strip()
        register_secret(token)  # scrubbed from logs and crash reports from now on
        return MilvusTarget(uri=self.uri.text().strip() or default_milvus_uri(), token=token)

    def _share_target(self) -> None:
        self.state.set_milvus(self.target(), self.collection.text().strip())

    def _update_enabled(self) -> None:
        embedded = self.state.embedding is not None and len(self.state.embedding.items) > 0
        self.push_button.setEnabled(embedded and not self.runner.is_running(PUSH_TASK))
        self.push_button.setToolTip(
            "Upsert every embedded item by its id" if embedded else "Nothing to push: press Embed first."
        )

    def _set_pushing(self, pushing: bool) -> None:
        self.progress.setVisible(pushing)
        self.cancel_button.setVisible(pushing)
        self.drop_button.setEnabled(not pushing)
        self.fulltext_button.setEnabled(not pushing)
        self._update_enabled()

    def _fill_metadata_keys(self) -> None:
        keys = self.state.corpus.metadata_keys()
        current = self.meta_key.currentText()
        self.meta_key.clear()
        self.meta_key.addItems(["", *keys])
        self.meta_key.setCurrentText(current)

    # -- collections -----------------------------------------------------------------------------------------
    def refresh(self) -> None:
        target = self.target()

        def list_them(progress, cancelled) -> list[CollectionInfo]:
            return MILVUS_PROCESS.call(list_collections, target, progress=progress, cancelled=cancelled)

        self.runner.start(LIST_TASK, "Listing Milvus collections", list_them, self._show_collections, self._failed)

    def _show_collections(self, infos: list[CollectionInfo]) -> None:
        self.collections = infos
        self.collections_table.show_collections(infos, self.collection.text().strip())
        current = next((i for i in infos if i.name == self.collection.text().strip()), None)
        self.count_label.setText(f"{current.rows} rows in '{current.name}'" if current else "")
        self._offer_fulltext()

    def _offer_fulltext(self) -> None:
        """The re-push is offered for the chosen collection when Workbench made it and it lacks full text."""
        name = self.collection.text().strip()
        current = next((i for i in self.collections if i.name == name), None)
        self.fulltext_button.setVisible(current is not None and current.ours and not current.fulltext)

    def add_fulltext(self) -> None:
        name, target = self.collection.text().strip(), self.target()
        if not name or not self.confirm(
            f"Copy '{name}' into a new collection with full text (BM25), then replace it? Its rows stay as they "
            "are; the old collection is dropped only once every row is copied."
        ):
            return

        def rebuild(progress, cancelled) -> list[CollectionInfo]:
            return MILVUS_PROCESS.call(rebuild_fulltext, target, name, progress=progress, cancelled=cancelled)

        def rebuilt(infos: list[CollectionInfo]) -> None:
            self._set_pushing(False)
            self._show_collections(infos)
            self.messages.show_info(f"'{name}' now has full text: BM25 and hybrid search can use it.")

        self.messages.clear()
        self.progress.setRange(0, 0)
        self.runner.start(PUSH_TASK, f"Adding full text to '{name}'", rebuild, rebuilt, on_error=self._push_failed,
                          on_progress=self._progressed, on_cancelled=self._push_cancelled)  # fmt: skip
        self._set_pushing(True)

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _on_collection_picked(self) -> None:
        rows = self.collections_table.selectionModel().selectedRows()
        if rows:
            name = self.collections_table.item(rows[0].row(), 0).text()
            self.collection.setText(name)
            self._share_target()
            self._offer_fulltext()
            metric = self.collections_table.item(rows[0].row(), 3).text()
            if metric in METRICS:
                self.metric_box.setCurrentText(metric)

    def drop(self) -> None:
        name, target = self.collection.text().strip(), self.target()
        if not name or not self.confirm(f"Drop the collection '{name}' and all its rows from {target.display}?"):
            return

        def drop_it(progress, cancelled) -> list[CollectionInfo]:
            return MILVUS_PROCESS.call(drop_collection, target, name, progress=progress, cancelled=cancelled)

        def dropped(infos: list[CollectionInfo]) -> None:
            self._show_collections(infos)
            self.messages.show_info(f"Dropped '{name}'.")

        self.runner.start(DROP_TASK, f"Dropping '{name}'", drop_it, dropped, self._failed)

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Milvus", question)
        return answer == QMessageBox.StandardButton.Yes

    # -- push ------------------------------------------------------------------------------------------------
    def push(self) -> None:
        result = self.state.embedding
        if result is None or not result.items:
            return
        name, target = self.collection.text().strip(), self.target()
        self._share_target()  # the search lab searches what was pushed last
        metric, index_type = self.metric_box.currentText(), self.index_type.currentText()
        items, vectors, spec = list(result.items), result.vectors, result.spec

        def push_them(progress, cancelled) -> tuple[PushReport, list[CollectionInfo]]:
            return MILVUS_PROCESS.call(
                push_items,
                target,
                name,
                items,
                vectors,
                spec,
                metric,
                index_type,
                progress=progress,
                cancelled=cancelled,
            )

        self.messages.clear()
        self.progress.setRange(0, len(items))
        self.progress.setValue(0)
        self.runner.start(
            PUSH_TASK,
            f"Pushing {len(items)} items to '{name}'",
            push_them,
            self._pushed,
            on_error=self._push_failed,
            on_progress=lambda done, total: self.progress.setValue(done),
            on_cancelled=self._push_cancelled,
        )
        self._set_pushing(True)

    def _pushed(self, outcome: tuple[PushReport, list[CollectionInfo]]) -> None:
        report, infos = outcome
        self._set_pushing(False)
        self._show_collections(infos)
        self.count_label.setText(f"{report.rows_after} rows in '{report.collection}'")
        if report.warnings:
            self.messages.show_warning(" ".join(report.warnings))
        else:
            self.messages.show_info(report.summary())
        self.state.status_message.emit(report.summary())

    def _push_failed(self, message: str) -> None:
        self._set_pushing(False)
        self.messages.show_error(message)

    def _push_cancelled(self, message: str) -> None:
        self._set_pushing(False)
        self.messages.show_warning(message)
        self.refresh()

    # -- search ----------------------------------------------------------------------------------------------
    def _filter(self) -> tuple[str, dict[str, Any]]:
        """The expression and its parameters: user values always travel as parameters."""
        key, text = self.meta_key.currentText().strip(), self.meta_value.text()
        known = [i.metadata[key] for i in self.state.corpus.items if key in i.metadata] if key and text else []
        value = value_like(text, known) if key and text else ""
        return search_filter(self.kind_filter.currentData() or "", key, value, self.expression.text().strip())

    def search(self) -> None:
        text = self.query.text().strip()
        if not text:
            self.messages.show_warning("Type a query first.")
            return
        name, target, k = self.collection.text().strip(), self.target(), self.top_k.value()
        expression, params = self._filter()
        spec = self.state.spec
        try:
            embedder = self.state.embedder(spec)
        except Exception as error:  # noqa: BLE001 - shown in the strip, the app keeps running
            self.messages.show_error(str(error))
            return

        def run_search(progress, cancelled) -> SearchResult:
            # a bad filter or name fails before the query is embedded
            stored = MILVUS_PROCESS.call(prepare_search, target, name, expression, params, cancelled=cancelled)
            vector = embed_query(text, embedder)
            outcome = MILVUS_PROCESS.call(
                search_beside_exact,
                target,
                name,
                vector,
                k,
                expression,
                params,
                progress=progress,
                cancelled=cancelled,
            )
            return SearchResult(outcome, other_model_message(name, stored, spec))

        self.messages.clear()
        self.recall_label.setText("Searching…")
        self.runner.start(SEARCH_TASK, f"Searching '{name}'", run_search, self._searched, self._search_failed)

    def _searched(self, result: SearchResult) -> None:
        outcome = result.outcome
        if result.other_model:
            self.messages.show_warning(result.other_model)
        k = self.top_k.value()
        recall = "n/a (no row matches)" if outcome.recall is None else f"{outcome.recall:.2f}"
        self.recall_label.setText(
            f"recall@{k} of Milvus against the exact ranking: {recall} (exact over {outcome.scanned} rows)"
        )
        embedding = self.state.embedding  # its metadata keys are worked out once, off the GUI thread
        self.results.show_outcome(outcome, embedding.metadata_keys if embedding else self.state.corpus.metadata_keys())

    def _search_failed(self, message: str) -> None:
        self.recall_label.setText("")
        self.messages.show_error(message)

    def _on_hit_activated(self, row: int) -> None:
        """Double-click a hit: select that item in the other views when it is in this workspace."""
        item_id = self.results.item_id(row)
        if item_id and self.state.row_of(item_id) is not None:
            self.state.set_selection([item_id])

    def _failed(self, message: str) -> None:
        self.messages.show_error(message)
