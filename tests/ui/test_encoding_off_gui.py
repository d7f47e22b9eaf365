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


def test_a_new_layout_arrives_with_its_encoding_made_off_the_gui_thread(qtbot, monkeypatch) -> None:
    threads: list[bool] = []
    real_encode = state_module.encode

    def recording_encode(*args, **kwargs):
        threads.append(threading.current_thread() is threading.main_thread())
        return real_encode(*args, **kwargs)

    monkeypatch.setattr(state_module, "encode", recording_encode)
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
