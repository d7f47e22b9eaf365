"""`workbench embed DIR --out OUT`: a folder of files, through the real entry point, embedded by the real SDK
against the fake Gemini server (no model load, so the test is quick)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from tests.conftest import REPO
from tests.core.test_folder_import import scanned_pdf, text_pdf
from tests.fakes.fake_gemini import FakeGemini


def embed(folder: Path, server: FakeGemini, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GEMINI_API_KEY": "AIzaFAKE-folder", "GOOGLE_GEMINI_BASE_URL": server.base_url}
    command = [sys.executable, "-m", "workbench", "embed", str(folder), "--provider", "gemini", "--dim", "64", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=env, timeout=120)


def test_a_folder_is_embedded_one_row_per_file_and_the_skips_are_said(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    (folder / "guides").mkdir(parents=True)
    text_pdf(folder / "guides" / "setup.pdf", ["Install the app, then open a folder."])
    scanned_pdf(folder / "scan.pdf")
    (folder / "index.html").write_text("<h1>Welcome</h1><p>Start here.</p>", encoding="utf-8")
    (folder / "notes.md").write_text("# Notes\nSome words.", encoding="utf-8")
    (folder / "data.txt").write_bytes(b"\x00\x01\x02binary")
    out = tmp_path / "docs.parquet"
    with FakeGemini() as server:
        done = embed(folder, server, "--out", str(out))
    assert done.returncode == 0, done.stderr
    table = pq.read_table(out).to_pylist()
    assert [row["id"] for row in table] == ["guides/setup.pdf", "index.html", "notes.md"]
    assert [row["file_type"] for row in table] == ["pdf", "html", "md"]
    assert table[0]["top_folder"] == "guides" and "Install the app" in table[0]["text"]
    assert "skipped data.txt: binary file" in done.stderr
    assert "skipped scan.pdf: PDF without a text layer" in done.stderr and "1 PDF need OCR" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_folder_with_nothing_to_embed_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"")
    out = tmp_path / "o.parquet"
    with FakeGemini() as server:
        done = embed(folder, server, "--out", str(out))
        assert not server.embed_requests()
    assert done.returncode == 2 and "a.txt: empty file" in done.stderr
    assert not out.exists() and "Traceback" not in done.stderr


def test_table_options_with_a_folder_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# a", encoding="utf-8")
    with FakeGemini() as server:
        done = embed(tmp_path, server, "--column", "body", "--out", str(tmp_path / "o.parquet"))
        assert not server.requests
    assert done.returncode == 2 and "--column applies to table files only" in done.stderr
