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


# -- 4: a hung Gemini server: --timeout and Ctrl-C ----------------------------------------------------------------
def gemini_env(server) -> dict[str, str]:
    return {"GEMINI_API_KEY": "AIzaFAKE-timeout-key-1234567", "GOOGLE_GEMINI_BASE_URL": server.base_url}


def test_timeout_fails_a_hung_server_with_exit_1(tmp_path: Path) -> None:
    from tests.fakes.fake_gemini import FakeGemini, Fault

    (tmp_path / "in.txt").write_text("a\nb\n")
    with FakeGemini() as server:
        server.fail_next(*[Fault(hang=True)] * 10)
        done = workbench("embed", str(tmp_path / "in.txt"), "--provider", "gemini", "--timeout", "0.5",
                         "--out", str(tmp_path / "o.parquet"), env=gemini_env(server), timeout=30)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "did not answer within 0.5 s" in done.stderr
    bad = workbench("embed", str(tmp_path / "in.txt"), "--timeout", "0", "--out", str(tmp_path / "o.parquet"))
    assert bad.returncode == 2 and "--timeout" in bad.stderr
    assert not (tmp_path / "o.parquet").exists()


def test_ctrl_c_ends_a_hung_request_within_a_second(tmp_path: Path) -> None:
    import signal
    import time

    from tests.fakes.fake_gemini import FakeGemini, Fault

    (tmp_path / "in.txt").write_text("a\nb\n")
    with FakeGemini() as server:
        server.fail_next(Fault(hang=True))
        process = subprocess.Popen(
            [sys.executable, "-m", "workbench", "embed", str(tmp_path / "in.txt"), "--provider", "gemini",
             "--out", str(tmp_path / "o.parquet")],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **gemini_env(server)},
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not server.embed_requests() and time.monotonic() < deadline:
            time.sleep(0.05)  # until the request hangs on the server
        assert server.embed_requests(), "the request never reached the server"
        process.send_signal(signal.SIGINT)
        sent = time.monotonic()
        try:
            _, stderr = process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            pytest.fail("Ctrl-C did not end the wait within 5 s")
    assert time.monotonic() - sent < 2.0
    assert process.returncode == 130 and "Cancelled" in stderr and "Traceback" not in stderr
