"""Search over a large map runs on a worker: typing ends with the exact highlight and count, stale results drop.

SYNC_LIMIT is lowered so a 3 000-item corpus takes the large-corpus path (debounce, TaskRunner, landing).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.embedding import EmbeddingResult
from workbench.core.items import Item
from workbench.core.text_search import TextIndex, match_rows_plain
from workbench.ui import map_search

N = 3_000
WORDS = ["Straße", "strasse", "Café", "cafe", "ΣΟΦΙΑ", "σοφία", "star", "bread", "🙂", "naïve"]


def _embedding(n: int = N) -> EmbeddingResult:
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(WORDS, size=3)) + f" #{i}" for i in range(n)]
    items = [Item(f"r{i}", text, "document", {}) for i, text in enumerate(texts)]
    vectors = l2_normalise(rng.normal(size=(n, 8)).astype(np.float32))
    return EmbeddingResult(items, vectors, EmbeddingSpec(provider="test", model="random"), 8, 0, 0)


@pytest.fixture
def view(qtbot, monkeypatch):
    from workbench.core.cache import EmbeddingCache
    from workbench.ui.panels.projection_view import ProjectionView
    from workbench.ui.pipeline import Pipeline
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    monkeypatch.setattr(map_search, "SYNC_LIMIT", 1_000)
    state, runner = AppState(), TaskRunner()
    state.set_view(layout_method="pca")
    widget = ProjectionView(state, runner, Pipeline(state, runner, EmbeddingCache()))
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    state.set_embedding(_embedding())
    qtbot.waitUntil(lambda: state.projection is not None and not runner.running(), timeout=60_000)
    yield widget
    runner.cancel_all()
    runner.wait_for_done(10_000)


def _search_started(view) -> list[str]:
    started: list[str] = []
    view.runner.task_started.connect(lambda key, _label: started.append(key))
    return started


def _settled(view) -> bool:
    return not view.runner.is_running(map_search.SEARCH_TASK) and not view.text_search._debounce.isActive()


@pytest.mark.parametrize(("typed", "regex"), [("STRASSE", False), ("σοφ", False), (r"caf(e|é) \w+ #1\d$", True)])
def test_typing_over_a_large_corpus_ends_with_the_exact_highlight_and_count(view, qtbot, typed, regex) -> None:
    started = _search_started(view)
    view.regex.setChecked(regex)
    for end in range(1, len(typed) + 1):  # one keystroke at a time (QTest.keyClicks takes ASCII only)
        view.search.setText(typed[:end])
    assert view.match_count.text() == map_search.SEARCHING  # nothing matched on the GUI thread yet
    qtbot.waitUntil(lambda: _settled(view) and view.match_count.text() != map_search.SEARCHING, timeout=20_000)
    expected = match_rows_plain(view.state.embedding.texts, typed, regex)
    assert 0 < len(expected) < N
    assert view.match_count.text() == f"{len(expected)} of {N} match"
    assert np.array_equal(view.match_rows, expected)
    assert np.array_equal(view.scatter.highlighted, expected)
    assert started.count(map_search.SEARCH_TASK) == 1  # debounced: one search for the whole word, on a worker


def _hold_bread_on_the_worker(monkeypatch) -> tuple[threading.Event, threading.Event]:
    """A search for 'bread' waits on the worker (entered is set) until release is set; other patterns run."""
    entered, release = threading.Event(), threading.Event()
    real_match = TextIndex.match

    def slow_for_bread(index, pattern, regex, cancelled=lambda: False):
        if pattern == "bread":
            entered.set()
            release.wait(10)
        return real_match(index, pattern, regex, cancelled)

    monkeypatch.setattr(TextIndex, "match", slow_for_bread)
    return entered, release


def test_a_stale_result_is_dropped(view, qtbot, monkeypatch) -> None:
    """'bread' is still matching on the worker when the person has typed 'star': 'bread' must never show."""
    entered, release = _hold_bread_on_the_worker(monkeypatch)
    shown: list[str] = []
    view.text_search.found.connect(lambda _rows, label: shown.append(label))
    view.search.setText("bread")
    qtbot.waitUntil(entered.is_set, timeout=10_000)  # the 'bread' search is running on the worker
    view.search.setText("star")  # the debounce for 'star' is pending, then it waits for the running search
    release.set()
    qtbot.waitUntil(lambda: _settled(view) and bool(shown), timeout=20_000)
    texts = view.state.embedding.texts
    star = match_rows_plain(texts, "star", False)
    assert shown == [f"{len(star)} of {N} match"]  # bread's count (a different number) never appeared
    assert len(match_rows_plain(texts, "bread", False)) != len(star)
    assert np.array_equal(view.scatter.highlighted, star)


def test_clearing_and_a_bad_regex_drop_the_search_in_flight(view, qtbot) -> None:
    view.search.setText("bread")
    view.search.setText("")
    qtbot.waitUntil(lambda: _settled(view), timeout=20_000)
    qtbot.wait(50)
    assert view.match_count.text() == "" and view.match_rows is None and view.scatter.highlighted is None
    view.regex.setChecked(True)
    view.search.setText("(bread")
    qtbot.waitUntil(lambda: _settled(view), timeout=20_000)
    assert view.match_count.text() == "bad regex: missing ), unterminated subpattern"


def test_a_new_embedding_is_searched_again(view, qtbot) -> None:
    view.search.setText("star")
    qtbot.waitUntil(lambda: _settled(view) and view.match_count.text().endswith("match"), timeout=20_000)
    bigger = _embedding(N + 500)
    view.state.set_embedding(bigger)
    qtbot.waitUntil(lambda: view.match_count.text().endswith(f"of {N + 500} match") and _settled(view), timeout=60_000)
    assert np.array_equal(view.match_rows, match_rows_plain(bigger.texts, "star", False))


def test_few_but_long_texts_are_searched_on_a_worker_too(view, qtbot, monkeypatch) -> None:
    monkeypatch.setattr(map_search, "SYNC_LIMIT", 100_000)  # 3 000 texts is few...
    monkeypatch.setattr(map_search, "SYNC_CHARS", 10_000)  # ...but their characters are many
    view.search.setText("star")
    assert view.match_count.text() == map_search.SEARCHING
    qtbot.waitUntil(lambda: _settled(view) and view.match_count.text().endswith("match"), timeout=20_000)
    assert np.array_equal(view.match_rows, match_rows_plain(view.state.embedding.texts, "star", False))


def test_the_folded_texts_are_made_once_per_map(view, qtbot, monkeypatch) -> None:
    built: list[int] = []
    real_init = TextIndex.__init__

    def counting_init(index, texts, *args, **kwargs):
        built.append(len(texts))
        real_init(index, texts, *args, **kwargs)

    monkeypatch.setattr(TextIndex, "__init__", counting_init)
    for typed in ("star", "", "bread", "caf"):
        view.search.setText(typed)
        qtbot.waitUntil(lambda: _settled(view), timeout=20_000)
    assert built == [N]


def test_typing_back_to_the_running_search_starts_no_second_one(view, qtbot, monkeypatch) -> None:
    entered, release = _hold_bread_on_the_worker(monkeypatch)
    started = _search_started(view)
    view.search.setText("bread")
    qtbot.waitUntil(entered.is_set, timeout=10_000)
    view.search.setText("breadx")
    view.search.setText("bread")  # back to what is being searched
    qtbot.wait(map_search.DEBOUNCE_MS * 2)  # the debounce fires while 'bread' still runs
    release.set()
    qtbot.waitUntil(lambda: _settled(view) and view.match_count.text().endswith("match"), timeout=20_000)
    qtbot.wait(50)
    assert started.count(map_search.SEARCH_TASK) == 1
    assert np.array_equal(view.match_rows, match_rows_plain(view.state.embedding.texts, "bread", False))
