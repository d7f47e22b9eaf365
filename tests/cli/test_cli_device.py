"""`--device` in the CLI: `cpu` and `auto` give the same vectors on this machine; -v says which device ran."""

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
