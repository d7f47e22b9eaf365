"""`workbench embed --provider gemini` end to end: the real entry point, the real SDK, the fake server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO
from tests.fakes.fake_gemini import FakeGemini, Fault

FAKE_KEY = "AIzaFAKE-cli-key-9876543210"


@pytest.fixture
def server():
    with FakeGemini() as fake:
        yield fake


def run(tmp_path: Path, server: FakeGemini, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GEMINI_API_KEY": FAKE_KEY,
        "GOOGLE_GEMINI_BASE_URL": server.base_url,
        "WORKBENCH_GEMINI_ATTEMPTS": "2",
        "WORKBENCH_GEMINI_BACKOFF_S": "0.01",
    }
    (tmp_path / "in.txt").write_text("the first text\nthe second text\nthe third text\n")
    command = [sys.executable, "-m", "workbench", "-v", "embed", str(tmp_path / "in.txt"), "--provider", "gemini"]
    return subprocess.run([*command, *args], cwd=REPO, capture_output=True, text=True, env=env, timeout=120)


def test_embed_with_gemini_writes_unit_vectors_with_provenance(tmp_path: Path, server) -> None:
    done = run(tmp_path, server, "--dim", "768", "--out", str(tmp_path / "o.parquet"))
    assert done.returncode == 0, done.stderr
    table = pq.read_table(tmp_path / "o.parquet")
    vectors = np.asarray(table.column("vector").to_pylist(), dtype=np.float32)
    assert vectors.shape == (3, 768)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert set(table.column("provider").to_pylist()) == {"gemini"}
    assert set(table.column("task").to_pylist()) == {"RETRIEVAL_DOCUMENT"}
    assert [len(r.body["requests"]) for r in server.embed_requests()] == [3]
    assert FAKE_KEY not in done.stdout + done.stderr
    assert all(FAKE_KEY.encode() not in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_a_rejected_key_exits_2_and_a_failing_server_exits_1(tmp_path: Path, server) -> None:
    server.valid_keys = {"another-key"}
    rejected = run(tmp_path, server, "--out", str(tmp_path / "o.parquet"))
    assert rejected.returncode == 2 and "rejected the API key" in rejected.stderr
    server.valid_keys = None
    server.fail_next(*[Fault(status=500, reason="INTERNAL", message="down")] * 2)
    failing = run(tmp_path, server, "--out", str(tmp_path / "o.parquet"))
    assert failing.returncode == 1 and "kept failing (500 INTERNAL) after 2 attempts" in failing.stderr
    for done in (rejected, failing):
        assert FAKE_KEY not in done.stdout + done.stderr
        assert "Traceback" not in done.stderr


def test_a_key_echoed_by_the_server_is_not_printed(tmp_path: Path, server) -> None:
    server.fail_next(Fault(status=400, reason="INVALID_ARGUMENT", message=f"bad request for key {FAKE_KEY}"))
    done = run(tmp_path, server, "--out", str(tmp_path / "o.parquet"))
    assert done.returncode == 1 and "bad request for key ***" in done.stderr
    assert FAKE_KEY not in done.stdout + done.stderr


def test_proxy_credentials_in_the_base_url_are_never_printed(tmp_path: Path, server) -> None:
    scheme, rest = server.base_url.split("://", 1)
    dead_url = "http://proxyuser:pass@127.0.0.1:9/"
    dead = run(tmp_path, server, "--base-url", dead_url, "--out", str(tmp_path / "d.parquet"))
    assert dead.returncode == 1 and "Cannot reach Gemini at 127.0.0.1:9 " in dead.stderr
    live_url = f"{scheme}://proxyuser:pass@{rest}"
    done = run(tmp_path, server, "--base-url", live_url, "--out", str(tmp_path / "o.parquet"))
    assert done.returncode == 0, done.stderr
    assert "HTTP Request" not in done.stderr  # the HTTP libraries' request lines stay off, even with -v
    for output in (done.stdout, done.stderr, dead.stdout, dead.stderr):
        assert "proxyuser" not in output and ":pass@" not in output
