from __future__ import annotations

import numpy as np
import pytest

from workbench.core.embedders.base import l2_normalise
from workbench.core.errors import Cancelled
from workbench.core.knn import cosine_similarities, top_k_neighbours


def _brute_force(base: np.ndarray, probe: np.ndarray, k: int, exclude_self: bool) -> np.ndarray:
    sims = probe @ base.T
    if exclude_self:
        np.fill_diagonal(sims, -np.inf)
    return np.argsort(-sims, axis=1, kind="stable")[:, :k]


def test_equals_brute_force_on_random_vectors() -> None:
    vectors = l2_normalise(np.random.default_rng(0).normal(size=(300, 24)))
    indices, scores = top_k_neighbours(vectors, 7)
    np.testing.assert_array_equal(indices, _brute_force(vectors, vectors, 7, True))
    expected = np.take_along_axis(vectors @ vectors.T, indices, axis=1)
    np.testing.assert_allclose(scores, expected, rtol=1e-6)
    assert (np.diff(scores, axis=1) <= 0).all()
    assert not (indices == np.arange(300)[:, None]).any()


def test_queries_against_documents_and_small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    import workbench.core.knn as knn

    monkeypatch.setattr(knn, "BLOCK_CELLS", 50)  # forces many blocks
    rng = np.random.default_rng(1)
    docs, queries = l2_normalise(rng.normal(size=(40, 8))), l2_normalise(rng.normal(size=(9, 8)))
    indices, _ = top_k_neighbours(docs, 5, queries=queries)
    np.testing.assert_array_equal(indices, _brute_force(docs, queries, 5, False))


def test_k_larger_than_candidates_returns_every_candidate() -> None:
    vectors = l2_normalise(np.eye(3, 4))
    indices, scores = top_k_neighbours(vectors, 10)
    assert indices.shape == (3, 2) and scores.shape == (3, 2)
    single, _ = top_k_neighbours(vectors[:1], 5)
    assert single.shape == (1, 0)


def test_cancel_stops_between_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    import workbench.core.knn as knn

    monkeypatch.setattr(knn, "BLOCK_CELLS", 100)
    vectors = l2_normalise(np.random.default_rng(2).normal(size=(100, 4)))
    reports: list[int] = []
    with pytest.raises(Cancelled):
        top_k_neighbours(vectors, 3, progress=lambda d, t: reports.append(d), cancelled=lambda: len(reports) >= 2)
    assert 0 < reports[-1] < 100


def test_cosine_similarities_of_raw_rows_with_one_query() -> None:
    rng = np.random.default_rng(3)
    rows = rng.normal(size=(50, 8)).astype(np.float32) * rng.uniform(0.1, 10, size=(50, 1)).astype(np.float32)
    rows[7] = 0.0
    query = rng.normal(size=8).astype(np.float32) * 3
    scores = cosine_similarities(rows, query)
    expected = l2_normalise(rows) @ l2_normalise(query)[0]
    assert scores.dtype == np.float32 and scores.shape == (50,)
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-6)
    assert scores[7] == 0.0  # a zero row scores 0, not NaN
    assert not cosine_similarities(rows, np.zeros(8, np.float32)).any()
