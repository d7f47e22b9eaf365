"""Clusters recover planted groups, and class-based TF-IDF names them by their planted words."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from workbench.core.cluster_names import NAME_SEPARATOR, name_clusters
from workbench.core.clusters import cluster_vectors
from workbench.core.embedders.base import l2_normalise
from workbench.core.errors import InputError

WORDS = {0: "volcano", 1: "risotto", 2: "penalty"}
FILLERS = ["report", "says", "today", "people", "noticed", "again", "story", "week"]


def planted(n_per: int = 25, dim: int = 24, noise: float = 0.35, seed: int = 0):
    """Three groups around random unit centres (pairwise distance ≈ √2) with per-point noise of norm ≈ `noise`.

    Each text holds its group's word once and two filler words shared by every group, so only the planted word is
    distinctive.
    """
    rng = np.random.default_rng(seed)
    centres = l2_normalise(rng.normal(size=(3, dim)))
    labels = np.repeat(np.arange(3), n_per)
    vectors = l2_normalise(centres[labels] + noise * rng.normal(size=(len(labels), dim)) / np.sqrt(dim))
    texts = [f"The {WORDS[c]} {rng.choice(FILLERS)} {rng.choice(FILLERS)} item {i}" for i, c in enumerate(labels)]
    return vectors.astype(np.float32), labels, texts


# Why 0.9: with 3 groups of 25, ARI is 1.0 for a perfect recovery, 0.916 when 4 of the 75 points are called noise
# and nothing is misplaced, and about 0.57 when two groups merge. Within-group distances (≈ 0.5) are a third of the
# between-group ones (≈ 1.4), so a correct clusterer must recover the groups; HDBSCAN may still leave a few edge
# points as noise (up to 4 allowed), while any merge, split or real misassignment falls far below the bound.
ARI_BOUND = 0.9


@pytest.mark.parametrize("method", ["hdbscan", "kmeans"])
@pytest.mark.parametrize("dim", [24, 384])  # 384 > REDUCE_TO: HDBSCAN goes through the PCA reduction
def test_clusters_recover_planted_groups_and_are_named_by_their_distinctive_words(method: str, dim: int) -> None:
    vectors, labels, texts = planted(dim=dim)
    found = cluster_vectors(vectors, method, k=3, min_cluster_size=10)
    assert adjusted_rand_score(labels, found) > ARI_BOUND
    if method == "kmeans":
        assert adjusted_rand_score(labels, found) == 1.0  # k-means has no noise: nothing excuses a miss
    names = name_clusters(texts, found)
    assert len([c for c in set(found.tolist()) if c != -1]) == 3
    for cluster in set(found.tolist()) - {-1}:
        majority = np.bincount(labels[found == cluster]).argmax()
        words = names[cluster].split(NAME_SEPARATOR)
        assert words[0] == WORDS[majority]
        # stop words dropped, and so are the fillers and "item": every cluster uses them, so they name none
        assert "the" not in words and not set(" ".join(words).split()) & {*FILLERS, "item"}


def test_noise_is_named_noise_and_clusters_are_numbered_by_size() -> None:
    vectors, _, texts = planted(n_per=20)
    # Three points on the far side of the sphere from every group (farther from each group than the groups are
    # from each other), too few for a cluster of 8: HDBSCAN must call them noise. (A random direction is not
    # enough: one nearer to a group than the groups are apart is, by HDBSCAN's design, a weak member of it.)
    away = -vectors[:50].mean(axis=0)
    rng = np.random.default_rng(3)
    outliers = l2_normalise(away + 0.3 * np.linalg.norm(away) * rng.normal(size=(3, vectors.shape[1])) / 5)
    assert (outliers @ vectors[:50].T).max() < 0
    found = cluster_vectors(np.vstack([vectors[:50], outliers]), "hdbscan", min_cluster_size=8)
    assert (found[-3:] == -1).all()
    names = name_clusters([*texts[:50], "lonely", "stray", "alone"], found)
    assert names[-1] == "noise"
    sizes = [int((found == c).sum()) for c in range(found.max() + 1)]
    assert sizes == sorted(sizes, reverse=True) == [20, 20, 10]


def test_names_are_unicode_words_and_all_stop_words_fall_back() -> None:
    labels = np.array([0, 0, 1, 1])
    names = name_clusters(["Café crème", "café au lait", "the and of", "it is the"], labels, words=2)
    assert names[0].split(NAME_SEPARATOR)[0] == "café"
    assert names[1] == "cluster 1"
    assert name_clusters(["the", "and"], np.array([0, 1])) == {0: "cluster 0", 1: "cluster 1"}


def test_edge_cases_and_bad_parameters() -> None:
    assert cluster_vectors(np.zeros((0, 4)), "hdbscan").shape == (0,)
    assert cluster_vectors(np.ones((1, 4)), "hdbscan").tolist() == [0]
    assert cluster_vectors(l2_normalise(np.eye(3)), "kmeans", k=10).max() == 2  # k clipped to n
    with pytest.raises(InputError, match="Unknown clustering method"):
        cluster_vectors(np.eye(3), "dbscan")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="k must be at least 1"):
        cluster_vectors(np.eye(3), "kmeans", k=0)
    bad = np.eye(3)
    bad[1, 1] = np.nan
    with pytest.raises(InputError, match="Row 2"):
        cluster_vectors(bad, "kmeans", k=2)


def test_cancel_before_the_fit_stops() -> None:
    from workbench.core.errors import Cancelled

    vectors, _, _ = planted()
    with pytest.raises(Cancelled):
        cluster_vectors(vectors, "kmeans", k=3, cancelled=lambda: True)


def test_documents_are_clustered_alone_and_each_query_takes_its_nearest_documents_cluster() -> None:
    from workbench.core.clusters import cluster_documents

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(2, 16)) * 6
    documents = np.vstack([centres[g] + rng.normal(size=(10, 16)) for g in (0, 1)])
    queries = np.vstack([centres[1] + rng.normal(size=16), centres[0] + rng.normal(size=16)])
    vectors = np.vstack([documents, queries])
    kinds = np.array(["document"] * 20 + ["query"] * 2)
    labels = cluster_documents(vectors, kinds, "kmeans", k=2).labels
    assert len(set(labels[:20].tolist())) == 2
    assert labels[20] == labels[10] and labels[21] == labels[0]  # each query lands in its own group's cluster
    only_documents = cluster_documents(documents, kinds[:20], "kmeans", k=2).labels
    np.testing.assert_array_equal(only_documents, labels[:20])  # the queries did not move the documents' clusters


def planted_with_outliers(groups: int = 6, n_per: int = 40, dim: int = 384, outliers: int = 8, seed: int = 0):
    """`groups` well-separated groups in `dim` dimensions (within-group cosine ≈ 0.8, between ≈ 0) and `outliers`
    items in random directions (cosine ≈ 0 to everything, and to each other): what the default must tell apart."""
    rng = np.random.default_rng(seed)
    centres = l2_normalise(rng.normal(size=(groups, dim)))
    labels = np.repeat(np.arange(groups), n_per)
    members = l2_normalise(centres[labels] + 0.5 * rng.normal(size=(len(labels), dim)) / np.sqrt(dim))
    strays = l2_normalise(rng.normal(size=(outliers, dim)))
    vectors = np.vstack([members, strays]).astype(np.float32)
    return vectors, np.concatenate([labels, np.full(outliers, -1)])


def test_the_default_finds_planted_groups_in_hundreds_of_dimensions_and_calls_the_outliers_noise() -> None:
    from workbench.core.clusters import find_clusters

    vectors, truth = planted_with_outliers()
    found = find_clusters(vectors)
    assert "UMAP 5-d" in found.note and "HDBSCAN" in found.note
    grouped = truth != -1
    assert adjusted_rand_score(truth[grouped], found.labels[grouped]) >= ARI_BOUND
    assert (found.labels[~grouped] == -1).all()  # every outlier is noise ...
    assert (found.labels[grouped] == -1).mean() < 0.05  # ... and hardly any group member is
    assert not found.assigned.any() and found.sublabels is None


def test_noise_can_go_to_the_nearest_cluster_and_is_marked_as_assigned() -> None:
    from workbench.core.clusters import find_clusters

    vectors, truth = planted_with_outliers(outliers=4)
    plain = find_clusters(vectors)
    found = find_clusters(vectors, assign_noise=True)
    np.testing.assert_array_equal(found.assigned, plain.labels == -1)
    assert found.assigned[truth == -1].all() and (found.labels >= 0).all()
    np.testing.assert_array_equal(found.labels[~found.assigned], plain.labels[~found.assigned])
    centres = l2_normalise(np.stack([vectors[plain.labels == c].mean(axis=0) for c in range(plain.labels.max() + 1)]))
    expected = (vectors[found.assigned] @ centres.T).argmax(axis=1)  # the nearest centre by cosine, by hand
    np.testing.assert_array_equal(found.labels[found.assigned], expected)
    assert "given to their nearest cluster" in found.note


@pytest.mark.parametrize("method", ["hdbscan", "kmeans"])
def test_two_levels_split_each_cluster_into_sub_clusters_that_nest_inside_it(method: str) -> None:
    from workbench.core.clusters import find_clusters

    rng = np.random.default_rng(1)
    dim = 256
    coarse = l2_normalise(rng.normal(size=(3, dim)))
    # two halves per group: their centres at cosine ≈ 0.8, halves of other groups at ≈ 0
    fine = l2_normalise(coarse.repeat(2, axis=0) + 0.5 * rng.normal(size=(6, dim)) / np.sqrt(dim))
    truth = np.repeat(np.arange(6), 40)
    vectors = l2_normalise(fine[truth] + 0.35 * rng.normal(size=(len(truth), dim)) / np.sqrt(dim))
    one = find_clusters(vectors, method, count=3, smallest=50)
    found = find_clusters(vectors, method, count=3, smallest=50, levels=2)
    assert (one.levels, found.levels) == (1, 2) and one.sublabels is None
    np.testing.assert_array_equal(found.labels, one.labels)  # the second level changes no cluster
    assert adjusted_rand_score(truth // 2, found.labels) >= ARI_BOUND  # the groups are the clusters
    assert ((found.sublabels == -1) == (found.labels == -1)).all()
    assert sorted(found.parent_of) == list(range(found.sublabels.max() + 1))
    for sub, parent in found.parent_of.items():  # each sub-cluster lies inside the cluster it names
        assert set(found.labels[found.sublabels == sub].tolist()) == {parent}
    for cluster in set(found.labels.tolist()) - {-1}:
        assert len({s for s, p in found.parent_of.items() if p == cluster}) >= 2  # every group has two halves
    if method == "kmeans":  # exact on these halves: the best silhouette is at two parts
        assert adjusted_rand_score(truth, found.sublabels) == 1.0


def test_the_sample_corpus_gives_its_five_topics(local_embedder) -> None:
    """The 40-document sample (File ▸ Load sample corpus): 5 topics of 8 documents; the default finds them all
    (ARI 1.0 against the topic column at seed 0, and at each of seeds 0-9 when this was written)."""
    import json

    from tests.conftest import REPO
    from workbench.core.clusters import find_clusters

    sample = REPO / "workbench" / "resources" / "sample_documents.jsonl"
    rows = [json.loads(line) for line in sample.read_text(encoding="utf-8").splitlines()]
    vectors = np.asarray(local_embedder.encode_documents([r["text"] for r in rows]))
    found = find_clusters(vectors)
    assert adjusted_rand_score([r["topic"] for r in rows], found.labels) >= 0.95
    assert found.labels.max() + 1 == 5


def test_words_a_person_understands_are_checked() -> None:
    from workbench.core.clusters import automatic_neighbours, automatic_smallest, find_clusters

    assert [automatic_smallest(n) for n in (10, 40, 600, 20_000)] == [4, 4, 12, 71]
    assert [automatic_neighbours(s) for s in (2, 4, 12)] == [4, 8, 15]
    with pytest.raises(InputError, match="smallest cluster must hold at least 2"):
        find_clusters(np.eye(4), smallest=1)
    with pytest.raises(InputError, match="levels must be 1 or 2"):
        find_clusters(np.eye(4), levels=3)
    few = find_clusters(l2_normalise(np.eye(6) + 0.01), levels=2)  # too few for UMAP: the vectors themselves
    assert "HDBSCAN on the vectors" in few.note and few.sublabels is not None
