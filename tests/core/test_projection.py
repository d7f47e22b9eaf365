from __future__ import annotations

import numpy as np
import pytest

from workbench.core.embedders.base import l2_normalise
from workbench.core.errors import InputError
from workbench.core.projection import pca_2d, project_2d


def _clusters(n_per: int = 30, dim: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, dim)) * 4
    labels = np.repeat(np.arange(3), n_per)
    return l2_normalise(centres[labels] + rng.normal(size=(len(labels), dim))), labels


@pytest.mark.parametrize("n", [0, 1, 2, 5, 14])
def test_tiny_inputs_never_crash_and_say_what_ran(n: int) -> None:
    vectors = l2_normalise(np.random.default_rng(n).normal(size=(n, 8))) if n else np.zeros((0, 8), np.float32)
    projection = project_2d(vectors)
    assert projection.xy.shape == (n, 2) and projection.xy.dtype == np.float32
    assert np.isfinite(projection.xy).all()
    if n >= 2:
        assert projection.method == "pca" and "UMAP needs at least 15" in projection.note


def test_umap_is_deterministic_with_a_seed_and_keeps_planted_clusters_apart() -> None:
    vectors, labels = _clusters()
    first = project_2d(vectors, seed=7)
    second = project_2d(vectors, seed=7)
    assert first.method == "umap" and first.xy.shape == (90, 2)
    np.testing.assert_array_equal(first.xy, second.xy)
    centroids = np.stack([first.xy[labels == c].mean(axis=0) for c in range(3)])
    spread = max(np.linalg.norm(first.xy[labels == c] - centroids[c], axis=1).mean() for c in range(3))
    gaps = [np.linalg.norm(centroids[a] - centroids[b]) for a in range(3) for b in range(a + 1, 3)]
    assert min(gaps) > 2 * spread


def test_15_points_use_umap_with_capped_neighbours() -> None:
    vectors = l2_normalise(np.random.default_rng(3).normal(size=(15, 8)))
    projection = project_2d(vectors, n_neighbors=50)
    assert projection.method == "umap" and "14 neighbours" in projection.note


def test_pca_matches_numpy_svd_up_to_sign() -> None:
    vectors = np.random.default_rng(4).normal(size=(50, 6)).astype(np.float32)
    xy = pca_2d(vectors)
    centred = vectors - vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    expected = centred @ vt[:2].T
    for column in range(2):
        assert np.allclose(np.abs(xy[:, column]), np.abs(expected[:, column]), atol=1e-4)


def test_nan_vectors_are_refused_with_the_row() -> None:
    vectors = l2_normalise(np.random.default_rng(5).normal(size=(20, 4)))
    vectors[3, 1] = np.nan
    with pytest.raises(InputError, match="Vector 4"):
        project_2d(vectors)


def test_subprocess_projection_equals_in_process_and_cancel_ends_the_child() -> None:
    import time

    from workbench.core.errors import Cancelled
    from workbench.core.projection import project_2d_in_subprocess

    vectors, _ = _clusters(n_per=10)
    here = project_2d(vectors, seed=3)
    there = project_2d_in_subprocess(vectors, seed=3)
    assert there.method == "umap"
    np.testing.assert_allclose(there.xy, here.xy, atol=1e-5)
    started = time.monotonic()
    with pytest.raises(Cancelled):
        project_2d_in_subprocess(vectors, seed=3, cancelled=lambda: time.monotonic() - started > 0.5)
    assert time.monotonic() - started < 10
