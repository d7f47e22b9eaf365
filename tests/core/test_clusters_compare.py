from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from workbench.core.clusters import cluster_vectors, name_clusters
from workbench.core.compare import compare, knn_overlap
from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.errors import InputError
from workbench.core.exchange import ExchangeTable
from workbench.core.items import Item

WORDS = {0: "volcano", 1: "risotto", 2: "penalty"}


def planted(n_per: int = 25, dim: int = 24, noise: float = 0.35, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = l2_normalise(rng.normal(size=(3, dim)))
    labels = np.repeat(np.arange(3), n_per)
    vectors = l2_normalise(centres[labels] + noise * rng.normal(size=(len(labels), dim)) / np.sqrt(dim))
    fillers = ["the", "report", "says", "today", "people", "noticed", "again"]
    texts = [f"{WORDS[c]} {rng.choice(fillers)} {rng.choice(fillers)} item {i}" for i, c in enumerate(labels)]
    return vectors, labels, texts


def table(vectors: np.ndarray, labels: np.ndarray, texts: list[str], model: str = "a") -> ExchangeTable:
    items = [
        Item(f"id{i}", t, "document", {"label": f"L{c}"}) for i, (t, c) in enumerate(zip(texts, labels, strict=True))
    ]
    return ExchangeTable(items, vectors.astype(np.float32), EmbeddingSpec("test", model, vectors.shape[1]))


@pytest.mark.parametrize("method", ["hdbscan", "kmeans"])
def test_clusters_recover_planted_groups_and_are_named_by_their_distinctive_words(method: str) -> None:
    vectors, labels, texts = planted()
    found = cluster_vectors(vectors, method, k=3, min_cluster_size=10)
    # Three well-separated groups (noise 0.35 against unit-distance centres): anything short of an almost perfect
    # recovery would be a bug, but HDBSCAN may call a few edge points noise, so the bound is 0.9, not 1.0.
    assert adjusted_rand_score(labels, found) > 0.9
    names = name_clusters(texts, found)
    for cluster in set(found.tolist()) - {-1}:
        majority = np.bincount(labels[found == cluster]).argmax()
        assert names[cluster].split(" · ")[0] == WORDS[majority]


def test_identical_models_agree_completely_and_known_permutations_give_known_overlap() -> None:
    vectors, labels, texts = planted(n_per=10)
    a = table(vectors, labels, texts)
    same = compare(a, table(vectors.copy(), labels, texts, "b"), k=5)
    assert same.numbers["knn_overlap"] == pytest.approx(1.0)
    assert same.numbers["similarity_rank_correlation"] == pytest.approx(1.0)
    # Model B: each vector replaced by an orthogonal random direction -> neighbours unrelated to A's.
    rng = np.random.default_rng(5)
    other = l2_normalise(rng.normal(size=vectors.shape))
    overlap = knn_overlap(vectors, other, 5)
    expected_chance = 5 / (len(vectors) - 1)
    assert overlap < 3 * expected_chance + 0.1


def test_labels_give_accuracy_and_silhouette_and_the_better_model_wins() -> None:
    vectors, labels, texts = planted()
    rng = np.random.default_rng(1)
    blurred = l2_normalise(vectors + 0.8 * rng.normal(size=vectors.shape))
    result = compare(table(vectors, labels, texts), table(blurred, labels, texts, "b"), k=5, label_column="label")
    numbers = result.numbers
    assert numbers["knn_label_accuracy_a"] == pytest.approx(1.0)
    assert numbers["knn_label_accuracy_a"] > numbers["knn_label_accuracy_b"]
    assert numbers["silhouette_a"] > numbers["silhouette_b"]
    with pytest.raises(InputError, match="No column 'topic'"):
        compare(table(vectors, labels, texts), table(blurred, labels, texts), label_column="topic")


def test_compare_needs_shared_ids() -> None:
    vectors, labels, texts = planted(n_per=2)
    a = table(vectors, labels, texts)
    b = ExchangeTable([Item(f"other{i}", t, "document", {}) for i, t in enumerate(texts)], vectors, a.spec)
    with pytest.raises(InputError, match="share 0 item ids"):
        compare(a, b)
