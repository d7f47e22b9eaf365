"""Folder import: `read_folder` against the bare library calls it wraps, on a folder of .md, .html and .pdf files.

    python bench/folder_import.py [--quick]

Ours walks the folder, sniffs each file for binary bytes, decodes, extracts (BeautifulSoup for HTML, pypdf for
PDF), and builds items with path metadata and a report. The baseline reads the same files with the same libraries
and nothing else (`Path.read_text`, `BeautifulSoup(...).get_text()`, `PdfReader(...).pages[i].extract_text()`),
so the ratio is what our checks, metadata and items cost on top of the extraction itself.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import Row, best_seconds, emit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.core.folder_import import read_folder


def make_folder(root: Path, per_type: int) -> dict[str, list[Path]]:
    from fpdf import FPDF  # the test extra's PDF writer: pypdf reads but does not lay out text

    paths: dict[str, list[Path]] = {"md": [], "html": [], "pdf": []}
    for i in range(per_type):
        folder = root / f"part-{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        words = " ".join(f"word{j} about topic {i % 7}" for j in range(60))
        md = folder / f"note-{i}.md"
        md.write_text(f"# Note {i}\n\n{words}\n", encoding="utf-8")
        html = folder / f"page-{i}.html"
        html.write_text(
            f"<html><head><title>{i}</title><style>p{{}}</style></head><body><h1>Page {i}</h1><p>{words}</p>"
            f"<script>var n = {i};</script></body></html>",
            encoding="utf-8",
        )
        pdf = FPDF()
        pdf.set_font("helvetica", size=10)
        for page in range(2):
            pdf.add_page()
            pdf.multi_cell(0, 5, text=f"Page {page} of document {i}. {words}")
        pdf_path = folder / f"doc-{i}.pdf"
        pdf.output(str(pdf_path))
        paths["md"].append(md)
        paths["html"].append(html)
        paths["pdf"].append(pdf_path)
    return paths


def bare_extraction(paths: dict[str, list[Path]]) -> int:
    from bs4 import BeautifulSoup
    from pypdf import PdfReader

    chars = 0
    for path in paths["md"]:
        chars += len(path.read_text(encoding="utf-8"))
    for path in paths["html"]:
        chars += len(BeautifulSoup(path.read_bytes(), "html.parser").get_text("\n"))
    for path in paths["pdf"]:
        chars += sum(len(page.extract_text() or "") for page in PdfReader(path).pages)
    return chars


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = [60] if args.quick else [60, 600]
    rows = []
    for per_type in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "folder"
            paths = make_folder(root, per_type)
            read_folder(root)  # imports bs4 and pypdf once, outside the timings
            bare_extraction(paths)
            ours = best_seconds(lambda root=root: read_folder(root), 3)
            base = best_seconds(lambda paths=paths: bare_extraction(paths), 3)
            rows.append(Row("read_folder (.md .html .pdf)", f"{3 * per_type} files", ours, "bare read/bs4/pypdf", base))
    emit("Folder import (2-page PDFs, 60-word notes and pages)", rows)


if __name__ == "__main__":
    main()
