"""`workbench cluster` through the real entry point, in a subprocess: the default, two levels, noise assignment,
Gemini names from the fake server, and bad input that writes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from tests.conftest import REPO
from tests.core.test_clusters import planted_with_outliers
from tests.core.test_compare import table
from tests.fakes.fake_gemini import FakeGemini
from workbench.core.exchange import read_parquet, write_parquet

TOPICS = ["volcano lava eruption", "risotto rice saffron", "penalty goal referee", "comet orbit telescope",
          "bond yield coupon", "compiler parser token"]  # fmt: skip


def workbench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workbench", *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})  # fmt: skip


def planted_file(path: Path) -> np.ndarray:
    """Six planted groups of 40 (384-d) and 8 outliers, each text naming its group's topic words; the truth."""
    vectors, truth = planted_with_outliers()
    rng = np.random.default_rng(0)
    texts = [f"Notes on {TOPICS[g]} number {rng.integers(1000)}" if g >= 0 else f"stray remark {i}"
             for i, g in enumerate(truth)]  # fmt: skip
    data = table(vectors, truth.tolist(), texts)
    write_parquet(path, data.items, data.vectors, data.spec, {"x": vectors[:, 0], "y": vectors[:, 1]})
    return truth


def test_the_default_finds_the_groups_names_them_and_keeps_every_column(tmp_path: Path) -> None:
    truth = planted_file(tmp_path / "in.parquet")
    done = workbench("cluster", str(tmp_path / "in.parquet"), "--out", str(tmp_path / "out.parquet"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""  # piped: no progress bar, nothing extra
    out = read_parquet(tmp_path / "out.parquet")
    assert set(out.derived) == {"x", "y", "cluster", "cluster_name"}
    labels = out.derived["cluster"]
    assert adjusted_rand_score(truth[truth >= 0], labels[truth >= 0]) >= 0.9 and (labels[truth < 0] == -1).all()
    names = {int(c): n for c, n in zip(labels, out.derived["cluster_name"], strict=True)}
    assert names[-1] == "noise"
    for cluster in set(labels.tolist()) - {-1}:
        topic = TOPICS[np.bincount(truth[labels == cluster]).argmax()]
        assert set(names[cluster].replace(" · ", " ").split()) <= set(topic.split())  # its own words, no "notes"
    assert [i.metadata for i in out.items] == [i.metadata for i in read_parquet(tmp_path / "in.parquet").items]


def test_two_levels_and_assigned_noise_add_their_columns(tmp_path: Path) -> None:
    truth = planted_file(tmp_path / "in.parquet")
    done = workbench("cluster", str(tmp_path / "in.parquet"), "--out", str(tmp_path / "out.parquet"),
                     "--levels", "2", "--assign-noise", "-v")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "noise items given to their nearest cluster" in done.stderr  # -v says what ran
    out = read_parquet(tmp_path / "out.parquet")
    assert {"cluster_parent", "cluster_parent_name", "cluster_assigned"} <= set(out.derived)
    labels, parents, assigned = (out.derived[c] for c in ("cluster", "cluster_parent", "cluster_assigned"))
    assert (labels >= 0).all() and assigned[truth < 0].all() and assigned.sum() < 20
    for sub in set(labels.tolist()):  # every sub-cluster lies inside exactly one cluster
        assert len(set(parents[labels == sub].tolist())) == 1
    assert adjusted_rand_score(truth[truth >= 0], parents[truth >= 0]) >= 0.9  # the parents are the six groups
    parent_names = {int(p): n for p, n in zip(parents, out.derived["cluster_parent_name"], strict=True)}
    assert len(set(parent_names.values())) == len(parent_names) == 6
    again = workbench("cluster", str(tmp_path / "out.parquet"), "--out", str(tmp_path / "again.parquet"))
    assert again.returncode == 0, again.stderr  # a second run replaces the cluster columns, drops the level-2 ones
    assert set(read_parquet(tmp_path / "again.parquet").derived) == {"x", "y", "cluster", "cluster_name"}


def test_gemini_names_come_from_the_text_endpoint_with_prompts_shown(tmp_path: Path) -> None:
    planted_file(tmp_path / "in.parquet")
    with FakeGemini() as server:
        done = workbench("cluster", str(tmp_path / "in.parquet"), "--out", str(tmp_path / "out.parquet"),
                         "--names", "gemini", "--base-url", server.base_url, "-v",
                         env={"GEMINI_API_KEY": "test-key"})  # fmt: skip
        assert done.returncode == 0, done.stderr
        requests = server.generate_requests()
    out = read_parquet(tmp_path / "out.parquet")
    clusters = set(out.derived["cluster"].tolist()) - {-1}
    assert len(requests) == len(clusters)  # one request per cluster
    assert (
        "prompt for cluster 0:" in done.stderr
        and "most typical texts" in done.stderr
        and "test-key" not in (done.stderr)
    )
    named = {n for c, n in zip(out.derived["cluster"], out.derived["cluster_name"], strict=True) if c >= 0}
    assert all(n.startswith("Topic of ") for n in named)  # the fake model's answers, tidied


def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    planted_file(tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    done = workbench("cluster", str(tmp_path / "in.parquet"), "--out", str(out), "--names", "gemini")
    assert done.returncode == 2 and "No Gemini API key" in done.stderr and "Traceback" not in done.stderr
    done = workbench("cluster", str(tmp_path / "in.parquet"), "--out", str(out), "--levels", "3")
    assert done.returncode == 2 and "invalid choice" in done.stderr
    done = workbench("cluster", str(tmp_path / "in.parquet"), "--out", str(out), "--min-cluster-size", "1")
    assert done.returncode == 2 and "at least 2 (or 0: automatic)" in done.stderr
    done = workbench("cluster", str(tmp_path / "in.parquet"), "--out", str(tmp_path / "out.csv"))
    assert done.returncode == 2 and "use .parquet" in done.stderr
    assert not out.exists() and not (tmp_path / "out.csv").exists()
