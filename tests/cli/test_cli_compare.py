from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.core.test_clusters_compare import WORDS, planted, table
from workbench.core.exchange import read_parquet, write_parquet


def workbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workbench", *args], cwd=REPO, capture_output=True, text=True)


def test_cluster_adds_columns_and_compare_prints_the_json_keys(tmp_path: Path) -> None:
    vectors, labels, texts = planted()
    a = table(vectors, labels, texts)
    write_parquet(tmp_path / "a.parquet", a.items, a.vectors, a.spec, {"x": vectors[:, 0], "y": vectors[:, 1]})
    write_parquet(tmp_path / "b.parquet", a.items, a.vectors[:, ::-1].copy(), a.spec)
    done = workbench("cluster", str(tmp_path / "a.parquet"), "--out", str(tmp_path / "c.parquet"),
                     "--method", "kmeans", "--k", "3")  # fmt: skip
    assert done.returncode == 0, done.stderr
    clustered = read_parquet(tmp_path / "c.parquet")
    assert set(clustered.derived) == {"x", "y", "cluster", "cluster_name"}
    assert {n.split(" · ")[0] for n in clustered.derived["cluster_name"]} == set(WORDS.values())
    assert clustered.items[0].metadata == {"label": "L0"}
    done = workbench("compare", str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet"), "--label-column", "label",
                     "-k", "5", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    numbers = json.loads(done.stdout)
    for key in ("knn_overlap", "similarity_rank_correlation", "knn_label_accuracy_a", "knn_label_accuracy_b",
                "silhouette_a", "silhouette_b"):  # fmt: skip
        assert isinstance(numbers[key], float)
    assert numbers["knn_overlap"] == 1.0  # reversing the coordinates keeps every cosine


def test_bad_input_exits_2_with_a_message(tmp_path: Path) -> None:
    vectors, labels, texts = planted(n_per=3)
    a = table(vectors, labels, texts)
    write_parquet(tmp_path / "a.parquet", a.items, a.vectors, a.spec)
    done = workbench("compare", str(tmp_path / "a.parquet"), str(tmp_path / "a.parquet"), "--label-column", "nope")
    assert done.returncode == 2 and "No column 'nope'" in done.stderr
    done = workbench("cluster", str(tmp_path / "missing.parquet"), "--out", str(tmp_path / "o.parquet"))
    assert done.returncode == 2 and "missing.parquet" in done.stderr
