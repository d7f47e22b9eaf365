"""A single .md, .html or .pdf file imports as one document, read exactly as a folder import reads it (a new user
could import a folder of them but not one of them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.test_folder_import import PDF_TEXT, scanned_pdf, text_pdf
from workbench.core.errors import InputError
from workbench.core.folder_import import FOLDER_SUFFIXES, read_folder
from workbench.core.importers import READERS, ImportOptions, read_items


@pytest.fixture
def documents(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "notes.md").write_text("# Notes\n\nCats and dogs.\n\nA second paragraph.\n", encoding="utf-8")
    (root / "page.html").write_text(
        "<html><head><style>p{}</style></head><body><h1>Bread</h1><p>Yeast <b>rises</b>.</p></body></html>",
        encoding="utf-8",
    )
    text_pdf(root / "paper.pdf", [PDF_TEXT, "Page two."])
    return root


def test_every_suffix_a_folder_import_reads_is_importable_as_a_file() -> None:
    assert set(FOLDER_SUFFIXES) <= set(READERS)


@pytest.mark.parametrize("name", ["notes.md", "page.html", "paper.pdf"])
def test_one_file_gives_the_document_a_folder_import_gives(documents: Path, name: str) -> None:
    folder_items, _ = read_folder(documents)
    from_folder = next(item for item in folder_items if item.id == name)
    items, report = read_items(documents / name, ImportOptions(kind="document"))
    assert report.kept == 1 and len(items) == 1
    (item,) = items
    assert item.id == name and item.kind == "document"
    assert item.text == from_folder.text and item.metadata == from_folder.metadata


def test_a_single_markdown_file_is_one_document_not_one_item_per_line(documents: Path) -> None:
    (item,), _ = read_items(documents / "notes.md")
    assert "Cats and dogs." in item.text and "A second paragraph." in item.text


def test_the_kind_is_honoured(documents: Path) -> None:
    (item,), _ = read_items(documents / "page.html", ImportOptions(kind="query"))
    assert item.kind == "query"


def test_a_file_without_text_says_why(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="PDF without a text layer"):
        read_items(scanned_pdf(tmp_path / "scan.pdf"))
    broken = tmp_path / "broken.pdf"
    broken.write_text("not a pdf at all", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.pdf: not a readable PDF"):
        read_items(broken)
