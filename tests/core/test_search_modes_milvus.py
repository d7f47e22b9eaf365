"""Dense, BM25 and hybrid search and the full-text re-push against a real Milvus Lite database in a temp dir."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.fakes.beir_folder import write_beir_folder
from workbench.core.beir import read_beir_folder
from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.errors import Cancelled, InputError
from workbench.core.evaluation import evaluate
from workbench.core.items import Item
from workbench.core.milvus import MilvusTarget, open_milvus
from workbench.core.milvus.operations import rank_queries, rebuild_fulltext, search_side_by_side
from workbench.core.milvus.rebuild import COPY_SUFFIX, rebuild_with_fulltext
from workbench.core.search_lab import embed_labelled, run_modes
from workbench.core.search_modes import SearchMode, parse_modes

SPEC = EmbeddingSpec(provider="local", model="test-model", dim=8)
TEXTS = [
    "the cat sat on the warm mat",
    "dogs bark at the postman every morning",
    "a cat and a dog share one basket",
    "quantum physics lecture about entanglement",
    "stock markets fell after the rate decision",
    "the zebra grazes on the savanna",
]


def corpus(seed: int = 0) -> tuple[list[Item], np.ndarray]:
    rng = np.random.default_rng(seed)
    items = [Item(f"t{i}", text, "document", {"n": i}) for i, text in enumerate(TEXTS)]
    return items, l2_normalise(rng.normal(size=(len(items), SPEC.dim)))


@pytest.fixture
def target(tmp_path: Path) -> MilvusTarget:
    return MilvusTarget(str(tmp_path / "lab.db"))


def test_bm25_finds_the_only_document_with_a_word_and_scores_are_positive(target: MilvusTarget) -> None:
    items, vectors = corpus()
    with open_milvus(target) as db:
        report = db.push("docs", items, vectors, SPEC)
        assert report.warnings == [] and db.describe("docs").fulltext
        zebra, cats = db.search_text("docs", ["zebra", "cat"], k=10)
        filtered = db.search_text("docs", ["cat"], k=10, expression="metadata['n'] > 0")[0]
    assert [h.id for h in zebra] == ["t5"] and zebra[0].text == TEXTS[5] and zebra[0].metadata == {"n": 5}
    assert {h.id for h in cats} == {"t0", "t2"}
    assert all(h.score > 0 for h in cats) and cats[0].score >= cats[1].score
    assert [h.id for h in filtered] == ["t2"]


def test_hybrid_rrf_fuses_the_dense_and_bm25_ranks_as_the_formula_says(target: MilvusTarget) -> None:
    items, vectors = corpus()
    query, text = vectors[3] + 0.1 * vectors[0], "cat"
    with open_milvus(target) as db:
        db.push("docs", items, vectors, SPEC)
        dense = db.search("docs", query, k=6)[0]
        bm25 = db.search_text("docs", [text], k=6)[0]
        fused = db.search_hybrid("docs", query, [text], k=6, ranker_kind="rrf", rrf_k=60)[0]
        weighted = db.search_hybrid("docs", query, [text], k=6, ranker_kind="weighted", dense_weight=1.0)[0]
    expected: dict[str, float] = {}
    for hits in (dense, bm25):
        for rank, hit in enumerate(hits, 1):
            expected[hit.id] = expected.get(hit.id, 0.0) + 1 / (60 + rank)
    assert {h.id: h.score for h in fused} == pytest.approx(expected, abs=1e-6)
    assert [h.id for h in weighted][:1] == [dense[0].id]  # all weight on dense: dense's best stays first


def test_a_collection_without_full_text_says_so_and_the_re_push_adds_it(target: MilvusTarget) -> None:
    items, vectors = corpus()
    with open_milvus(target) as db:
        db.push("old", items, vectors, SPEC, fulltext=False)
        assert db.describe("old").fulltext is False
        again = db.push("old", items, vectors, SPEC)
        assert any("without full text" in w and "re-push" in w for w in again.warnings)
        with pytest.raises(InputError, match=r"without full text.*re-push"):
            db.search_text("old", ["cat"])
        before = db.search("old", vectors[0], k=3)[0]
        with pytest.raises(Cancelled):
            rebuild_with_fulltext(db, "old", cancelled=lambda: True)
        assert db.describe("old").fulltext is False and db.count("old") == 6  # cancelled: untouched, no copy
        assert db.describe("old" + COPY_SUFFIX) is None
    collections = rebuild_fulltext(target, "old")
    assert [(c.name, c.rows, c.fulltext) for c in collections] == [("old", 6, True)]
    with open_milvus(target) as db:
        assert db.search("old", vectors[0], k=3)[0] == before  # same rows, vectors, texts and metadata
        assert [h.id for h in db.search_text("old", ["zebra"])[0]] == ["t5"]


def test_side_by_side_gives_each_mode_its_hits_with_text(target: MilvusTarget) -> None:
    items, vectors = corpus()
    with open_milvus(target) as db:
        db.push("docs", items, vectors, SPEC)
    modes = [SearchMode("exact"), SearchMode("dense"), SearchMode("bm25"), SearchMode("hybrid", "weighted")]
    shown = search_side_by_side(target, "docs", modes, vectors[5], "zebra savanna", k=3)
    assert list(shown) == ["exact dense (numpy)", "dense", "bm25", "hybrid (weighted, dense 0.50 / BM25 0.50)"]
    assert all(hits[0].id == "t5" and hits[0].text == TEXTS[5] for hits in shown.values())
    with pytest.raises(InputError, match="needs the query's vector"):
        search_side_by_side(target, "docs", [SearchMode("dense")], None, "zebra")
    with pytest.raises(InputError, match="exact"):
        rank_queries(target, "docs", [SearchMode("exact")], vectors[:1], ["zebra"])


def test_a_beir_folder_runs_in_every_mode_and_milvus_dense_equals_exact(tmp_path: Path, local_embedder) -> None:
    folder = tmp_path / "beir"
    write_beir_folder(folder)
    labelled = read_beir_folder(folder)
    doc_vectors, query_vectors = embed_labelled(labelled, local_embedder)
    seen: list[tuple[int, int]] = []
    runs = run_modes(
        labelled,
        parse_modes("all"),
        doc_vectors,
        query_vectors,
        local_embedder.spec,
        MilvusTarget(str(tmp_path / "eval.db")),
        "sample",
        progress=lambda done, total: seen.append((done, total)),
    )
    assert [r.mode.kind for r in runs] == ["exact", "dense", "bm25", "hybrid"]
    assert all(len(r.hits) == 6 for r in runs)
    assert seen and seen[-1][0] == seen[-1][1]
    scores = {s.mode: s for s in evaluate(labelled, runs).modes}
    assert scores["dense"].aggregate == pytest.approx(scores["exact"].aggregate, abs=1e-9)  # FLAT-exact on 40 rows
    for mode in ("bm25", "hybrid"):
        assert scores[mode].queries == 6
        assert all(0.0 <= v <= 1.0 for v in scores[mode].aggregate.values())
    assert scores["bm25"].aggregate != scores["exact"].aggregate  # keyword and semantic search differ here
    with pytest.raises(Cancelled):
        run_modes(labelled, [SearchMode("bm25")], doc_vectors, query_vectors, local_embedder.spec,
                  MilvusTarget(str(tmp_path / "eval.db")), "sample", cancelled=lambda: True)  # fmt: skip


def test_rank_queries_filters_every_mode_to_documents(target: MilvusTarget) -> None:
    items, vectors = corpus()
    query_item = Item("query-1", "zebra zebra zebra", "query")
    with open_milvus(target) as db:
        db.push("mixed", [*items, query_item], np.vstack([vectors, vectors[5:6]]), SPEC)
    modes = [SearchMode("dense"), SearchMode("bm25"), SearchMode("hybrid")]
    unfiltered = rank_queries(target, "mixed", modes, vectors[5:6], ["zebra"], depth=7)
    assert all("query-1" in {h.id for h in hits[0][0]} for hits in unfiltered.values())
    ranked = rank_queries(target, "mixed", modes, vectors[5:6], ["zebra"], depth=7, expression='kind == "document"')
    for label, (hits, seconds) in ranked.items():
        assert "query-1" not in {h.id for h in hits[0]}, label
        assert hits[0][0].id == "t5" and seconds >= 0
