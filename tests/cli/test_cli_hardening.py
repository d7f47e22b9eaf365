"""Issue 14's findings through the real entry point (`python -m workbench`) in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def workbench(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


# -- 3: an output that is an input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "out"),
    [
        ("data.csv", "data.csv"),  # the output is the input
        ("x.jsonl", "x.npy"),  # the .npy's sidecar x.jsonl is the input
        ("metadata.tsv", "vectors.tsv"),  # the Projector pair's metadata.tsv is the input
        ("x.metadata.tsv", "x.tsv"),
    ],
)
def test_embed_refuses_to_overwrite_its_input(tmp_path: Path, source: str, out: str) -> None:
    content = {
        ".csv": "id,text\n1,a first text\n2,a second text\n",
        ".jsonl": '{"id": "1", "text": "a first text"}\n{"id": "2", "text": "a second text"}\n',
        ".tsv": "id\ttext\n1\ta first text\n2\ta second text\n",
    }[Path(source).suffix]
    (tmp_path / source).write_text(content, encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    done = workbench("embed", str(tmp_path / source), "--out", str(tmp_path / out))
    assert done.returncode == 2, done.stderr
    assert source in done.stderr and "input" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / source).read_text(encoding="utf-8") == content
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
