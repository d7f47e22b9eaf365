"""UMAP as fast as the machine allows: no seed runs on every core, a seed gives the same layout twice, exact
neighbours only where the measured model says they win, large inputs start from PCA with fewer epochs, and
numba's compilation of umap-learn is kept on disk for the next process."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import umap

import workbench.core.projection as projection
from workbench.core.embedders.base import l2_normalise
from workbench.core.projection import exact_knn_wins, project_2d


def _vectors(n: int = 120, dim: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, dim)) * 4
    return l2_normalise(centres[rng.integers(0, 4, n)] + rng.normal(size=(n, dim)))


class _Recorded(umap.UMAP):
    """umap.UMAP that keeps the options it was built with (the real fit still runs)."""

    built: ClassVar[list[dict]] = []

    def __init__(self, **options) -> None:
        _Recorded.built.append(options)
        super().__init__(**options)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    _Recorded.built = []
    monkeypatch.setattr(umap, "UMAP", _Recorded)
    return _Recorded.built


def test_no_seed_runs_umap_on_every_core_without_umaps_override_warning(recorded: list[dict]) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = project_2d(_vectors())
    assert result.method == "umap" and "every core" in result.note
    assert recorded[-1]["random_state"] is None and recorded[-1]["n_jobs"] == -1
    assert not [w for w in caught if "overridden" in str(w.message)]


def test_a_seed_gives_the_same_layout_twice_on_one_core(recorded: list[dict]) -> None:
    vectors = _vectors()
    first, second = project_2d(vectors, seed=11), project_2d(vectors, seed=11)
    np.testing.assert_array_equal(first.xy, second.xy)
    assert recorded[-1]["random_state"] == 11 and recorded[-1]["n_jobs"] == 1
    assert "seed 11 (reproducible, one core)" in first.note


def test_exact_neighbours_only_where_the_measured_model_says_they_win() -> None:
    # 2 cores: exact up to ~26 000 points, then NN-descent (whose ~11 s of uncached compilation exact never pays)
    assert exact_knn_wins(20_000, cores=2) and not exact_knn_wins(50_000, cores=2)
    # more cores: only the exact side divides by them, so the crossover grows
    assert exact_knn_wins(50_000, cores=16) and not exact_knn_wins(200_000, cores=16)
    crossover = {c: next(n for n in range(1_000, 400_000, 1_000) if not exact_knn_wins(n, c)) for c in (2, 4, 16)}
    assert crossover[2] < crossover[4] < crossover[16]


def test_umap_is_handed_exact_neighbours_below_the_crossover_and_not_above(
    recorded: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    project_2d(_vectors())
    assert recorded[-1]["precomputed_knn"][0] is not None
    monkeypatch.setattr(projection, "exact_knn_wins", lambda n, cores=None: False)
    project_2d(_vectors())
    assert recorded[-1]["precomputed_knn"][0] is None


def test_large_inputs_start_from_pca_with_fewer_epochs(recorded: list[dict], monkeypatch: pytest.MonkeyPatch) -> None:
    vectors = _vectors(n=300)
    monkeypatch.setattr(projection, "LARGE_LAYOUT", 200)  # what 100 000 points get, on a size a test affords
    result = project_2d(vectors, seed=3)
    options = recorded[-1]
    assert options["n_epochs"] == projection.epochs_for(300) == round(200 * 200 / 300)
    np.testing.assert_array_equal(options["init"], projection.pca_2d(vectors))
    assert result.xy.shape == (300, 2) and np.isfinite(result.xy).all()
    monkeypatch.setattr(projection, "LARGE_LAYOUT", 10_000)
    project_2d(vectors, seed=3)
    assert "init" not in recorded[-1] and "n_epochs" not in recorded[-1]  # umap-learn's own below it


def test_epochs_shrink_with_size_above_the_large_threshold() -> None:
    assert projection.epochs_for(49_999) is None  # umap-learn's own
    assert projection.epochs_for(50_000) == 200 and projection.epochs_for(80_000) == 125
    assert projection.epochs_for(100_000) == projection.epochs_for(1_000_000) == projection.MIN_EPOCHS == 100


def test_umaps_own_compilation_is_kept_on_disk_for_the_next_process(tmp_path: Path) -> None:
    # umap-learn marks none of its numba functions cache=True: without us, every fresh process compiles them again
    script = (
        "import numpy as np\n"
        "from workbench.core.projection import project_2d\n"
        "vectors = np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32)\n"
        "vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)\n"
        "assert project_2d(vectors, n_neighbors=5).method == 'umap'\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    kept = {path.name.split("-")[0] for path in tmp_path.glob("umap_*/*.nbi")}
    assert {"umap_.smooth_knn_dist", "umap_.compute_membership_strengths"} <= kept, kept
    assert any(name.startswith("layouts._optimize_layout_euclidean_single_epoch") for name in kept), kept
    assert "Cannot cache" not in done.stderr


def test_nn_descent_is_warmed_once_per_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import umap.umap_

    calls: list[tuple] = []
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(umap.umap_, "nearest_neighbors", lambda *args, **options: calls.append((args, options)))
    projection._warm_up_nn_descent_once()
    projection._warm_up_nn_descent_once()
    assert len(calls) == 1  # the second start finds the marker
    (vectors, neighbours, metric, *_), options = calls[0]
    assert vectors.dtype == np.float32 and vectors.flags.c_contiguous and (neighbours, metric) == (15, "cosine")
    assert options == {"low_memory": True, "n_jobs": -1}  # as project_2d's umap.UMAP calls it
    assert len(list(tmp_path.glob("nn-descent-warm-umap*"))) == 1


def test_a_numba_without_the_internals_we_use_only_costs_compile_time(monkeypatch, caplog) -> None:
    """_keep_compilation_on_disk reaches into numba's internals; where they moved, UMAP still runs."""
    import sys

    from workbench.core import projection

    monkeypatch.setitem(sys.modules, "numba.core.caching", None)  # "import numba.core.caching" now fails
    with caplog.at_level("INFO", logger="workbench.core.projection"):
        projection._keep_compilation_on_disk()
    assert "will not keep umap-learn's compilation on disk" in caplog.text
