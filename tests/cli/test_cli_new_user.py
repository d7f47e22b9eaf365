"""What a new user's first hour with the CLI found: single documents, missing paths, messages and output lines.

Embedding runs through the real SDK against the fake Gemini server (no model load, so the tests are quick)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from tests.cli.entry_point import workbench
from tests.fakes.fake_gemini import FakeGemini


def gemini_embed(server: FakeGemini, *args: str):
    env = {"GEMINI_API_KEY": "AIzaFAKE-newuser", "GOOGLE_GEMINI_BASE_URL": server.base_url}
    return workbench("embed", *args, "--provider", "gemini", "--dim", "8", env=env, timeout=120)


def test_a_single_html_file_is_embedded_as_one_document(tmp_path: Path) -> None:
    page = tmp_path / "c.html"
    page.write_text("<html><body><h1>Bread</h1><p>Yeast rises.</p></body></html>", encoding="utf-8")
    out = tmp_path / "a.parquet"
    with FakeGemini() as server:
        done = gemini_embed(server, str(page), "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = pq.read_table(out).to_pylist()
    assert len(rows) == 1 and rows[0]["id"] == "c.html" and rows[0]["file_type"] == "html"
    assert rows[0]["text"] == "Bread\nYeast rises."
