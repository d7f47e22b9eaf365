"""A Compare run in a workspace: B's vectors, layout, spec and numbers survive save → open; old files still open."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.core.test_session import make_workspace
from workbench.core.compare import compare
from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.embedding import EmbeddingResult
from workbench.core.errors import InputError
from workbench.core.exchange import ExchangeTable
from workbench.core.session import MANIFEST, Workspace, load_workspace, save_workspace
from workbench.core.workspace_comparison import SavedComparison

SPEC_B = EmbeddingSpec(provider="local", model="all-MiniLM-L6-v2", dim=None)


def with_comparison() -> Workspace:
    """make_workspace's A beside a B over the same rows, compared for real (topics as labels, one query)."""
    workspace = make_workspace()
    a = workspace.embedding
    assert a is not None
    vectors_b = l2_normalise(np.random.default_rng(7).normal(size=(len(a.items), 6)))
    b = EmbeddingResult(list(a.items), vectors_b, SPEC_B, 6, encoded=2, from_cache=5)
    comparison = compare(ExchangeTable(a.items, a.vectors, a.spec), ExchangeTable(b.items, b.vectors, b.spec), k=2,
                         label_column="topic")  # fmt: skip
    xy_b = np.random.default_rng(8).normal(size=(len(a.items), 2)).astype(np.float32)
    workspace.comparison = SavedComparison(b, xy_b, comparison)
    return workspace


def test_a_comparison_survives_save_and_open(tmp_path: Path) -> None:
    original = with_comparison()
    opened = load_workspace(save_workspace(tmp_path / "w.workbench", original))
    saved, back = original.comparison, opened.comparison
    assert saved is not None and back is not None and opened.embedding is not None
    assert back.result_b.items == opened.embedding.items  # row i of B is row i of A
    np.testing.assert_array_equal(back.result_b.vectors, saved.result_b.vectors)
    assert (back.result_b.spec, back.result_b.dim, back.result_b.encoded, back.result_b.from_cache) == (SPEC_B, 6, 2, 5)
    np.testing.assert_array_equal(back.xy_b, saved.xy_b)
    assert back.comparison.as_json() == saved.comparison.as_json()  # every number, the id counts, each query's tops
    assert back.comparison.query_tops and "knn_label_accuracy_b" in back.comparison.numbers
    assert opened.summary().endswith("compared with B (all-MiniLM-L6-v2, 6-d)")


def _rewritten(path: Path, target: Path, change) -> Path:
    """A copy of a workspace file whose manifest `change` edits (members copied as they are)."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as out:
        for name in source.namelist():
            data = source.read(name)
            if name == MANIFEST:
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
            out.writestr(name, data)
    return target


def test_a_workspace_saved_before_comparisons_were_kept_opens_without_one(tmp_path: Path) -> None:
    path = save_workspace(tmp_path / "w.workbench", make_workspace())

    def as_before(manifest: dict) -> None:  # files of earlier versions have no such key at all
        manifest.pop("comparison")

    opened = load_workspace(_rewritten(path, tmp_path / "old.workbench", as_before))
    assert opened.comparison is None and opened.embedding is not None and len(opened.embedding.items) == 7


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.update(rows=3), "B's vectors do not match"),
        (lambda c: c.update(dim="six"), "B's dim 'six' is not a size"),
        (lambda c: c["numbers"].update(knn_overlap=[1]), "number 'knn_overlap' is not a number"),
        (lambda c: c["query_tops"][0].update(scores_b=[0.5]), "scores under B do not match its top"),
        (lambda c: c.update(spec={"provider": 1}), "comparison's the model setting 'provider' is not text"),
    ],
)
def test_a_damaged_comparison_is_refused_whole(tmp_path: Path, change, message: str) -> None:
    path = save_workspace(tmp_path / "w.workbench", with_comparison())
    bad = _rewritten(path, tmp_path / "bad.workbench", lambda manifest: change(manifest["comparison"]))
    with pytest.raises(InputError, match=rf"bad\.workbench: the workspace file is damaged.*{message}"):
        load_workspace(bad)


def test_a_comparison_over_other_rows_than_a_is_not_saved(tmp_path: Path) -> None:
    workspace = with_comparison()
    assert workspace.comparison is not None
    workspace.comparison.result_b.items = workspace.comparison.result_b.items[::-1]
    with pytest.raises(ValueError, match="one row per embedded item"):
        save_workspace(tmp_path / "w.workbench", workspace)
    assert not (tmp_path / "w.workbench").exists()
