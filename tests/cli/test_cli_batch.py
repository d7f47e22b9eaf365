"""`workbench embed --provider gemini --batch [--no-wait]`: submit, quit, collect from a new process, against the
fake server (which outlives the processes, as Google does), with the real SDK in each process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO
from tests.fakes.fake_gemini import FakeGemini
from workbench.core.exports import read_export

TEXTS = ["the cat sleeps", "rain over the hills", "stocks fell", "green tea at five", "a second cat"]


@pytest.fixture
def server():
    with FakeGemini() as fake:
        fake.batch_polls_until_done = 2
        yield fake


def embed(tmp_path: Path, server: FakeGemini, *args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "in.txt"
    source.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    env = {
        **os.environ,
        "GEMINI_API_KEY": "AIzaFAKE-batch-cli",
        "GOOGLE_GEMINI_BASE_URL": server.base_url,
        "WORKBENCH_GEMINI_BATCH_POLL_S": "0.02",
        **({"WORKBENCH_HOME": str(home)} if home else {}),
    }
    command = [sys.executable, "-m", "workbench", "embed", str(source), "--provider", "gemini", "--dim", "32", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=env, timeout=120)


def jobs_created(server: FakeGemini) -> int:
    return sum(1 for r in server.batch_requests() if r.method == "POST")


def test_submit_quit_and_collect_from_a_new_process_gives_the_synchronous_vectors(tmp_path: Path, server) -> None:
    out = tmp_path / "batch.parquet"
    submitted = embed(tmp_path, server, "--batch", "--no-wait", "--out", str(out))
    assert submitted.returncode == 0, submitted.stderr
    assert "1 job submitted now" in submitted.stderr and "is not written yet" in submitted.stderr
    assert not out.exists() and jobs_created(server) == 1

    collected = embed(tmp_path, server, "--batch", "--out", str(out))  # a new process: waits for the job
    assert collected.returncode == 0, collected.stderr
    assert jobs_created(server) == 1 and not server.embed_requests()  # collected, not paid for again
    # the synchronous path, with a cache of its own (the shared one would hand it the batch's vectors)
    synchronous = embed(tmp_path, server, "--out", str(tmp_path / "sync.parquet"), home=tmp_path / "other-home")
    assert synchronous.returncode == 0, synchronous.stderr
    batch, synchronous_table = read_export(out), read_export(tmp_path / "sync.parquet")
    assert [i.text for i in batch.items] == TEXTS == [i.text for i in synchronous_table.items]
    assert batch.spec == synchronous_table.spec and batch.vectors.shape == (5, 32)
    np.testing.assert_array_equal(batch.vectors, synchronous_table.vectors)
    assert [len(r.body["requests"]) for r in server.embed_requests()] == [5]  # it really asked for them


def test_failed_texts_exit_1_naming_them_and_a_rerun_pays_only_for_them(tmp_path: Path, server) -> None:
    server.batch_fail_texts = {"stocks fell"}
    out = tmp_path / "o.parquet"
    failed = embed(tmp_path, server, "--batch", "--out", str(out))
    assert failed.returncode == 1 and "could not embed 1 of 5 texts: “stocks fell”" in failed.stderr
    assert "The other 4 are cached" in failed.stderr and not out.exists() and "Traceback" not in failed.stderr
    server.batch_fail_texts = set()
    again = embed(tmp_path, server, "--batch", "--out", str(out))
    assert again.returncode == 0, again.stderr
    requests = [r for r in server.batch_requests() if r.method == "POST"]
    assert [len(r.body["batch"]["inputConfig"]["requests"]["requests"]) for r in requests] == [5, 1]


def test_batch_options_are_checked_before_anything_runs(tmp_path: Path, server) -> None:
    alone = embed(tmp_path, server, "--no-wait", "--out", str(tmp_path / "o.parquet"))
    assert alone.returncode == 2 and "--no-wait goes with --batch" in alone.stderr
    source = tmp_path / "in.txt"
    local = subprocess.run(
        [sys.executable, "-m", "workbench", "embed", str(source), "--batch", "--out", str(tmp_path / "o.parquet")],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert local.returncode == 2 and "use it with --provider gemini" in local.stderr
    assert not server.requests
