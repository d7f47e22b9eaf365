"""The Model panel's device choice and the Projection panel's "Reproducible, seed": both live in AppState's view
settings (a workspace keeps them), the panels follow them without echoing, and the pipeline uses them: UMAP
gets no seed (every core) unless the person asked for a reproducible layout."""

from __future__ import annotations

import numpy as np
import pytest

import workbench.ui.pipeline as pipeline_module
from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.embedding import EmbeddingResult
from workbench.core.items import Item
from workbench.core.projection import Projection
from workbench.core.view_settings import ViewSettings


def test_the_device_choice_goes_to_appstate_and_to_the_local_embedder(window) -> None:
    panel, state = window.model_panel, window.state
    assert panel.device.currentData() == "auto" == state.view.embed_device
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
    assert state.view.embed_device == "cpu"
    assert state.embedder().device_choice == "cpu"  # built, not loaded: no torch on the GUI thread
    state.set_view(embed_device="mps")  # e.g. an opened workspace
    assert panel.device.currentData() == "mps" and state.view.embed_device == "mps"
    assert ViewSettings.from_dict({"embed_device": "tpu"}).embed_device == "auto"  # a damaged file: the default


def _layout_asked(window, qtbot, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Embed 40 items (as the pipeline would) and return the options the pipeline handed the UMAP child."""
    asked: dict = {}

    def recorded(vectors, progress=None, cancelled=None, **options) -> Projection:
        asked.update(options)
        return Projection(np.zeros((len(vectors), 2), np.float32), "umap", "recorded")

    monkeypatch.setattr(pipeline_module, "project_2d_in_subprocess", recorded)
    items = [Item.create(f"text number {i}", "document") for i in range(40)]
    vectors = l2_normalise(np.random.default_rng(0).normal(size=(40, 8)))
    result = EmbeddingResult(items, vectors, EmbeddingSpec(), 8, 40, 0).warm()
    window.state.set_items("document", items)
    window.state.set_embedding(result)
    qtbot.waitUntil(lambda: bool(asked), timeout=20_000)
    return asked


def test_umap_runs_without_a_seed_by_default(window, qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    view = window.projection_view
    assert not view.reproducible.isChecked() and not view.seed.isEnabled()
    assert _layout_asked(window, qtbot, monkeypatch)["seed"] is None


def test_reproducible_hands_umap_the_seed(window, qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    view = window.projection_view
    view.reproducible.setChecked(True)
    assert window.state.view.layout_reproducible and view.seed.isEnabled()
    view.seed.setValue(42)
    assert _layout_asked(window, qtbot, monkeypatch)["seed"] == 42
    window.state.set_view(layout_reproducible=False)  # e.g. an opened workspace: the box follows
    assert not view.reproducible.isChecked() and not view.seed.isEnabled()
