"""`workbench push` and `workbench search` through the real entry point (`python -m workbench`), real Milvus Lite."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from workbench.core.embedding import embed_items
from workbench.core.exchange import write_parquet
from workbench.core.items import Item
from workbench.core.milvus import MilvusTarget, open_milvus

REPO = Path(__file__).resolve().parents[2]
DOCS = [
    ("The cat sleeps on the warm sofa all afternoon.", "pets"),
    ("A kitten naps in a patch of sunlight.", "pets"),
    ("Stock markets fell sharply after the rate decision.", "finance"),
    ("The central bank raised interest rates again.", "finance"),
    ("Heavy rain is expected over the weekend.", "weather"),
]


def workbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args], cwd=REPO, capture_output=True, text=True, env=os.environ.copy()
    )


@pytest.fixture
def exchange_file(tmp_path: Path, local_embedder) -> Path:
    items = [Item.create(text, metadata={"topic": topic}) for text, topic in DOCS]
    result = embed_items(items, local_embedder)
    path = tmp_path / "docs.parquet"
    write_parquet(path, result.items, result.vectors, local_embedder.spec)
    return path


def test_push_twice_then_search_end_to_end(exchange_file: Path, tmp_path: Path, workbench_home: Path) -> None:
    first = workbench("push", str(exchange_file), "--collection", "docs")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "Pushed 5 items to collection 'docs' (created; 5 rows now)."
    assert first.stderr == ""  # piped: no progress bar, no pymilvus log lines
    assert (workbench_home / "data" / "milvus.db").is_dir()  # the default --uri is the user's data dir
    again = workbench("push", str(exchange_file), "--collection", "docs")
    assert again.stdout.strip() == "Pushed 5 items to collection 'docs' (updated; 5 rows now)."

    found = workbench(
        "search",
        "a cat asleep on the sofa",
        "--collection",
        "docs",
        "-k",
        "3",
        "--json",
        "--filter",
        'metadata["topic"] == "pets"',
    )
    assert found.returncode == 0, found.stderr
    hits = [json.loads(line) for line in found.stdout.splitlines()]
    assert len(hits) == 2 and set(hits[0]) == {"id", "score", "text", "metadata"}
    assert hits[0]["text"] == DOCS[0][0] and hits[0]["metadata"] == {"topic": "pets"}
    assert hits[0]["score"] > hits[1]["score"]


def test_search_prints_ranked_lines(exchange_file: Path, tmp_path: Path, capsys) -> None:
    """The plain output, through the same `main` the entry point calls (in-process: the model is warm)."""
    from workbench.cli import main

    db = str(tmp_path / "x.db")
    assert main(["push", str(exchange_file), "--collection", "docs", "--uri", db]) == 0
    capsys.readouterr()
    assert main(["search", "interest rates", "--collection", "docs", "--uri", db, "-k", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["1", "2"]
    assert lines[0].endswith(DOCS[3][0]) and float(lines[0].split()[1]) > float(lines[1].split()[1])


def test_a_metric_mismatch_and_bad_inputs_exit_2(exchange_file: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "x.db")
    assert workbench("push", str(exchange_file), "--collection", "docs", "--uri", db).returncode == 0
    mismatch = workbench("push", str(exchange_file), "--collection", "docs", "--uri", db, "--metric", "l2")
    assert mismatch.returncode == 2
    assert "its metric is COSINE, not L2" in mismatch.stderr
    missing = workbench("push", str(tmp_path / "nope.parquet"), "--collection", "docs", "--uri", db)
    assert missing.returncode == 2 and "nope.parquet: no such file" in missing.stderr
    bad_filter = workbench("search", "cat", "--collection", "docs", "--uri", db, "--filter", "topic ==")
    assert bad_filter.returncode == 2 and "rejected the filter 'topic =='" in bad_filter.stderr
    no_collection = workbench("search", "cat", "--collection", "other", "--uri", db)
    assert no_collection.returncode == 2 and "no collection 'other'" in no_collection.stderr
    assert "Traceback" not in bad_filter.stderr + no_collection.stderr


def test_search_with_a_model_of_another_dim_exits_2(tmp_path: Path, capsys) -> None:
    """In-process through `main` (the model is warm): 16-d vectors searched with a 384-d MiniLM query."""
    from workbench.cli import main
    from workbench.core.embedders.base import EmbeddingSpec

    db = str(tmp_path / "x.db")
    with open_milvus(MilvusTarget(db)) as store:
        store.push("small", [Item.create("x")], np.ones((1, 16), np.float32) / 4, EmbeddingSpec(model="tiny", dim=16))
    assert main(["search", "cat", "--collection", "small", "--uri", db]) == 2
    err = capsys.readouterr().err
    assert "holds vectors from local · tiny" in err  # the model differs: a warning first
    assert "holds 16-d vectors but the query is 384-d" in err


def test_a_locked_database_and_an_unreachable_server_exit_1(exchange_file: Path, tmp_path: Path) -> None:
    target = MilvusTarget(str(tmp_path / "held.db"))
    with open_milvus(target):  # this process holds the Lite database, as the app does during an operation
        held = workbench("push", str(exchange_file), "--collection", "docs", "--uri", target.uri)
    assert held.returncode == 1 and "in use by another program" in held.stderr
    assert held.stderr.count("\n") == 1  # one sentence, no tracebacks from pymilvus or Milvus Lite

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    uri = f"http://127.0.0.1:{port}"
    down = workbench("-v", "push", str(exchange_file), "--collection", "docs", "--uri", uri, "--token", "tok-s3cret")
    assert down.returncode == 1 and f"Cannot reach Milvus at {uri}" in down.stderr
    assert "s3cret" not in down.stderr + down.stdout
