"""Two "models" built from known vectors give the k-NN overlap, rank correlation and label numbers computed by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.core.test_clusters import planted
from workbench.core.compare import compare, display_name, explanation, report_html, similarity_rank_correlation
from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.errors import Cancelled, InputError
from workbench.core.exchange import ExchangeTable
from workbench.core.items import Item


def table(vectors: np.ndarray, labels, texts: list[str], model: str = "a", kinds=None, ids=None) -> ExchangeTable:
    kinds = kinds or ["document"] * len(texts)
    ids = ids or [f"id{i}" for i in range(len(texts))]
    items = [
        Item(ids[i], t, kinds[i], {"label": f"L{c}"} if c is not None else {})
        for i, (t, c) in enumerate(zip(texts, labels, strict=True))
    ]
    return ExchangeTable(items, np.asarray(vectors, np.float32), EmbeddingSpec("test", model, vectors.shape[1]))


def on_circle(degrees: list[float]) -> np.ndarray:
    """Unit vectors in a plane at the given angles: cosine similarity falls as the angle between them grows."""
    radians = np.radians(degrees)
    return np.stack([np.cos(radians), np.sin(radians)], axis=1)


# Model A puts items 0..3 at 0°, 10°, 30°, 70°; model B at 0°, 20°, 30°, 70°.
# Nearest neighbour (k=1), by the smallest angle: A: 0→1, 1→0, 2→1, 3→2;  B: 0→1, 1→2, 2→1, 3→2.
# Agreement on items 0, 2, 3 → knn_overlap = 3/4.
# Angles of the pairs (01, 02, 03, 12, 13, 23): A 10, 30, 70, 20, 60, 40 → ranks 1, 3, 6, 2, 5, 4;
# B 20, 30, 70, 10, 50, 40 → ranks 2, 3, 6, 1, 5, 4. d = (-1, 0, 0, 1, 0, 0), Σd² = 2, no ties, so
# Spearman ρ = 1 - 6·Σd² / (n(n²-1)) with n = 6 pairs = 1 - 12/210 = 33/35 (cosine ranks are the same, reversed).
# Labels x, x, y, y with k=1: A is right for 0, 1, 3 (3/4); B for 0, 3 (2/4).
ANGLES_A, ANGLES_B = [0, 10, 30, 70], [0, 20, 30, 70]
CIRCLE_LABELS = ["x", "x", "y", "y"]


def circle_tables() -> tuple[ExchangeTable, ExchangeTable]:
    texts = [f"item {i}" for i in range(4)]
    a = table(on_circle(ANGLES_A), CIRCLE_LABELS, texts, "a")
    return a, table(on_circle(ANGLES_B), CIRCLE_LABELS, texts, "b")


def test_overlap_correlation_and_label_numbers_match_the_hand_computation() -> None:
    a, b = circle_tables()
    numbers = compare(a, b, k=1, label_column="label").numbers
    assert numbers["knn_overlap"] == pytest.approx(3 / 4)
    assert numbers["similarity_rank_correlation"] == pytest.approx(33 / 35)
    assert numbers["knn_label_accuracy_a"] == pytest.approx(3 / 4)
    assert numbers["knn_label_accuracy_b"] == pytest.approx(2 / 4)
    assert numbers["pairs"] == "all 6 pairs"
    # Silhouette (cosine distance 1 - cos) for A by hand: a(i) = distance to the other item of its label,
    # b(i) = mean distance to the other label's two items, s(i) = (b - a) / max(a, b).
    d = lambda x, y: 1 - np.cos(np.radians(abs(x - y)))  # noqa: E731
    angles, groups = ANGLES_A, [[0, 1], [2, 3]]
    s = []
    for g, other in ((0, 1), (1, 0)):
        for i in groups[g]:
            own = d(angles[i], angles[next(j for j in groups[g] if j != i)])
            far = np.mean([d(angles[i], angles[j]) for j in groups[other]])
            s.append((far - own) / max(own, far))
    assert numbers["silhouette_a"] == pytest.approx(np.mean(s), abs=1e-5)


def test_identical_models_agree_and_a_monotone_change_keeps_the_rank_correlation() -> None:
    a, _ = circle_tables()
    numbers = compare(a, table(a.vectors.copy(), CIRCLE_LABELS, ["t"] * 4, "b"), k=2).numbers
    assert numbers["knn_overlap"] == 1.0 and numbers["similarity_rank_correlation"] == pytest.approx(1.0)
    # Doubling every angle changes every similarity but keeps their order (all pairs stay under 180°).
    doubled = table(on_circle([2 * x for x in ANGLES_A]), CIRCLE_LABELS, ["t"] * 4, "b")
    numbers = compare(a, doubled, k=2).numbers
    assert numbers["similarity_rank_correlation"] == pytest.approx(1.0) and numbers["knn_overlap"] == 1.0


def test_unrelated_models_overlap_at_chance() -> None:
    vectors, _, _ = planted(n_per=30)
    other = l2_normalise(np.random.default_rng(5).normal(size=vectors.shape))
    texts = [f"item {i}" for i in range(len(vectors))]
    unlabelled = [None] * len(vectors)
    numbers = compare(table(vectors, unlabelled, texts, "a"), table(other, unlabelled, texts, "b"), k=5).numbers
    # With unrelated neighbours, each of the k picks lands in the other's k of n-1 by chance: k/(n-1) = 5/89.
    assert numbers["knn_overlap"] == pytest.approx(5 / 89, abs=0.05)
    rho, _ = similarity_rank_correlation(vectors, other)
    assert abs(rho) < 0.1


def test_sampled_pairs_say_so_are_seeded_and_estimate_the_full_value() -> None:
    vectors, _, _ = planted(n_per=40)  # 120 items, 7140 pairs
    blurred = l2_normalise(vectors + 0.3 * np.random.default_rng(2).normal(size=vectors.shape))
    full, note = similarity_rank_correlation(vectors, blurred)
    sampled, sampled_note = similarity_rank_correlation(vectors, blurred, seed=7, max_pairs=3000)
    assert note == "all 7140 pairs"
    assert sampled_note == "all 2926 pairs among a random 77 of 120 items (seed 7)"  # 77·76/2 ≤ 3000 < 78·77/2
    assert sampled == similarity_rank_correlation(vectors, blurred, seed=7, max_pairs=3000)[0]
    assert sampled != full and sampled == pytest.approx(full, abs=0.03)


def test_labels_tell_the_better_model_and_blank_labels_are_left_out() -> None:
    vectors, labels, texts = planted()
    blurred = l2_normalise(vectors + 0.8 * np.random.default_rng(1).normal(size=vectors.shape))
    with_blanks = [None if i % 10 == 0 else c for i, c in enumerate(labels)]
    a, b = table(vectors, with_blanks, texts), table(blurred, labels, texts, "b")
    numbers = compare(a, b, k=5, label_column="label").numbers
    assert numbers["labelled_items"] == 75 - 8
    assert numbers["knn_label_accuracy_a"] == 1.0 > numbers["knn_label_accuracy_b"]
    assert numbers["silhouette_a"] > numbers["silhouette_b"]
    with pytest.raises(InputError, match="No column 'topic' in either file; the metadata columns are: label"):
        compare(a, b, label_column="topic")


def test_ids_are_joined_and_the_ones_only_one_side_has_are_counted() -> None:
    a, b = circle_tables()
    extra_a = table(np.vstack([a.vectors, on_circle([200])]), [*CIRCLE_LABELS, "z"], ["t"] * 5, ids=[
        "id0", "id1", "id2", "id3", "only-a"])  # fmt: skip
    reordered = table(b.vectors[::-1], CIRCLE_LABELS[::-1], ["t"] * 4, "b", ids=["id3", "id2", "id1", "id0"])
    result = compare(extra_a, reordered, k=1)
    assert (result.only_in_a, result.only_in_b, result.numbers["items"]) == (1, 0, 4)
    assert result.numbers["knn_overlap"] == pytest.approx(3 / 4)  # the same as in the hand computation
    foreign = table(a.vectors, CIRCLE_LABELS, ["t"] * 4, ids=["x0", "x1", "x2", "x3"])
    with pytest.raises(InputError, match="share 0 item ids"):
        compare(a, foreign)


def test_queries_get_their_top_documents_side_by_side() -> None:
    # Documents at 0°, 10°, 30°, 70° under A and 0°, 20°, 30°, 70° under B; the query at 24° under A, 60° under B.
    # A: angles to the documents 24, 14, 6, 46 → top-2 = d2, d1.  B: 60, 40, 30, 10 → top-2 = d3, d2. Overlap 1/2.
    kinds = ["document"] * 4 + ["query"]
    texts = ["d0", "d1", "d2", "d3", "q"]
    a = table(on_circle([*ANGLES_A, 24]), [None] * 5, texts, kinds=kinds)
    b = table(on_circle([*ANGLES_B, 60]), [None] * 5, texts, "b", kinds=kinds)
    result = compare(a, b, k=2)
    (query,) = result.query_tops
    assert (query["id"], query["top_a"], query["top_b"]) == ("id4", ["id2", "id1"], ["id3", "id2"])
    assert query["overlap"] == 0.5
    assert query["scores_a"] == pytest.approx(np.cos(np.radians([6, 14])), abs=1e-6)
    assert result.numbers["query_top_k_overlap"] == 0.5
    page = report_html(result, {"id1": "the first document"}, [("A map", b"\x89PNG fake")])
    assert "the first document" in page and "data:image/png;base64," in page and "http" not in page
    json.dumps(result.as_json(), allow_nan=False)  # JSON-ready: no numpy types, no NaN


def test_progress_reaches_the_end_and_cancel_stops() -> None:
    a, b = circle_tables()
    seen: list[tuple[int, int]] = []
    compare(a, b, k=1, label_column="label", progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] and all(d <= t for d, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    with pytest.raises(Cancelled):
        compare(a, b, cancelled=lambda: True)


def test_constant_similarities_give_no_correlation_instead_of_nan() -> None:
    same_point = table(np.tile([[1.0, 0.0]], (4, 1)), [None] * 4, ["t"] * 4)
    a, _ = circle_tables()
    assert compare(a, same_point, k=1).numbers["similarity_rank_correlation"] is None


def test_every_number_has_a_name_a_person_reads_and_the_json_keys_stay() -> None:
    a, b = circle_tables()
    kinds = ["query", "document", "document", "document"]
    a = table(a.vectors, CIRCLE_LABELS, ["t"] * 4, "a", kinds=kinds)
    b = table(b.vectors, CIRCLE_LABELS, ["t"] * 4, "b", kinds=kinds)
    result = compare(a, b, k=1, label_column="label")
    assert list(result.as_json()) == [  # the CLI's --json contract: these keys, in this order
        "items", "k", "model_a", "model_b", "knn_overlap", "similarity_rank_correlation", "pairs", "labelled_items",
        "knn_label_accuracy_a", "knn_label_accuracy_b", "silhouette_a", "silhouette_b", "query_top_k_overlap",
        "only_in_a", "only_in_b", "queries",
    ]  # fmt: skip
    assert display_name("knn_overlap") == "neighbours shared by A and B"
    assert display_name("labelled_items") == "labelled items"
    assert display_name("silhouette_b") == "label separation (silhouette) under B"
    for key in [*result.numbers, "only_in_a", "only_in_b", "silhouette_note"]:
        assert "_" not in display_name(key) and display_name(key) != key, key
        assert key.startswith("model_") or len(explanation(key)) > 20, key  # a one-line meaning
        assert len(explanation(key)) <= 100, key
    page = report_html(result, {})
    assert "neighbours shared by A and B" in page and "<code>knn_overlap</code>" in page
