"""The search lab's evaluation: metrics worked out by hand on a planted corpus, ir-measures' own numbers on a
BEIR-format folder, and relevance labels read, checked and stored."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from tests.fakes.beir_folder import write_beir_folder
from workbench.core.beir import labelled_set, read_beir_folder, read_labelled_files
from workbench.core.errors import Cancelled, InputError
from workbench.core.evaluation import evaluate, evaluate_embedding, judge, score_run
from workbench.core.items import Item
from workbench.core.milvus.results import Hit
from workbench.core.relevance import RelevanceLabels, read_qrels
from workbench.core.search_lab import embed_labelled, exact_run
from workbench.core.search_modes import ModeRun, SearchMode, exact_rankings, parse_modes
from workbench.core.session import Workspace, load_workspace, save_workspace


# -- a planted corpus whose metrics are worked out by hand ---------------------------------------------------------
def planted() -> tuple[list[Item], np.ndarray, list[Item], np.ndarray, RelevanceLabels]:
    """Five documents at cosines 1.0, 0.8, 0.6, 0.4, 0.2 from q1 = e1 (so q1 ranks d1…d5 and q2 = e2 ranks d5…d1);
    q3's only label is a 0, so it has no relevant document."""
    cosines = [1.0, 0.8, 0.6, 0.4, 0.2]
    documents = [Item(f"d{i + 1}", f"document {i + 1}", "document") for i in range(5)]
    doc_vectors = np.array([[c, math.sqrt(1 - c * c), 0.0] for c in cosines], dtype=np.float32)
    queries = [Item(f"q{i}", f"query {i}", "query") for i in (1, 2, 3)]
    query_vectors = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    labels = RelevanceLabels({"q1": {"d2": 2, "d4": 1, "d5": 0}, "q2": {"d1": 1}, "q3": {"d3": 0}})
    return documents, doc_vectors, queries, query_vectors, labels


def test_planted_corpus_metrics_match_the_definitions_worked_by_hand() -> None:
    documents, doc_vectors, queries, query_vectors, labels = planted()
    labelled = labelled_set(documents, queries, labels)
    assert [q.id for q in labelled.evaluated_queries] == ["q1", "q2"]
    assert any("q3" in note and "evaluated over the 2 labelled" in note for note in labelled.notes)

    run = exact_run(labelled, doc_vectors, query_vectors[:2], depth=100)
    assert [h.id for h in run.hits[0]] == ["d1", "d2", "d3", "d4", "d5"]
    assert [h.id for h in run.hits[1]] == ["d5", "d4", "d3", "d2", "d1"]

    # q1: relevant d2 (grade 2) at rank 2 and d4 (grade 1) at rank 4; ideal order d2, d4.
    # q2: relevant d1 (grade 1) at rank 5.  DCG = sum(grade / log2(rank + 1)).
    ndcg_q1 = (2 / math.log2(3) + 1 / math.log2(5)) / (2 / math.log2(2) + 1 / math.log2(3))
    ndcg_q2 = (1 / math.log2(6)) / 1.0
    expected10 = {
        "ndcg@10": (ndcg_q1 + ndcg_q2) / 2,
        "recall@10": (1.0 + 1.0) / 2,
        "recall@100": 1.0,
        "mrr@10": (1 / 2 + 1 / 5) / 2,
    }
    scores = evaluate(labelled, [run], k=10).modes[0]
    assert scores.mode == "exact" and scores.queries == 2
    assert scores.aggregate == pytest.approx(expected10, abs=1e-12)

    # k = 3: q1 keeps d2 only (d4 is rank 4); q2 finds nothing relevant in its top 3.
    ndcg3_q1 = (2 / math.log2(3)) / (2 / math.log2(2) + 1 / math.log2(3))
    expected3 = {"ndcg@3": ndcg3_q1 / 2, "recall@3": (0.5 + 0) / 2, "recall@100": 1.0, "mrr@3": (1 / 2 + 0) / 2}
    scores3 = evaluate(labelled, [run], k=3).modes[0]
    assert scores3.aggregate == pytest.approx(expected3, abs=1e-12)
    assert scores3.as_json() == {"mode": "exact", **{k: round(v, 4) for k, v in expected3.items()}, "queries": 2}
    # Worst first: q2 (nDCG@3 0) before q1.
    assert [q.query_id for q in scores3.per_query] == ["q2", "q1"]
    assert scores3.per_query[0].values["ndcg@3"] == 0.0 and scores3.per_query[1].relevant == 2


def test_a_query_without_hits_scores_zero_and_counts_in_the_mean() -> None:
    labels = RelevanceLabels({"q1": {"d1": 1}, "q2": {"d2": 1}})
    scores = score_run("bm25", {"q1": [Hit("d1", 3.0)], "q2": []}, labels)
    assert scores.aggregate == {"ndcg@10": 0.5, "recall@10": 0.5, "recall@100": 0.5, "mrr@10": 0.5}
    assert scores.per_query[0].query_id == "q2" and scores.per_query[0].found == 0


def test_ties_keep_the_order_shown_not_trec_evals_docno_order() -> None:
    # Both hits score the same (as RRF often does); the app shows d1 first, so its MRR is 1, not 1/2.
    labels = RelevanceLabels({"q1": {"d1": 1}})
    scores = score_run("hybrid", {"q1": [Hit("d1", 0.5), Hit("d9", 0.5)]}, labels)
    assert scores.aggregate["mrr@10"] == 1.0


def test_judge_splits_hits_into_found_relevant_found_not_relevant_and_missed() -> None:
    assert judge(["d1", "d2", "d3"], {"d2": 2, "d3": 0, "d7": 1}) == (["d2"], ["d1", "d3"], ["d7"])


def test_modes_parse_and_say_their_settings() -> None:
    assert [m.kind for m in parse_modes("all")] == ["exact", "dense", "bm25", "hybrid"]
    assert [m.kind for m in parse_modes("bm25, dense,bm25")] == ["bm25", "dense"]
    assert SearchMode("hybrid", "weighted", dense_weight=0.7).label == "hybrid (weighted, dense 0.70 / BM25 0.30)"
    assert SearchMode.from_dict(SearchMode("hybrid", "rrf", 20).to_dict()) == SearchMode("hybrid", "rrf", 20)
    with pytest.raises(InputError, match="sparse"):
        parse_modes("sparse")
    with pytest.raises(InputError, match="between 0 and 1"):
        SearchMode("hybrid", "weighted", dense_weight=1.5)


def test_exact_rankings_are_cancellable() -> None:
    documents, doc_vectors, _, query_vectors, _ = planted()
    with pytest.raises(Cancelled):
        exact_rankings(documents, doc_vectors, query_vectors, cancelled=lambda: True)


# -- a BEIR-format folder: the dense numbers are ir-measures' own ------------------------------------------------------
@pytest.fixture
def beir(tmp_path: Path) -> tuple[Path, dict[str, dict[str, int]]]:
    folder = tmp_path / "sample-beir"
    return folder, write_beir_folder(folder)


def test_beir_folder_dense_metrics_equal_ir_measures_on_the_same_run(beir, local_embedder) -> None:
    import ir_measures

    folder, _ = beir
    labelled = read_beir_folder(folder)
    assert len(labelled.documents) == 40 and [q.id for q in labelled.queries] == [f"q{i}" for i in range(6)]
    assert labelled.documents[0].text.startswith("Astronomy note 0\n") and labelled.documents[0].metadata == {
        "title": "Astronomy note 0",
        "topic": "astronomy",
    }
    assert any("1 of 7 queries has no labels in split 'test'" in note for note in labelled.notes)

    doc_vectors, query_vectors = embed_labelled(labelled, local_embedder)
    run = exact_run(labelled, doc_vectors, query_vectors, depth=100)
    ours = evaluate(labelled, [run]).modes[0]

    # ir-measures' own computation: the qrels read straight from the TSV, the run with its cosine scores.
    with (folder / "qrels" / "test.tsv").open() as handle:
        rows = list(csv.reader(handle, delimiter="\t"))[1:]
    qrels: dict[str, dict[str, int]] = {}
    for query, doc, grade in rows:
        qrels.setdefault(query, {})[doc] = int(grade)
    trec_run = {q: {h.id: h.score for h in hits} for q, hits in run.by_query().items()}
    theirs = ir_measures.calc_aggregate(
        [ir_measures.nDCG @ 10, ir_measures.R @ 10, ir_measures.R @ 100, ir_measures.RR @ 10], qrels, trec_run
    )
    named = {
        "ndcg@10": theirs[ir_measures.nDCG @ 10],
        "recall@10": theirs[ir_measures.R @ 10],
        "recall@100": theirs[ir_measures.R @ 100],
        "mrr@10": theirs[ir_measures.RR @ 10],
    }
    assert ours.aggregate == pytest.approx(named, abs=1e-9)
    assert 0 < ours.aggregate["ndcg@10"] < 1  # a real model on real text: neither perfect nor useless

    # The same numbers through evaluate_embedding (what Compare runs for each configuration).
    items = [*labelled.documents, *labelled.queries]
    vectors = np.vstack([doc_vectors, query_vectors])
    assert evaluate_embedding(items, vectors, labelled.labels).aggregate == pytest.approx(named, abs=1e-9)


def test_beir_folder_missing_a_file_or_split_is_a_clear_error(beir) -> None:
    folder, _ = beir
    with pytest.raises(InputError, match="no split 'dev'; the qrels folder has test, train"):
        read_beir_folder(folder, "dev")
    assert len(read_beir_folder(folder, "train").queries) == 1
    (folder / "queries.jsonl").unlink()
    with pytest.raises(InputError, match=r"not a BEIR folder: queries.jsonl is missing"):
        read_beir_folder(folder)


def test_labels_naming_absent_documents_say_how_many_with_examples(beir) -> None:
    folder, _ = beir
    qrels = folder / "qrels" / "test.tsv"
    qrels.write_text(qrels.read_text() + "q0\tnope1\t1\nq1\tnope2\t1\nq2\tnope3\t1\nq3\tnope4\t1\n")
    with pytest.raises(InputError) as error:
        read_beir_folder(folder)
    message = str(error.value)
    assert "4 document ids absent from the corpus ('nope1', 'nope2', 'nope3', …)" in message
    assert str(qrels) in message


def test_separate_files_keep_unlabelled_queries_and_say_so(beir) -> None:
    folder, _ = beir
    labelled = read_labelled_files(folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels" / "test.tsv")
    assert len(labelled.queries) == 7 and len(labelled.evaluated_queries) == 6
    assert any("1 of 7 queries has no relevant label ('q6'); evaluated over the 6 labelled ones" in n
               for n in labelled.notes)  # fmt: skip


def test_query_ids_that_are_also_document_ids_are_prefixed() -> None:
    documents = [Item("1", "apples", "document"), Item("2", "pears", "document")]
    queries = [Item("1", "fruit", "query")]
    labelled = labelled_set(documents, queries, RelevanceLabels({"1": {"2": 1}}))
    assert [q.id for q in labelled.queries] == ["query:1"]
    assert labelled.labels.relevant("query:1") == {"2": 1}
    assert len({i.id for i in labelled.items()}) == 3


# -- reading qrels ------------------------------------------------------------------------------------------------
def test_qrels_read_beir_with_or_without_header_and_trec(tmp_path: Path) -> None:
    beir = tmp_path / "beir.tsv"
    beir.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t2\n\nq2\td1\t0\n")
    bare = tmp_path / "bare.tsv"
    bare.write_text("q1\td1\t1\nq1\td2\t2\nq2\td1\t0\n")
    trec = tmp_path / "qrels.txt"
    trec.write_text("q1 0 d1 1\nq1 0 d2 2\nq2 0 d1 0\n")
    for path in (beir, bare, trec):
        labels = read_qrels(path)
        assert labels.grades == {"q1": {"d1": 1, "d2": 2}, "q2": {"d1": 0}}
        assert labels.labelled_queries() == ["q1"] and len(labels) == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("q1\td1\n", "line 1: expected 3 tab-separated fields"),
        ("query-id\tcorpus-id\tscore\nq1\td1\thigh\n", "line 2, field 'score': 'high' is not a whole number"),
        ("q1\td1\t1\nq1\td1\t2\n", "line 2: query 'q1', document 'd1' has grade 2 here and 1 on line 1"),
        ("query-id\tcorpus-id\tscore\n", "no relevance labels found"),
    ],
)
def test_bad_qrels_name_the_line_and_field(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "qrels.tsv"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_qrels(path)


# -- labels travel in workspaces ---------------------------------------------------------------------------------
def test_labels_round_trip_through_dict_arrow_and_a_workspace(tmp_path: Path) -> None:
    labels = RelevanceLabels({"q1": {"d1": 2, "d2": 0}, "q2": {"d3": 1}}, "qrels/test.tsv")
    assert RelevanceLabels.from_dict(labels.to_dict()) == labels
    assert RelevanceLabels.from_arrow(labels.to_arrow(), labels.source) == labels
    items = [Item("d1", "a", "document"), Item("q1", "b", "query")]
    path = save_workspace(tmp_path / "lab.workbench", Workspace(items=items, labels=labels))
    assert load_workspace(path).labels == labels
    without = save_workspace(tmp_path / "plain.workbench", Workspace(items=items))
    assert load_workspace(without).labels is None
    with pytest.raises(InputError, match="grade 'x' is not a whole number"):
        RelevanceLabels.from_dict({"qrels": {"q1": {"d1": "x"}}})


def test_mode_run_by_query_pairs_ids_and_hits() -> None:
    run = ModeRun(SearchMode("bm25"), ["q1", "q2"], [[Hit("d1", 1.0)], []])
    assert run.by_query() == {"q1": [Hit("d1", 1.0)], "q2": []}


def test_evaluate_reports_progress_per_mode_and_stops_on_cancel() -> None:
    documents, doc_vectors, queries, query_vectors, labels = planted()
    labelled = labelled_set(documents, queries, labels)
    run = exact_run(labelled, doc_vectors, query_vectors[:2])
    seen: list[tuple[int, int]] = []
    evaluate(labelled, [run, run], progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)]
    with pytest.raises(Cancelled):
        evaluate(labelled, [run], cancelled=lambda: True)


def test_app_format_files_with_an_id_column_work_as_corpus_and_queries(tmp_path: Path) -> None:
    from workbench.core.beir import read_queries

    corpus = tmp_path / "docs.csv"
    corpus.write_text("doc_id,text,topic\nd1,apples are red,fruit\nd2,rain falls,weather\n")
    queries = tmp_path / "queries.txt"
    queries.write_text("which fruit is red\n")
    (query,), _ = read_queries(queries)  # a .txt query's id is its content hash
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text(f"{query.id}\td1\t1\n")
    labelled = read_labelled_files(corpus, queries, qrels, id_column="doc_id")
    assert [d.id for d in labelled.documents] == ["d1", "d2"] and labelled.documents[0].metadata == {"topic": "fruit"}
    assert [q.id for q in labelled.evaluated_queries] == [query.id]
    with pytest.raises(InputError, match="absent from the corpus"):
        read_labelled_files(corpus, queries, qrels)  # without --id-column the documents' ids are content hashes


def test_a_damaged_qrels_member_is_refused_as_damaged(tmp_path: Path) -> None:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from workbench.core.workspace_archive import labels_bytes, labels_from

    path = tmp_path / "w.workbench"
    with pytest.raises(InputError, match=r"damaged.*qrels\.parquet cannot be read"):
        labels_from(b"not parquet", "", path)
    table = pa.table({"query_id": ["q1"], "doc_id": ["d1"]})  # no score column
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    with pytest.raises(InputError, match=r"damaged.*no column 'score'"):
        labels_from(buffer.getvalue(), "", path)
    labels = RelevanceLabels({"q1": {"d1": 1}})
    assert labels_from(labels_bytes(labels), "x.tsv", path) == RelevanceLabels({"q1": {"d1": 1}}, "x.tsv")
