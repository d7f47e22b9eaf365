"""The Documents panel's Import… takes one .html (or .md, .pdf) file as one document, as a folder import would."""

from __future__ import annotations

from pathlib import Path

from tests.ui.test_corpus_panel import panel  # noqa: F401 - the fixture
from workbench.ui.panels.corpus_panel import FILE_FILTER


def test_the_file_dialog_offers_documents() -> None:
    for pattern in ("*.md", "*.html", "*.pdf"):
        assert pattern in FILE_FILTER.split(";;")[0]


def test_importing_an_html_file_gives_one_document_with_the_folder_metadata(panel, qtbot, tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "c.html"
    path.write_text("<html><body><h1>Bread</h1><p>Yeast rises.</p></body></html>", encoding="utf-8")
    with qtbot.waitSignal(panel.state.corpus_changed, timeout=10_000):
        panel.import_path(path)
    (document,) = panel.state.corpus.documents
    assert document.id == "c.html" and document.text == "Bread\nYeast rises."
    assert document.metadata["file_type"] == "html"
