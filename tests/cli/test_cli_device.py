"""`--device` in the CLI: `cpu` and `auto` give the same vectors on this machine; -v says which device ran. And
`project` without --seed lays out on every core, as its --help says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[2]
TEXTS = "The cat sleeps on the sofa.\nStock markets fell sharply.\nHeavy rain over the weekend.\n"


def _embed(tmp_path: Path, device: str) -> tuple[np.ndarray, str]:
    """Vectors and -v output of `workbench embed --device DEVICE`, each run with its own empty cache."""
    source, out = tmp_path / "notes.txt", tmp_path / f"{device}.parquet"
    source.write_text(TEXTS, encoding="utf-8")
    env = {**os.environ, "WORKBENCH_HOME": str(tmp_path / f"home-{device}")}
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "embed", str(source), "--out", str(out), "--device", device, "-v"],
        cwd=REPO, capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return np.stack(pq.read_table(out).column("vector").to_pylist()).astype(np.float32), done.stderr


def test_cpu_and_auto_give_the_same_vectors_and_say_where_they_ran(tmp_path: Path) -> None:
    on_cpu, said_cpu = _embed(tmp_path, "cpu")
    on_auto, said_auto = _embed(tmp_path, "auto")
    assert "3 encoded, 0 from cache" in said_auto  # encoded again, not read from the first run's cache
    np.testing.assert_allclose(on_auto, on_cpu, atol=1e-6)
    assert "at 384 dims on cpu (3 encoded" in said_cpu and "on cpu (3 encoded" in said_auto  # no GPU here


def test_an_unknown_device_is_bad_usage(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "embed", str(tmp_path / "a.txt"), "--out", str(tmp_path / "a.parquet"),
         "--device", "tpu"], cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2 and "--device" in done.stderr and not (tmp_path / "a.parquet").exists()


def test_project_without_a_seed_uses_every_core_and_says_so(tmp_path: Path) -> None:
    from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
    from workbench.core.exports import export_vectors
    from workbench.core.items import Item

    items = [Item.create(f"text {n}", "document") for n in range(30)]
    source, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    export_vectors(source, items, l2_normalise(np.random.default_rng(3).normal(size=(30, 16))), EmbeddingSpec())
    run = [sys.executable, "-m", "workbench", "project", str(source), "--out", str(out), "-v"]
    done = subprocess.run(run, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "every core (no seed)" in done.stderr and pq.read_table(out).num_rows == 30
    usage = subprocess.run([*run[:4], "--help"], cwd=REPO, capture_output=True, text=True).stdout
    assert "default: no seed, every core" in " ".join(usage.split())
