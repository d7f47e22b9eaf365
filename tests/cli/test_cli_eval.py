"""`workbench eval` and `workbench search --mode` through the real entry point, real model, real Milvus Lite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.fakes.beir_folder import write_beir_folder
from workbench.core.beir import read_beir_folder
from workbench.core.embedding import embed_items
from workbench.core.evaluation import evaluate
from workbench.core.exchange import write_parquet
from workbench.core.items import Item
from workbench.core.milvus import MilvusTarget, open_milvus
from workbench.core.search_lab import embed_labelled, exact_run

REPO = Path(__file__).resolve().parents[2]
KEYS = ["mode", "ndcg@10", "recall@10", "recall@100", "mrr@10", "queries"]


def workbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args], cwd=REPO, capture_output=True, text=True, env=os.environ.copy()
    )


@pytest.fixture
def beir(tmp_path: Path) -> Path:
    folder = tmp_path / "beir"
    write_beir_folder(folder)
    return folder


def test_eval_prints_one_json_object_per_mode_with_the_core_numbers(beir: Path, local_embedder) -> None:
    done = workbench("eval", "--corpus", str(beir), "--mode", "exact,bm25,hybrid", "--json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [list(r) for r in rows] == [KEYS] * 3
    assert [r["mode"] for r in rows] == ["exact", "bm25", "hybrid"]
    assert all(r["queries"] == 6 for r in rows)
    assert "1 of 7 queries has no labels in split 'test'" in done.stderr

    labelled = read_beir_folder(beir)
    doc_vectors, query_vectors = embed_labelled(labelled, local_embedder)
    exact = evaluate(labelled, [exact_run(labelled, doc_vectors, query_vectors)]).modes[0]
    assert rows[0] == exact.as_json()
    assert rows[1] != rows[0]  # BM25 really ran (keyword search ranks these differently)


def test_eval_into_a_named_collection_pushes_the_documents_with_full_text(beir: Path, tmp_path: Path) -> None:
    uri = str(tmp_path / "lab.db")
    done = workbench(
        "eval",
        "--corpus",
        str(beir),
        "--mode",
        "dense",
        "--uri",
        uri,
        "--collection",
        "sample",
        "-k",
        "5",
        "--worst",
        "2",
    )
    assert done.returncode == 0, done.stderr
    header, line, _, worst_title, *worst = done.stdout.splitlines()
    assert header.split()[:5] == ["mode", "ndcg@5", "recall@5", "recall@100", "mrr@5"]
    assert line.split()[0] == "dense" and line.split()[5] == "6"
    assert worst_title == "dense: worst 2 queries" and len(worst) == 2
    ndcgs = [float(row.split()[1].removeprefix("ndcg@5=")) for row in worst]
    assert ndcgs == sorted(ndcgs) and ndcgs[0] <= float(line.split()[1])  # worst first, below the mean
    with open_milvus(MilvusTarget(uri)) as db:
        info = db.describe("sample")
    assert info.rows == 40 and info.fulltext


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "sparse"], "Search mode 'sparse' is not one of exact, dense, bm25, hybrid or all."),
        (["-k", "0"], "-k must be at least 1, not 0."),
        (["--uri", "x.db"], "--uri needs --collection"),
        (["--split", "dev"], "no split 'dev'; the qrels folder has test, train."),
        (["--rrf-k", "0"], "The RRF k must be between 1 and 16384, not 0."),
    ],
)
def test_eval_bad_options_exit_2_with_a_message(beir: Path, args: list[str], message: str) -> None:
    done = workbench("eval", "--corpus", str(beir), *args)
    assert done.returncode == 2 and message in done.stderr and done.stdout == ""
    assert "Traceback" not in done.stderr


def test_eval_bad_inputs_exit_2_naming_what_is_wrong(beir: Path) -> None:
    qrels = beir / "qrels" / "test.tsv"
    qrels.write_text(qrels.read_text() + "q0\tghost-1\t1\nq1\tghost-2\t1\n")
    absent = workbench("eval", "--corpus", str(beir))
    assert absent.returncode == 2
    assert "2 document ids absent from the corpus ('ghost-1', 'ghost-2')" in absent.stderr

    alone = workbench("eval", "--corpus", str(beir / "corpus.jsonl"))
    assert alone.returncode == 2 and "give --queries and --qrels too" in alone.stderr

    (beir / "corpus.jsonl").unlink()
    missing = workbench("eval", "--corpus", str(beir))
    assert missing.returncode == 2 and "not a BEIR folder: corpus.jsonl is missing" in missing.stderr


def test_search_modes_and_the_full_text_re_push(tmp_path: Path, local_embedder) -> None:
    items = [
        Item.create("The cat sleeps on the warm sofa all afternoon."),
        Item.create("Stock markets fell sharply after the rate decision."),
        Item.create("A zebra grazes on the open savanna."),
    ]
    result = embed_items(items, local_embedder)
    exchange = tmp_path / "docs.parquet"
    write_parquet(exchange, result.items, result.vectors, local_embedder.spec)
    uri = str(tmp_path / "s.db")
    assert workbench("push", str(exchange), "--collection", "old", "--uri", uri, "--no-fulltext").returncode == 0

    refused = workbench("search", "zebra", "--collection", "old", "--uri", uri, "--mode", "bm25")
    assert refused.returncode == 2 and "--add-fulltext" in refused.stderr

    added = workbench("push", "--collection", "old", "--uri", uri, "--add-fulltext")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "Collection 'old' now has full text (BM25); 3 rows."

    bm25 = workbench("search", "zebra", "--collection", "old", "--uri", uri, "--mode", "bm25", "--json")
    assert bm25.returncode == 0, bm25.stderr
    hits = [json.loads(line) for line in bm25.stdout.splitlines()]
    assert [h["text"] for h in hits] == ["A zebra grazes on the open savanna."] and hits[0]["score"] > 0

    hybrid = workbench("search", "an animal on the grassland", "--collection", "old", "--uri", uri, "--mode",
                       "hybrid", "--ranker", "weighted", "--dense-weight", "0.8", "-k", "3", "--json")  # fmt: skip
    assert hybrid.returncode == 0, hybrid.stderr
    assert len(hybrid.stdout.splitlines()) == 3


def test_compare_with_qrels_scores_both_configurations(beir: Path, tmp_path: Path, local_embedder) -> None:
    from workbench.core.embedders.base import l2_normalise
    from workbench.core.evaluation import evaluate_embedding

    labelled = read_beir_folder(beir)
    items = labelled.items()
    good = embed_items(items, local_embedder)
    noise = l2_normalise(np.random.default_rng(0).normal(size=good.vectors.shape))
    write_parquet(tmp_path / "a.parquet", good.items, good.vectors, local_embedder.spec)
    write_parquet(tmp_path / "b.parquet", good.items, noise, local_embedder.spec)
    qrels = str(beir / "qrels" / "test.tsv")
    done = workbench("compare", str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet"), "--qrels", qrels, "--json")
    assert done.returncode == 0, done.stderr
    retrieval = json.loads(done.stdout)["retrieval"]
    assert retrieval["a"] == evaluate_embedding(good.items, good.vectors, labelled.labels).as_json()
    assert retrieval["a"]["ndcg@10"] > retrieval["b"]["ndcg@10"]  # a real model beats random vectors

    other = tmp_path / "other.tsv"
    other.write_text("q0\tmissing-doc\t1\n")
    refused = workbench("compare", str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet"), "--qrels", str(other))
    assert refused.returncode == 2 and "1 document id absent from the corpus ('missing-doc')" in refused.stderr


def test_eval_with_gemini_embeds_documents_and_queries_through_the_model_options(beir: Path) -> None:
    from tests.fakes.fake_gemini import FakeGemini

    key = "AIzaFAKE-eval-key-0123456789"
    with FakeGemini() as server:
        env = {**os.environ, "GEMINI_API_KEY": key, "GOOGLE_GEMINI_BASE_URL": server.base_url}
        command = [sys.executable, "-m", "workbench", "eval", "--corpus", str(beir), "--mode", "exact", "--json"]
        done = subprocess.run([*command, "--provider", "gemini", "--dim", "768"], cwd=REPO, capture_output=True,
                              text=True, env=env, timeout=120)  # fmt: skip
        requests = [request for r in server.embed_requests() for request in r.body["requests"]]
    assert done.returncode == 0, done.stderr
    (row,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert row["mode"] == "exact" and row["queries"] == 6
    tasks = [request.get("taskType") for request in requests]
    assert tasks.count("RETRIEVAL_DOCUMENT") == 40 and tasks.count("RETRIEVAL_QUERY") == 6
    assert {request.get("outputDimensionality") for request in requests} == {768}
    assert key not in done.stdout + done.stderr
