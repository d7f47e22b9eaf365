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


def test_push_of_a_csv_says_what_push_reads(tmp_path: Path) -> None:
    table = tmp_path / "mixed.csv"
    table.write_text("id,text\n1,hello\n", encoding="utf-8")
    done = workbench("push", str(table), "--collection", "c", "--uri", str(tmp_path / "m.db"))
    assert done.returncode == 2
    assert "not a Parquet file" in done.stderr and "the .parquet exchange file that `workbench embed` writes" in (
        done.stderr
    )
    assert "magic bytes" not in done.stderr and not (tmp_path / "m.db").exists()


def test_a_chunk_overlap_over_half_the_window_is_refused(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("one\ntwo\n", encoding="utf-8")
    out = tmp_path / "n.parquet"
    with FakeGemini() as server:
        done = gemini_embed(server, str(notes), "--out", str(out), "--chunk-overlap", "1500")
        assert not server.embed_requests()
    assert done.returncode == 2 and "chunk overlap of 1,500 tokens is more than half the 2,048-token" in done.stderr
    assert "give at most 1,024" in done.stderr and not out.exists()


def mixed_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.md").write_text("# Cats\nCats and dogs.", encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "fake.pdf").write_text("not a pdf", encoding="utf-8")
    (folder / "skip.csv").write_text("a\n1\n", encoding="utf-8")
    return folder


def test_folder_notes_read_as_cli_lines_and_pypdf_stays_quiet(tmp_path: Path) -> None:
    out = tmp_path / "m.parquet"
    with FakeGemini() as server:
        done = gemini_embed(server, str(mixed_folder(tmp_path)), "--out", str(out))
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert "workbench embed: 1 document from mixed; 2 files skipped; 1 other file ignored (.csv 1)" in lines
    assert "workbench embed: skipped empty.txt: empty file" in lines
    assert all(line.startswith("workbench embed: ") for line in lines), lines
    assert "WARNING" not in done.stderr and "pypdf" not in done.stderr
    assert "wrote" not in done.stderr  # piped: nothing extra


def test_a_successful_embed_on_a_terminal_says_what_it_wrote(tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    from tests.cli.entry_point import REPO

    notes = tmp_path / "notes.txt"
    notes.write_text("one\ntwo\n", encoding="utf-8")
    out = tmp_path / "n.parquet"
    main, terminal = pty.openpty()
    with FakeGemini() as server:
        env = {**os.environ, "GEMINI_API_KEY": "AIzaFAKE-newuser", "GOOGLE_GEMINI_BASE_URL": server.base_url}
        command = [sys.executable, "-m", "workbench", "embed", str(notes), "--out", str(out), "--provider", "gemini"]
        done = subprocess.run(command, cwd=REPO, stdout=subprocess.PIPE, stderr=terminal, env=env, timeout=120)
    os.close(terminal)
    said = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal's other end is closed: all read
            break
        if not chunk:
            break
        said += chunk
    os.close(main)
    assert done.returncode == 0 and done.stdout == b""
    assert f"wrote 2 items to {out}" in said.decode().replace("\r\n", "\n").splitlines()
