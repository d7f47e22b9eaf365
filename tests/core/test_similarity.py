from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from workbench.core.embedders.base import l2_normalise
from workbench.core.errors import Cancelled, InputError
from workbench.core.similarity import (
    Band,
    bands,
    block_means,
    contiguous_groups,
    cosine_matrix,
    fits_full_matrix,
    order_by_clustering,
    order_by_values,
)


def _planted(n_per: int = 20, groups: int = 4, dim: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(groups, dim)) * 3
    labels = np.repeat(np.arange(groups), n_per)
    order = rng.permutation(len(labels))  # shuffled, so input order does not already group them
    return l2_normalise(centres[labels[order]] + rng.normal(size=(len(labels), dim))), labels[order]


def test_values_equal_brute_force_cosine() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(30, 16)), rng.normal(size=(7, 16))
    expected = (a / np.linalg.norm(a, axis=1, keepdims=True)) @ (b / np.linalg.norm(b, axis=1, keepdims=True)).T
    np.testing.assert_allclose(cosine_matrix(l2_normalise(a), l2_normalise(b)), expected, atol=1e-6)


def test_documents_by_documents_is_symmetric_with_ones_on_the_diagonal() -> None:
    vectors, _ = _planted()
    matrix = cosine_matrix(vectors)
    np.testing.assert_allclose(matrix, matrix.T, atol=1e-6)
    assert (np.diag(matrix) == 1.0).all()


def test_cancel_and_progress_in_row_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    import workbench.core.similarity as similarity

    monkeypatch.setattr(similarity, "ROW_BLOCK_CELLS", 80)
    vectors, _ = _planted()
    seen: list[int] = []
    with pytest.raises(Cancelled):
        cosine_matrix(vectors, progress=lambda d, t: seen.append(d), cancelled=lambda: len(seen) >= 3)
    assert 0 < seen[-1] < len(vectors)


def test_orderings_are_permutations_and_clustering_groups_planted_clusters() -> None:
    vectors, labels = _planted()
    for order in (order_by_clustering(vectors), order_by_values(labels), order_by_values(["q", "d", "q"])):
        assert sorted(order.tolist()) == list(range(len(order)))
    order = order_by_clustering(vectors)
    runs = np.count_nonzero(np.diff(labels[order]) != 0) + 1
    assert runs == 4  # each planted cluster is one contiguous run
    assert order_by_values(["q", "d", "q", "d"]).tolist() == [1, 3, 0, 2]  # equal sizes: alphabetically


def test_groups_come_largest_first_stably_with_missing_values_last_and_bands_name_each_run() -> None:
    values = ["b", "—", "a", "c", "b", "—", "—", "c", "b", "—"]
    order = order_by_values(values, last={"—"})
    ordered = [values[i] for i in order]
    assert ordered == ["b", "b", "b", "c", "c", "a", "—", "—", "—", "—"]  # by size; "—" last though biggest
    assert [i for i in order if values[i] == "b"] == [0, 4, 8]  # stable inside a group
    found = bands(ordered, {"—": "no topic"})
    assert found == [Band(0, 3, "b", 3), Band(3, 5, "c", 2), Band(5, 6, "a", 1), Band(6, 10, "no topic", 4)]
    assert [band.end for band in found[:-1]] == [band.start for band in found[1:]]
    assert bands([]) == [] and order_by_values([]).tolist() == []


def test_block_means_equal_the_means_of_the_full_matrix() -> None:
    vectors, labels = _planted(n_per=15)
    full = cosine_matrix(vectors)
    view = block_means(vectors, labels)
    for g in range(4):
        for h in range(4):
            block = full[np.ix_(labels == g, labels == h)]
            if g == h:
                n = block.shape[0]
                expected = (block.sum() - n) / (n * n - n)
            else:
                expected = block.mean()
            assert abs(view.means[g, h] - expected) < 1e-5
    assert view.means[0, 0] > view.means[0, 1]


def test_a_30000_item_corpus_never_allocates_the_full_matrix() -> None:
    n, dim = 30_000, 64
    vectors = l2_normalise(np.random.default_rng(2).normal(size=(n, dim)))
    assert not fits_full_matrix(n, n)
    with pytest.raises(InputError, match="too big"):
        cosine_matrix(vectors)
    tracemalloc.start()
    view = block_means(vectors, contiguous_groups(n, 50))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    full_bytes = n * n * 4  # 3.6 GB
    assert view.means.shape == (50, 50)
    assert peak < full_bytes / 50, f"peak {peak / 1e6:.0f} MB"
