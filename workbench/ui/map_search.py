"""The map's search box as a request: matched at once for a small corpus, on a worker for a large one.

Matching itself is core.text_search (exact: Python's casefold and re semantics). At a million texts even the
Arrow path costs tens of ms a search, and preparing the folded column ~0.4 s, so above SYNC_LIMIT texts the
work goes through the app's TaskRunner: keystrokes are debounced (one task per pause in typing, not per key),
at most one search runs at a time (the newest waiting request starts when it ends), and a result that lands
for anything but the newest request (another pattern, the other mode, another embedding) is dropped. The
prepared TextIndex is kept for the embedding on the map (held weakly; dropped when another map is searched or
shown), so only the first search of a map pays for folding its texts.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from workbench.core.embedding import EmbeddingResult
from workbench.core.text_search import TextIndex, compile_search
from workbench.ui.tasks import TaskRunner

SEARCH_TASK = "map-search"
# Below both limits a search (its index included) takes a few ms to ~20 ms: answered at once, on the GUI thread.
SYNC_LIMIT = 50_000  # texts
SYNC_CHARS = 4_000_000  # characters in all: 50 000 texts of 80, or 2 000 pages of 2 000
DEBOUNCE_MS = 150  # a pause in typing this long starts the search of a large corpus
SEARCHING = "searching…"


@dataclass(frozen=True)
class SearchRequest:
    embedding: weakref.ref[EmbeddingResult]
    pattern: str
    regex: bool

    def same(self, other: SearchRequest | None) -> bool:
        """The same search of the same (live) embedding: identity, never the embeddings' field-by-field ==."""
        return (
            other is not None
            and self.embedding() is not None
            and self.embedding() is other.embedding()
            and (self.pattern, self.regex) == (other.pattern, other.regex)
        )


class MapSearch(QObject):
    """request(embedding, pattern, regex) -> `found(rows or None, label)` or `status(label)` on the GUI thread."""

    found = Signal(object, str)  # matching rows (None: no search), the count label
    status = Signal(str)  # "searching…", "bad regex: …": the rows shown stay as they are

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.wanted: SearchRequest | None = None  # the newest request
        self.shown: SearchRequest | None = None  # the request whose rows were last emitted
        self.rows: np.ndarray | None = None
        self._index: tuple[weakref.ref[EmbeddingResult], TextIndex] | None = None
        self._on_map: weakref.ref[EmbeddingResult] | None = None  # the embedding of the latest request
        self._running = False
        self._waiting = False  # the debounce fired while a search ran: start the newest when it ends
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self._start_task)

    def request(self, embedding: EmbeddingResult | None, pattern: str, regex: bool) -> None:
        self._on_map = None if embedding is None else weakref.ref(embedding)
        if self._index is not None and self._index[0]() is not embedding:  # another map's texts: let them go
            self._index = None
        if embedding is None or not pattern:
            self._forget()
            self.shown, self.rows = None, None
            self.found.emit(None, "")
            return
        if regex:
            try:
                compile_search(pattern)
            except re.error as error:  # as before: say so, keep the rows shown
                self._forget()
                self.status.emit(f"bad regex: {error.msg}")
                return
        wanted = SearchRequest(weakref.ref(embedding), pattern, regex)
        self.wanted = wanted
        if wanted.same(self.shown):  # a redraw of the same map: show the same rows again
            self._debounce.stop()
            self._emit(self.rows)
            return
        if len(embedding.items) < SYNC_LIMIT and sum(map(len, embedding.texts)) < SYNC_CHARS:
            self._debounce.stop()
            index = self._index_of(embedding)
            self._land(wanted, index if index is not None else TextIndex(embedding.texts), None)
            return
        if self.shown is not None and self.shown.embedding() is not embedding:  # rows of another map: not these
            self.shown, self.rows = None, None
            self.found.emit(None, SEARCHING)
        else:
            self.status.emit(SEARCHING)
        self._debounce.start()

    def _forget(self) -> None:
        """No request is wanted any more: a search still running lands on nothing."""
        self.wanted = None
        self._debounce.stop()
        self._waiting = False

    def _index_of(self, embedding: EmbeddingResult) -> TextIndex | None:
        if self._index is not None and self._index[0]() is embedding:
            return self._index[1]
        return None

    def _start_task(self) -> None:
        wanted = self.wanted
        embedding = wanted.embedding() if wanted is not None else None
        if embedding is None or wanted.same(self.shown):  # nothing wanted, or the running search answered it
            return
        if self._running:
            self._waiting = True
            return
        index, texts = self._index_of(embedding), embedding.texts

        def search(progress, cancelled) -> tuple[TextIndex, np.ndarray]:
            built = index if index is not None else TextIndex(texts, progress, cancelled)
            return built, built.match(wanted.pattern, wanted.regex, cancelled)

        self._running = True
        self.runner.start(
            SEARCH_TASK,
            f"Searching {len(texts):,} texts",
            search,
            on_done=lambda result: self._finished(wanted, result),
            on_error=lambda message: self._finished(wanted, None, message),
            on_cancelled=lambda _message: self._finished(wanted, None),
        )

    def _finished(self, request: SearchRequest, result: tuple[TextIndex, np.ndarray] | None, error: str = "") -> None:
        self._running = False
        if result is not None:
            index, rows = result
            on_map = self._on_map() if self._on_map is not None else None
            if on_map is not None and request.embedding() is on_map:  # kept for the next search of this map
                self._index = (request.embedding, index)
            self._land(request, index, rows)
        elif error and request.same(self.wanted):
            self.status.emit(error)
        if self._waiting:
            self._waiting = False
            self._start_task()

    def _land(self, request: SearchRequest, index: TextIndex, rows: np.ndarray | None) -> None:
        """Show `rows` (or match now, when None) if `request` is still the newest; an older one is dropped."""
        if not request.same(self.wanted):
            return
        embedding = request.embedding()
        if self._index_of(embedding) is not index:
            self._index = (request.embedding, index)
        self.shown = request
        self._emit(index.match(request.pattern, request.regex) if rows is None else rows)

    def _emit(self, rows: np.ndarray | None) -> None:
        self.rows = rows
        total = len(self.shown.embedding().items) if self.shown and self.shown.embedding() else 0
        self.found.emit(rows, f"{len(rows)} of {total} match")
