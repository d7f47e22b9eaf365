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


def test_missing_inputs_say_no_such_file_or_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent"
    evaluated = workbench("eval", "--corpus", str(missing))
    assert evaluated.returncode == 2
    assert evaluated.stderr.strip() == f"workbench eval: {missing}: no such file or folder."
    out = tmp_path / "e.parquet"
    embedded = workbench("embed", str(missing), "--out", str(out))
    assert embedded.returncode == 2
    assert embedded.stderr.strip() == f"workbench embed: {missing}: no such file or folder."
    assert not out.exists()


def test_an_unsupported_input_names_folders_among_the_choices(tmp_path: Path) -> None:
    sheet = tmp_path / "x.xlsx"
    sheet.write_bytes(b"PK")
    done = workbench("embed", str(sheet), "--out", str(tmp_path / "e.parquet"))
    assert done.returncode == 2
    assert "unsupported file type '.xlsx'; use a folder" in done.stderr and ".html" in done.stderr


def test_no_gemini_key_tells_a_cli_user_the_environment_variable(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("one\ntwo\n", encoding="utf-8")
    env = {"GEMINI_API_KEY": "", "GOOGLE_API_KEY": ""}
    done = workbench("embed", str(notes), "--out", str(tmp_path / "n.parquet"), "--provider", "gemini", env=env)
    assert done.returncode == 2 and "set GEMINI_API_KEY (app and CLI)" in done.stderr
