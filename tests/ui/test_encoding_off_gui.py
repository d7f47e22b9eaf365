"""The map's encoding of new vectors is made beside the layout on a worker, never on the GUI thread."""

from __future__ import annotations

import threading

import numpy as np

import workbench.ui.state as state_module
from workbench.core.cache import EmbeddingCache
from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.embedding import EmbeddingResult
from workbench.core.encoding import PALETTE, CategoryColours
from workbench.core.items import Item
from workbench.ui.pipeline import Pipeline
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner


def _result(n: int = 400) -> EmbeddingResult:
    items = [Item(f"i{k}", f"text {k}", "document", {"topic": f"t{k % 5}"}) for k in range(n)]
    vectors = l2_normalise(np.random.default_rng(0).normal(size=(n, 16)).astype(np.float32))
    return EmbeddingResult(items, vectors, EmbeddingSpec(provider="test", model="random"), 16, 0, 0)


def _record_encode_threads(monkeypatch) -> list[bool]:
    """Each call of encode() from AppState, in order: True where it ran on the GUI (main) thread."""
    on_gui: list[bool] = []
    real_encode = state_module.encode

    def recording_encode(*args, **kwargs):
        on_gui.append(threading.current_thread() is threading.main_thread())
        return real_encode(*args, **kwargs)

    monkeypatch.setattr(state_module, "encode", recording_encode)
    return on_gui


def test_a_new_layout_arrives_with_its_encoding_made_off_the_gui_thread(qtbot, monkeypatch) -> None:
    threads = _record_encode_threads(monkeypatch)
    state, runner = AppState(), TaskRunner()
    pipeline = Pipeline(state, runner, EmbeddingCache())
    state.set_view(layout_method="pca", colour_by="meta:topic")
    state.set_embedding(_result())
    qtbot.waitUntil(lambda: state.projection is not None and not runner.running(), timeout=30_000)
    encoding = state.encoding()  # what the map draws: already there
    assert threads == [False]  # made once, on the worker
    assert sorted(encoding.names) == [f"t{k}" for k in range(5)]
    assert encoding is state.encoding("meta:topic")
    assert pipeline is not None


def test_an_encoding_made_for_changed_colours_is_not_kept(qtbot) -> None:
    state = AppState()
    state.set_embedding(_result())
    draft = state.encoding_maker()(lambda: "meta:topic")
    state.set_colours(CategoryColours({"meta:topic": {"t3": 0}}))  # the person's workspace brought other colours
    state.adopt_encoding(draft)
    kept = state.encoding("meta:topic")
    assert draft.encoding.colour_of("t3") != PALETTE[0]  # the draft gave t3 a slot of its own
    assert kept is not draft.encoding and kept.colour_of("t3") == PALETTE[0]  # the workspace's colours win
    other = AppState()
    other.adopt_encoding(state.encoding_maker()(lambda: "meta:topic"))  # made for another state's vectors
    assert other.colours.to_rows() == []  # not kept: nothing changed there


def test_a_reopened_layout_and_a_new_colouring_of_a_big_map_are_coloured_on_a_worker(qtbot, monkeypatch) -> None:
    """A workspace brings its layout with the vectors, so no layout task makes the encoding; for a big map the view
    asks the pipeline for it, shows "Colouring…", and draws once it lands. The same when colour-by changes."""
    from workbench.ui.panels.projection_view import ProjectionView

    on_gui = _record_encode_threads(monkeypatch)
    monkeypatch.setattr(state_module, "ENCODE_ON_GUI_MAX_ITEMS", 100)  # 400 items count as a big map here
    state, runner = AppState(), TaskRunner()
    view = ProjectionView(state, runner, Pipeline(state, runner, EmbeddingCache()))
    view.resize(800, 600)
    view.show()
    state.set_view(layout_method="pca", colour_by="meta:topic")
    result = _result()
    layout = np.random.default_rng(3).normal(size=(len(result.items), 2))
    state.set_embedding(result, layout, "a reopened workspace")  # as File ▸ Open does
    assert view.note.text() == "Colouring 400 points…"
    qtbot.waitUntil(lambda: not runner.running() and view.scatter.point_count() == 400, timeout=30_000)
    assert on_gui == [False]
    assert view.note.text() == "a reopened workspace"
    assert len(view.scatter.legend.items) == 5  # t0..t4
    state.set_view(colour_by="kind")
    qtbot.waitUntil(lambda: not runner.running() and len(view.scatter.legend.items) == 1, timeout=30_000)
    assert on_gui == [False, False]  # the new colouring too, drawn when it landed (documents only: one entry)
    view.close()


def test_a_small_map_is_coloured_at_once_on_the_gui_thread(qtbot) -> None:
    state = AppState()
    state.set_embedding(_result(50), np.zeros((50, 2)), "given")
    assert state.encoding_if_ready("meta:topic") is not None  # 50 items: cheaper than a task


def test_two_colourings_asked_at_once_both_arrive(qtbot, monkeypatch) -> None:
    """The map and the cluster table may ask for two colourings of a big map together; keeping the first adds its
    categories to the remembered colours, so the second was made from colours that changed: it is made again, not
    dropped (the view that asked would say "Colouring…" for ever)."""
    monkeypatch.setattr(state_module, "ENCODE_ON_GUI_MAX_ITEMS", 100)
    state, runner = AppState(), TaskRunner()
    pipeline = Pipeline(state, runner, EmbeddingCache())
    items = [Item(f"i{k}", f"text {k}", "document", {"topic": f"t{k % 5}", "lang": f"l{k % 3}"}) for k in range(400)]
    vectors = l2_normalise(np.random.default_rng(0).normal(size=(400, 16)).astype(np.float32))
    state.set_embedding(EmbeddingResult(items, vectors, EmbeddingSpec(provider="test", model="random"), 16, 0, 0),
                        np.zeros((400, 2)), "given")  # fmt: skip
    ready: list[str] = []
    state.encoding_ready.connect(ready.append)
    assert state.encoding_if_ready("meta:topic") is None and state.encoding_if_ready("meta:lang") is None
    qtbot.waitUntil(lambda: sorted(ready) == ["meta:lang", "meta:topic"] and not runner.running(), timeout=30_000)
    topic, lang = state.encoding("meta:topic"), state.encoding("meta:lang")
    assert (len(set(topic.colours)), len(set(lang.colours))) == (5, 3)
    assert {row[0] for row in state.colours.to_rows()} >= {"meta:topic", "meta:lang"}  # both remembered
    assert pipeline is not None
