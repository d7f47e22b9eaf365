"""Documents / Queries panels (import button, dialog, drag-and-drop, bad files) and the File menu's workspaces."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.embedding import EmbeddingResult
from workbench.core.importers import ImportOptions, read_items
from workbench.core.items import Item
from workbench.core.session import autosave_path, load_workspace, read_manifest, save_workspace
from workbench.ui.main_window import RESOURCES


@pytest.fixture
def panel(qtbot):
    from workbench.ui.panels.corpus_panel import CorpusPanel
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    state, runner = AppState(), TaskRunner()
    widget = CorpusPanel(state, runner, "document")
    qtbot.addWidget(widget)
    widget.show()
    started: list[str] = []
    runner.task_started.connect(lambda key, label: started.append(key))
    widget.started = started  # type: ignore[attr-defined]
    yield widget
    runner.cancel_all()
    runner.wait_for_done(10_000)


def _paste(qtbot, panel, text: str) -> None:
    with qtbot.waitSignal(panel.state.corpus_changed, timeout=10_000):
        panel.editor.setPlainText(text)
        panel.parse_now()


def test_import_a_txt_file_off_the_gui_thread_with_a_count_line(panel, qtbot, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("first\n\n\nsecond\r\nthird\n", "utf-8")
    with qtbot.waitSignal(panel.state.corpus_changed, timeout=10_000):
        panel.import_path(path)
    assert "import-document" in panel.started  # through the TaskRunner
    assert [i.text for i in panel.state.corpus.documents] == ["first", "second", "third"]
    assert panel.count.text() == "3 documents; 2 empty dropped"
    assert panel.editor.toPlainText() == "first\nsecond\nthird"
    assert "Imported 3 documents from notes.txt" in panel.messages.text()


def test_import_a_csv_choosing_text_id_and_metadata_columns_in_the_dialog(panel, qtbot, tmp_path: Path) -> None:
    path = tmp_path / "papers.csv"
    path.write_text("key;body;author;year\nk1;Deep nets, again;ann;2020\nk2;;bob;2021\nk3;Shallow nets;cy;2022\n")
    panel.import_path(path)
    qtbot.waitUntil(lambda: panel.import_dialog is not None and panel.import_dialog.isVisible(), timeout=10_000)
    dialog = panel.import_dialog
    assert dialog.text_column.currentText() == "body"  # guessed
    assert dialog.table.rowCount() == 3 and dialog.table.item(0, 1).text() == "Deep nets, again"
    dialog.id_column.setCurrentText("key")
    dialog.set_metadata(["year"])
    with qtbot.waitSignal(panel.state.corpus_changed, timeout=10_000):
        dialog.accept()
    items = panel.state.corpus.documents
    assert [(i.id, i.text, dict(i.metadata)) for i in items] == [
        ("k1", "Deep nets, again", {"year": "2020"}),
        ("k3", "Shallow nets", {"year": "2022"}),
    ]
    assert panel.count.text() == "2 documents; 1 empty dropped"


def _ticked(dialog) -> list[str]:
    rows = [dialog.metadata.item(row) for row in range(dialog.metadata.count())]
    return [entry.data(Qt.ItemDataRole.UserRole) for entry in rows if entry.checkState() == Qt.CheckState.Checked]


def test_the_import_dialog_proposes_a_unique_column_as_id_and_never_ticks_text_or_id(panel, qtbot, tmp_path) -> None:
    path = tmp_path / "packages.csv"
    rows = [f"MIT,numpy{n},Arrays and more {n},{n % 2}" for n in range(30)]
    path.write_text("licence,package,summary,stars\n" + "\n".join(rows) + "\n")
    panel.import_path(path)
    qtbot.waitUntil(lambda: panel.import_dialog is not None and panel.import_dialog.isVisible(), timeout=10_000)
    dialog = panel.import_dialog
    assert (dialog.text_column.currentText(), dialog.id_column.currentText()) == ("summary", "package")
    assert dialog.id_note.isVisible() and "unique and non-empty in all 30 rows" in dialog.id_note.text()
    assert dialog.id_column.toolTip() == dialog.id_note.text()
    assert _ticked(dialog) == ["licence", "stars"]  # neither the text nor the id
    dialog.id_column.setCurrentIndex(0)  # a content hash: package is free again, so metadata again
    assert _ticked(dialog) == ["licence", "package", "stars"] and not dialog.id_note.isVisible()
    dialog.text_column.setCurrentText("licence")  # picked as the text: unticked; summary released
    assert _ticked(dialog) == ["package", "summary", "stars"]
    dialog.text_column.setCurrentText("summary")
    dialog.id_column.setCurrentText("package")
    assert _ticked(dialog) == ["licence", "stars"] and dialog.id_note.isVisible()
    with qtbot.waitSignal(panel.state.corpus_changed, timeout=10_000):
        dialog.accept()  # the defaults as proposed
    items = panel.state.corpus.documents
    assert len(items) == 30 and (items[3].id, items[3].text) == ("numpy3", "Arrays and more 3")
    assert items[3].metadata == {"licence": "MIT", "stars": "1"}


def test_the_import_dialog_proposes_a_content_hash_when_no_column_is_unique(panel, qtbot, tmp_path) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_text('{"text": "one", "tag": "a"}\n{"text": "two", "tag": "a"}\n')
    panel.import_path(path)
    qtbot.waitUntil(lambda: panel.import_dialog is not None and panel.import_dialog.isVisible(), timeout=10_000)
    dialog = panel.import_dialog
    assert dialog.id_column.currentIndex() == 0 and "hash" in dialog.id_note.text()
    assert _ticked(dialog) == ["tag"]


def test_import_adds_to_what_is_there_and_queries_stay_queries(qtbot, window, tmp_path: Path) -> None:
    _paste(qtbot, window.queries_panel, "typed query")
    path = tmp_path / "q.jsonl"
    path.write_text('{"text": "imported query", "lang": "en"}\n{"text": "typed query"}\n')
    with qtbot.waitSignal(window.state.corpus_changed, timeout=10_000):
        window.queries_panel.import_path(path, ImportOptions(column="text"))
    assert [(i.text, i.kind) for i in window.state.corpus.queries] == [
        ("typed query", "query"),
        ("imported query", "query"),
    ]
    assert window.queries_panel.count.text() == "2 queries; 1 duplicate collapsed"
    assert window.state.corpus.documents == []


@pytest.mark.parametrize(
    ("name", "body", "options", "message"),
    [
        ("empty.csv", "", None, "empty.csv: the file is empty"),
        ("cols.csv", "title,topic\nx,y\n", ImportOptions(column="body"), "cols.csv: header: no column 'body'"),
        ("rows.tsv", "text\tn\na\t1\nb\t2\t3\n", ImportOptions(), "rows.tsv: line 3: 3 fields where the header has 2"),
        ("big.docx", "x", None, "big.docx: cannot import a '.docx' file"),
    ],
)
def test_a_bad_file_is_a_message_and_nothing_loaded_is_lost(panel, qtbot, tmp_path, name, body, options, message):
    _paste(qtbot, panel, "kept one\nkept two")
    before = list(panel.state.corpus.items)
    path = tmp_path / name
    path.write_text(body)
    panel.import_path(path, options)
    qtbot.waitUntil(lambda: panel.messages.level == "error", timeout=10_000)
    assert message in panel.messages.text()
    assert panel.state.corpus.items == before
    assert panel.count.text() == "2 documents"


def test_invalid_utf8_says_where_and_offers_to_replace(panel, qtbot, tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"ok\ncaf\xe9 noir\n")
    panel.import_path(path)
    qtbot.waitUntil(lambda: panel.messages.level == "error", timeout=10_000)
    assert "latin1.txt: line 2, byte 6: not valid UTF-8" in panel.messages.text()
    assert panel.replace_button.isVisible() and panel.state.corpus.items == []
    with qtbot.waitSignal(panel.state.corpus_changed, timeout=10_000):
        qtbot.mouseClick(panel.replace_button, Qt.MouseButton.LeftButton)
    assert [i.text for i in panel.state.corpus.documents] == ["ok", "caf\ufffd noir"]
    assert not panel.replace_button.isVisible()


def test_a_cancelled_import_changes_nothing(panel, qtbot, tmp_path: Path) -> None:
    _paste(qtbot, panel, "already here")
    path = tmp_path / "large.csv"
    path.write_text("text\n" + "".join(f"line {i}\n" for i in range(20_000)))
    panel.import_path(path, ImportOptions())
    panel.runner.cancel(panel.import_key)
    qtbot.waitUntil(lambda: panel.messages.level == "error", timeout=10_000)
    assert "cancelled; nothing changed" in panel.messages.text()
    assert [i.text for i in panel.state.corpus.documents] == ["already here"]


def _drop_event(paths: list[Path]) -> QDropEvent:
    """A drop as the window system delivers it (QApplication.sendEvent drops it without a real drag in progress)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    event.mime = mime  # keep the data alive as long as the event
    return event


def test_drag_and_drop_a_file_onto_the_panel_or_its_editor(panel, qtbot, tmp_path: Path) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.jsonl"
    first.write_text("dropped on the panel\n")
    second.write_text('{"text": "dropped on the editor", "n": 1}\n')
    with qtbot.waitSignal(panel.state.corpus_changed, timeout=10_000):
        panel.dropEvent(_drop_event([first]))
    panel.import_dialog = None
    assert panel.eventFilter(panel.editor.viewport(), _drop_event([second]))  # consumed: no URL pasted
    qtbot.waitUntil(lambda: panel.import_dialog is not None, timeout=10_000)
    with qtbot.waitSignal(panel.state.corpus_changed, timeout=10_000):
        panel.import_dialog.accept()
    assert [i.text for i in panel.state.corpus.documents] == ["dropped on the panel", "dropped on the editor"]
    assert panel.state.corpus.documents[1].metadata == {"n": 1}
    assert panel.editor.toPlainText() == "dropped on the panel\ndropped on the editor"  # no file URL pasted


def test_a_huge_import_shows_a_read_only_preview_and_clear_starts_over(panel, qtbot, tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    path.write_text("".join(json.dumps({"text": f"{i} " + "x" * 3000}) + "\n" for i in range(1000)))
    with qtbot.waitSignal(panel.state.corpus_changed, timeout=20_000):
        panel.import_path(path, ImportOptions())
    assert len(panel.state.corpus.documents) == 1000
    assert panel.editor.isReadOnly() and len(panel.editor.toPlainText()) < 1_000_000
    assert "Imported 1000 documents from huge.jsonl; too large to edit here" in panel.messages.text()
    with qtbot.waitSignal(panel.state.corpus_changed, timeout=10_000):
        qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert panel.state.corpus.items == [] and not panel.editor.isReadOnly()


# -- workspaces through the File menu ------------------------------------------------------------------------
def _fill(window) -> None:
    window.sample_action.trigger()
    items = list(window.state.corpus.items)
    vectors = l2_normalise(np.random.default_rng(0).normal(size=(len(items), 384)))
    spec = EmbeddingSpec()
    layout = np.random.default_rng(1).normal(size=(len(items), 2))  # arrives with its vectors, as from a workspace
    window.state.set_embedding(EmbeddingResult(items, vectors, spec, 384, len(items), 0), layout, "PCA (test)")
    window.state.set_clusters(np.arange(len(items)) % 3, {0: "zero", 1: "one", 2: "two"})
    window.state.set_selection([items[2].id])
    window.state.set_credentials("AIza-NEVER-WRITTEN", None)


def test_save_then_open_restores_the_view_without_embedding_or_projecting(qtbot, window, tmp_path: Path) -> None:
    from workbench.ui.main_window import MainWindow
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    _fill(window)
    path = tmp_path / "mine.workbench"
    window.file_actions.save_to(path)
    qtbot.waitUntil(lambda: "Saved mine.workbench" in window.file_actions.last_message, timeout=20_000)
    assert b"NEVER-WRITTEN" not in path.read_bytes()

    state, runner = AppState(), TaskRunner()
    other = MainWindow(state, runner, window.cache)
    qtbot.addWidget(other)
    started: list[str] = []
    runner.task_started.connect(lambda key, label: started.append(key))
    with qtbot.waitSignal(state.projection_changed, timeout=20_000):
        other.file_actions.open(path)
    runner.wait_for_done(10_000)
    assert started == ["workspace-open", "query-neighbours"]  # no embed, no layout: only the query lines' ends
    original = window.state
    assert state.corpus.items == original.corpus.items
    assert state.embedding.items == original.embedding.items
    np.testing.assert_array_equal(state.embedding.vectors, original.embedding.vectors)
    np.testing.assert_array_equal(state.projection, original.projection)
    np.testing.assert_array_equal(state.clusters, original.clusters)
    assert state.cluster_names == original.cluster_names and state.selection == original.selection
    assert state.projection_note == "PCA (test)" and state.api_key is None
    assert "mine.workbench" in other.windowTitle()
    assert other.documents_panel.count.text() == "40 documents"


@pytest.mark.parametrize("damage", ["truncated", "newer"])
def test_a_bad_workspace_is_refused_and_what_is_loaded_stays(qtbot, window, tmp_path: Path, damage: str) -> None:
    _fill(window)
    good = save_workspace(tmp_path / "good.workbench", window.file_actions.snapshot())
    bad = tmp_path / "bad.workbench"
    if damage == "truncated":
        bad.write_bytes(good.read_bytes()[:-100])
    else:
        with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
            for name in source.namelist():
                data = source.read(name)
                if name == "manifest.json":
                    data = json.dumps({**json.loads(data), "version": 99}).encode()
                target.writestr(name, data)
    before_items, before_vectors = list(window.state.corpus.items), window.state.embedding.vectors
    window.file_actions.open(bad)
    qtbot.waitUntil(lambda: "bad.workbench" in window.file_actions.last_message, timeout=10_000)
    expected = "damaged or truncated" if damage == "truncated" else "newer Embedding Workbench"
    assert expected in window.file_actions.last_message
    assert window.state.corpus.items == before_items and window.state.embedding.vectors is before_vectors
    assert window.state.projection is not None


def test_export_from_the_file_menu_writes_vectors_with_layout_and_clusters(qtbot, window, tmp_path: Path) -> None:
    assert not window.file_actions.export_action.isEnabled()
    _fill(window)
    assert window.file_actions.export_action.isEnabled()
    window.file_actions.export(tmp_path / "out.csv")
    qtbot.waitUntil(lambda: "Exported" in window.file_actions.last_message, timeout=20_000)
    from workbench.core.exports import read_export

    table = read_export(tmp_path / "out.csv")
    assert len(table.items) == 46 and table.vectors.shape == (46, 384)
    np.testing.assert_allclose(table.derived["x"], window.state.projection[:, 0], rtol=1e-6)
    assert list(table.derived["cluster_name"][:3]) == ["zero", "one", "two"]


def test_autosave_writes_only_after_a_change_and_a_clean_exit_removes_it(qtbot, window) -> None:
    window.file_actions.autosave_now()
    assert not autosave_path().exists()  # nothing to save yet
    window.sample_action.trigger()
    window.file_actions.autosave_now()
    qtbot.waitUntil(autosave_path().exists, timeout=10_000)
    qtbot.waitUntil(lambda: not window.runner.is_running("autosave"), timeout=10_000)
    assert len(load_workspace(autosave_path()).items) == 46
    assert window.file_actions.autosave_timer.interval() == 60_000
    window.file_actions.shutdown()
    assert not autosave_path().exists()


def test_recovery_is_offered_at_start_after_a_crash(qtbot, tmp_path: Path) -> None:
    from workbench.core.cache import EmbeddingCache
    from workbench.ui.main_window import MainWindow
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    dead_pid = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True).stdout)
    crashed = autosave_path(dead_pid)
    save_workspace(crashed, _workspace_with_one_document())
    assert read_manifest(crashed)["summary"].startswith("1 document")
    state, runner = AppState(), TaskRunner()
    window = MainWindow(state, runner, EmbeddingCache())
    qtbot.addWidget(window)
    asked: list[str] = []
    window.file_actions.ask_recovery = lambda found: asked.append(found.summary) or "restore"
    qtbot.waitUntil(lambda: [i.text for i in state.corpus.items] == ["recovered text"], timeout=10_000)
    assert asked == ["1 document, 0 queries"]
    qtbot.waitUntil(lambda: not crashed.exists() and autosave_path().exists(), timeout=10_000)
    runner.wait_for_done(10_000)


def _workspace_with_one_document():
    from workbench.core.session import Workspace

    return Workspace(items=[Item.create("recovered text")])


def test_import_folder_reads_files_off_the_gui_thread_and_shows_what_was_skipped(panel, qtbot, tmp_path: Path) -> None:
    from tests.core.test_folder_import import scanned_pdf, text_pdf

    folder = tmp_path / "notes"
    (folder / "sub").mkdir(parents=True)
    text_pdf(folder / "sub" / "paper.pdf", ["A paper about vectors."])
    scanned_pdf(folder / "scan.pdf")
    (folder / "a.md").write_text("# A\nalpha", "utf-8")
    (folder / "empty.txt").write_bytes(b"")
    with qtbot.waitSignal(panel.state.corpus_changed, timeout=10_000):
        panel.import_folder(folder)
    assert "import-document" in panel.started  # through the TaskRunner
    assert [i.id for i in panel.state.corpus.documents] == ["a.md", "sub/paper.pdf"]
    assert panel.state.corpus.documents[1].metadata["folder"] == "sub"
    assert panel.messages.level == "warning"
    shown = panel.messages.text()
    assert shown.startswith("Imported 2 documents from notes; 2 files skipped; 1 PDF need OCR")
    assert shown.endswith("need OCR.") and "Hover" not in shown
    assert panel.details_button.isVisible()  # the reasons are one click away, not only in a tooltip
    panel.details_button.click()
    why = panel.report_dialog.listing.toPlainText()
    assert "empty.txt: empty file" in why and "scan.pdf: PDF without a text layer" in why
    assert panel.report_dialog.isVisible() and panel.report_dialog.reimport is None  # no file had invalid bytes
    panel.report_dialog.reject()


def test_folder_import_details_list_each_skipped_file_and_reimport_replacing_invalid_bytes(
    panel, qtbot, tmp_path: Path
) -> None:
    (tmp_path / "good.txt").write_text("fine text", "utf-8")
    (tmp_path / "latin.txt").write_bytes(b"caf\xe9 au lait")
    (tmp_path / "empty.md").write_bytes(b"")
    with qtbot.waitSignal(panel.state.corpus_changed, timeout=10_000):
        panel.import_folder(tmp_path)
    assert [i.id for i in panel.state.corpus.documents] == ["good.txt"]
    panel.details_button.click()
    lines = panel.report_dialog.listing.toPlainText().splitlines()
    assert lines == ["empty.md: empty file", "latin.txt: not valid UTF-8 (line 1, byte 3); convert it to UTF-8"]
    assert panel.report_dialog.reimport.text() == "Re-import, replacing invalid bytes (1 file)"
    with qtbot.waitSignal(panel.state.corpus_changed, timeout=10_000):
        panel.report_dialog.reimport.click()
    assert not panel.report_dialog.isVisible()
    documents = {i.id: i.text for i in panel.state.corpus.documents}
    assert documents == {"good.txt": "fine text", "latin.txt": "caf\ufffd au lait"}  # good.txt not twice
    assert "1 file skipped" in panel.messages.text()  # the empty file still is, and says so


def test_a_folder_without_text_is_an_error_and_changes_nothing(panel, qtbot, tmp_path: Path) -> None:
    _paste(qtbot, panel, "kept")
    (tmp_path / "empty.md").write_bytes(b"")
    with qtbot.waitSignal(panel.runner.task_finished, timeout=10_000):
        panel.import_folder(tmp_path)
    assert [i.text for i in panel.state.corpus.documents] == ["kept"]
    assert panel.messages.level == "error" and "empty.md: empty file" in panel.messages.text()


def test_file_menu_import_folder_fills_the_documents_panel(window, qtbot, tmp_path: Path, monkeypatch) -> None:
    from PySide6.QtWidgets import QFileDialog

    (tmp_path / "a.md").write_text("# Alpha\nfirst note", "utf-8")
    (tmp_path / "b.html").write_text("<p>second note</p>", "utf-8")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(tmp_path))
    assert window.import_folder_action in window.menuBar().actions()[0].menu().actions()
    with qtbot.waitSignal(window.state.corpus_changed, timeout=10_000):
        window.import_folder_action.trigger()
    assert [(i.id, i.text) for i in window.state.corpus.documents] == [("a.md", "# Alpha\nfirst note"),
                                                                       ("b.html", "second note")]  # fmt: skip
    assert window.documents_panel.messages.text().startswith("Imported 2 documents from")


def test_typing_cannot_split_or_rename_imported_files(panel, qtbot, tmp_path: Path, monkeypatch) -> None:
    """A folder's documents are named by path and may hold blank lines: re-reading the editor's text would split
    them and give them hash ids, so the editor is read-only for them (Clear to paste anew) and nothing is lost.
    (Checked in a task here, as for a big import: the check's threshold is set to 0.)"""
    monkeypatch.setattr("workbench.ui.panels.corpus_panel._CHECK_ON_GUI_CHARS", 0)
    (tmp_path / "a.md").write_text("# Title\n\nSome markdown about cats.", "utf-8")
    (tmp_path / "b.txt").write_text("One line.", "utf-8")
    with qtbot.waitSignal(panel.state.corpus_changed, timeout=10_000):
        panel.import_folder(tmp_path)
    imported = [(i.id, i.text) for i in panel.state.corpus.documents]
    assert imported == [("a.md", "# Title\n\nSome markdown about cats."), ("b.txt", "One line.")]
    qtbot.waitUntil(lambda: not panel.runner.is_running("check-document"), timeout=10_000)  # checked off the GUI
    assert "check-document" in panel.started and panel.editor.isReadOnly()
    qtbot.keyClicks(panel.editor, "A new note I typed.")
    panel.parse_now()
    qtbot.wait(200)
    assert [(i.id, i.text) for i in panel.state.corpus.documents] == imported
    panel.clear_items()
    assert not panel.editor.isReadOnly()


def test_the_sample_corpus_stays_editable(panel, qtbot) -> None:
    """The sample corpus' ids are made by the app from each item (no id column) and each text is one line: an edit
    loses only the metadata, which the strip says, so a newcomer can still type in it."""
    documents, _ = read_items(RESOURCES / "sample_documents.jsonl", ImportOptions(kind="document"))
    with qtbot.waitSignal(panel.state.corpus_changed, timeout=10_000):
        panel.state.set_items("document", documents)
    assert not panel.editor.isReadOnly()  # small: checked at once, without a task
    assert panel.messages.text().startswith("Loaded with metadata")


def test_a_big_corpus_set_from_outside_is_shown_as_a_preview_worked_out_off_the_gui_thread(panel, qtbot, monkeypatch):
    """A workspace or import of more than _PREVIEW_ITEMS items: every pass over them runs in a task, and the editor
    shows the first ones read-only (laying out every line would freeze Qt)."""
    import threading

    import workbench.ui.panels.corpus_panel as corpus_panel

    on_gui: list[bool] = []
    real = corpus_panel.editor_text

    def recording(items):
        on_gui.append(threading.current_thread() is threading.main_thread())
        return real(items)

    monkeypatch.setattr(corpus_panel, "editor_text", recording)
    monkeypatch.setattr(corpus_panel, "_PREVIEW_ITEMS", 40)
    items = [Item(f"d{k}", f"document number {k}", "document", {}) for k in range(100)]
    panel.state.set_items("document", items)
    assert panel.editor.isReadOnly() and panel.count.text() == "Showing 100 documents…"
    qtbot.waitUntil(lambda: "showing a preview" in panel.messages.text(), timeout=10_000)
    assert on_gui == [False]
    lines = panel.editor.toPlainText().splitlines()
    assert lines[:2] == ["document number 0", "document number 1"] and lines[-1] == "… and 90 more"
    assert panel.editor.isReadOnly() and [i.id for i in panel.state.corpus.documents] == [i.id for i in items]
    panel.state.set_items("document", items[:5])  # a small corpus: shown at once, editable
    assert on_gui == [False, True] and panel.editor.toPlainText().splitlines()[-1] == "document number 4"
