"""`workbench compare` and `workbench cluster` through the real entry point, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO
from tests.core.test_clusters import WORDS, planted
from tests.core.test_compare import ANGLES_A, ANGLES_B, CIRCLE_LABELS, on_circle, table
from workbench.core.exchange import read_parquet, write_parquet


def workbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workbench", *args], cwd=REPO, capture_output=True, text=True)


def test_cluster_adds_named_columns_and_keeps_the_rest(tmp_path: Path) -> None:
    vectors, labels, texts = planted()
    a = table(vectors, labels, texts)
    write_parquet(tmp_path / "a.parquet", a.items, a.vectors, a.spec, {"x": vectors[:, 0], "y": vectors[:, 1]})
    done = workbench("cluster", str(tmp_path / "a.parquet"), "--out", str(tmp_path / "c.parquet"),
                     "--method", "kmeans", "--k", "3")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""  # piped: no progress bar, nothing extra
    clustered = read_parquet(tmp_path / "c.parquet")
    assert set(clustered.derived) == {"x", "y", "cluster", "cluster_name"}
    assert {n.split(" · ")[0] for n in clustered.derived["cluster_name"]} == set(WORDS.values())
    assert sorted(set(clustered.derived["cluster"].tolist())) == [0, 1, 2]
    assert [i.metadata for i in clustered.items] == [i.metadata for i in a.items]
    assert np.array_equal(clustered.vectors, a.vectors) and np.array_equal(clustered.derived["x"], vectors[:, 0])
    done = workbench("cluster", str(tmp_path / "a.parquet"), "--out", str(tmp_path / "h.parquet"),
                     "--min-cluster-size", "10")  # fmt: skip
    assert done.returncode == 0, done.stderr
    names = set(read_parquet(tmp_path / "h.parquet").derived["cluster_name"].tolist()) - {"noise"}
    assert {n.split(" · ")[0] for n in names} == set(WORDS.values())


def test_compare_prints_the_hand_computed_numbers_as_json_and_writes_a_report(tmp_path: Path) -> None:
    texts = [f"item {i}" for i in range(4)]
    a, b = table(on_circle(ANGLES_A), CIRCLE_LABELS, texts), table(on_circle(ANGLES_B), CIRCLE_LABELS, texts, "b")
    write_parquet(tmp_path / "a.parquet", a.items, a.vectors, a.spec)
    write_parquet(tmp_path / "b.parquet", b.items, b.vectors, b.spec)
    done = workbench("compare", str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet"), "--label-column", "label",
                     "-k", "1", "--json", "--report", str(tmp_path / "r.html"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    numbers = json.loads(done.stdout)
    assert numbers["knn_overlap"] == pytest.approx(3 / 4)  # see tests/core/test_compare.py for the hand working
    assert numbers["similarity_rank_correlation"] == pytest.approx(33 / 35)
    assert (numbers["knn_label_accuracy_a"], numbers["knn_label_accuracy_b"]) == (0.75, 0.5)
    assert isinstance(numbers["silhouette_a"], float) and isinstance(numbers["silhouette_b"], float)
    assert (numbers["only_in_a"], numbers["only_in_b"]) == (0, 0)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "knn_overlap" in page and "0.7500" in page and "<script" not in page and "http" not in page


def test_compare_text_output_shows_query_tops_side_by_side_and_counts_one_sided_ids(tmp_path: Path) -> None:
    kinds = ["document"] * 4 + ["query"]
    texts = ["lava flows", "pasta sauce", "goal kick", "red card", "what is on the menu"]
    a = table(on_circle([*ANGLES_A, 24]), [None] * 5, texts, kinds=kinds)
    b = table(on_circle([*ANGLES_B, 60, 90]), [None] * 6, [*texts, "extra"], "b", kinds=[*kinds, "document"])
    write_parquet(tmp_path / "a.parquet", a.items, a.vectors, a.spec)
    write_parquet(tmp_path / "b.parquet", b.items, b.vectors, b.spec)
    done = workbench("compare", str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet"), "-k", "2")
    assert done.returncode == 0, done.stderr
    assert "only_in_b" in done.stdout and "1 only in" in done.stderr
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("query: what is on the menu"))
    assert "overlap 0.50" in lines[header]
    assert "goal kick" in lines[header + 2] and "red card" in lines[header + 2]  # rank 1: A | B
    assert "pasta sauce" in lines[header + 3] and "goal kick" in lines[header + 3]


def test_bad_input_exits_2_with_a_message(tmp_path: Path) -> None:
    vectors, labels, texts = planted(n_per=3)
    a = table(vectors, labels, texts)
    write_parquet(tmp_path / "a.parquet", a.items, a.vectors, a.spec)
    done = workbench("compare", str(tmp_path / "a.parquet"), str(tmp_path / "a.parquet"), "--label-column", "nope")
    assert done.returncode == 2 and "No column 'nope'" in done.stderr
    done = workbench("cluster", str(tmp_path / "missing.parquet"), "--out", str(tmp_path / "o.parquet"))
    assert done.returncode == 2 and "missing.parquet" in done.stderr
    done = workbench("cluster", str(tmp_path / "a.parquet"), "--out", str(tmp_path / "o.parquet"), "--method", "x")
    assert done.returncode == 2 and "invalid choice" in done.stderr
    done = workbench("compare", str(tmp_path / "a.parquet"), str(tmp_path / "a.parquet"), "-k", "0")
    assert done.returncode == 2 and "-k must be at least 1" in done.stderr
