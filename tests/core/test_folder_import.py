"""Folder import: a folder of mixed files becomes one document per file, and every file without text is reported.

The PDFs are made here with fpdf2 (a maintained PDF writer; pypdf reads but cannot lay out text), so the text
layer pypdf reads back is real, and a page holding only a picture stands for a scanned document.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fpdf import FPDF

from workbench.core.errors import Cancelled, InputError
from workbench.core.folder_import import FOLDER_SUFFIXES, read_folder

PDF_TEXT = "Embeddings map each text to a point in space."


def text_pdf(path: Path, lines: list[str]) -> Path:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for line in lines:
        pdf.add_page()
        pdf.cell(text=line)
    pdf.output(str(path))
    return path


def scanned_pdf(path: Path) -> Path:
    """A page that holds only an image, as a scanner writes it: no text layer for pypdf to read."""
    from PIL import Image

    picture = path.with_suffix(".png")
    Image.new("RGB", (120, 40), "white").save(picture)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(str(picture), x=10, y=10, w=100)
    pdf.output(str(path))
    picture.unlink()
    return path


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    (root / "papers" / "2024").mkdir(parents=True)
    (root / "web").mkdir()
    (root / ".git").mkdir()
    text_pdf(root / "papers" / "2024" / "intro.pdf", [PDF_TEXT, "A second page about cosine similarity."])
    scanned_pdf(root / "papers" / "scan.pdf")
    (root / "readme.md").write_text("# Notes\n\nHow to **read** this folder.\n", encoding="utf-8")
    (root / "web" / "page.html").write_text(
        "<html><head><title>T</title><style>p{color:red}</style><script>var x = 1;</script></head>"
        "<body><h1>Café prices</h1><p>Coffee costs <b>three</b> euros.</p></body></html>",
        encoding="utf-8",
    )
    (root / "web" / "latin1.html").write_bytes(
        b'<html><head><meta charset="iso-8859-1"></head><body><p>Cr\xe8me br\xfbl\xe9e</p></body></html>'
    )
    (root / "plain.txt").write_text("First line.\nSecond line of the same document.\n", encoding="utf-8")
    (root / "empty.txt").write_bytes(b"")
    (root / "blank.md").write_text("  \n\n \t\n", encoding="utf-8")
    (root / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (root / "bad-utf8.txt").write_bytes(b"ok line\nbroken \xff\xfe here\n")
    (root / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (root / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / ".DS_Store").write_bytes(b"\0\0\0")
    (root / ".git" / "config").write_text("[core]\n", encoding="utf-8")
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    os.utime(root / "readme.md", (1_700_000_000, 1_700_000_000))
    return root


def test_a_mixed_folder_imports_one_document_per_file_and_reports_every_skip(mixed_folder: Path) -> None:
    items, report = read_folder(mixed_folder)
    by_id = {item.id: item for item in items}
    assert list(by_id) == sorted(by_id)  # relative paths, in path order
    assert set(by_id) == {"papers/2024/intro.pdf", "readme.md", "web/page.html", "web/latin1.html", "plain.txt"}

    pdf = by_id["papers/2024/intro.pdf"]
    assert PDF_TEXT in pdf.text and "cosine similarity" in pdf.text
    assert pdf.metadata["folder"] == "papers/2024" and pdf.metadata["top_folder"] == "papers"
    assert pdf.metadata["file_type"] == "pdf" and pdf.metadata["file_name"] == "intro.pdf"

    html = by_id["web/page.html"].text
    assert "Café prices" in html and "Coffee costs" in html and "three" in html
    assert "var x" not in html and "color:red" not in html  # script and style are not text
    assert by_id["web/latin1.html"].text == "Crème brûlée"  # the declared charset was honoured

    readme = by_id["readme.md"]
    assert readme.text.startswith("# Notes") and readme.metadata["top_folder"] == "" and readme.metadata["folder"] == ""
    assert readme.metadata["modified"] == "2023-11-14T22:13:20+00:00"
    assert by_id["plain.txt"].text == "First line.\nSecond line of the same document."  # one document, not lines

    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == {"papers/scan.pdf", "empty.txt", "blank.md", "binary.txt", "bad-utf8.txt", "broken.pdf"}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["blank.md"].startswith("no text")
    assert reasons["binary.txt"].startswith("binary file")
    assert reasons["bad-utf8.txt"].startswith("not valid UTF-8 (line 2, byte 15)")
    assert reasons["broken.pdf"].startswith("not a readable PDF")
    assert reasons["papers/scan.pdf"].startswith("PDF without a text layer (1 page")
    assert report.no_text_layer == ["papers/scan.pdf"]
    assert report.kept == 5 and report.other_types == {".png": 1} and report.hidden == 2  # .DS_Store and .git
    summary = report.summary()
    assert "5 documents from notes" in summary and "6 files skipped" in summary and "1 PDF need OCR" in summary
    assert "1 other file ignored (.png 1)" in summary and "2 hidden files/folders ignored" in summary
    assert "binary.txt: binary file (it contains NUL bytes), not text" in report.details()


def test_replace_imports_undecodable_text_with_replacement_characters(mixed_folder: Path) -> None:
    items, report = read_folder(mixed_folder, encoding_errors="replace")
    by_id = {item.id: item for item in items}
    assert "\ufffd" in by_id["bad-utf8.txt"].text
    assert "bad-utf8.txt" not in {s.path for s in report.skipped}


def test_ids_and_metadata_are_stable_across_runs_and_kinds_are_honoured(mixed_folder: Path) -> None:
    first, _ = read_folder(mixed_folder)
    second, _ = read_folder(mixed_folder, kind="query")
    assert [i.id for i in first] == [i.id for i in second]
    assert [i.metadata for i in first] == [i.metadata for i in second]
    assert {i.kind for i in second} == {"query"}


def test_a_folder_without_any_text_is_an_input_error_that_says_why(tmp_path: Path) -> None:
    (tmp_path / "empty.md").write_bytes(b"")
    scanned_pdf(tmp_path / "scan.pdf")
    with pytest.raises(InputError) as error:
        read_folder(tmp_path)
    message = str(error.value)
    assert "no .md, .txt, .html or .pdf file with text" in message
    assert "empty.md: empty file" in message and "scan.pdf: PDF without a text layer" in message


def test_a_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such folder"):
        read_folder(tmp_path / "nowhere")


def test_progress_counts_files_and_cancel_stops_between_files(mixed_folder: Path) -> None:
    seen: list[tuple[int, int]] = []
    read_folder(mixed_folder, progress=lambda done, total: seen.append((done, total)))
    readable = [p for p in mixed_folder.rglob("*") if p.suffix in FOLDER_SUFFIXES and ".git" not in p.parts]
    assert seen[-1] == (len(readable), len(readable))
    with pytest.raises(Cancelled):
        read_folder(mixed_folder, cancelled=lambda: True)
