"""Bad input and faults, each a test: the app says what happened and keeps everything it had."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest

from tests.fakes.fake_gemini import FakeGemini, Fault
from workbench.core.cache import EmbeddingCache
from workbench.core.embedders.base import EmbeddingSpec
from workbench.core.embedders.gemini import GeminiEmbedder, RetryPolicy
from workbench.core.embedding import embed_items
from workbench.core.errors import InputError, ServiceError
from workbench.core.importers import read_items
from workbench.core.items import Item
from workbench.core.milvus import MilvusTarget, open_milvus
from workbench.core.session import Workspace, load_workspace, save_workspace


def _paste(qtbot, panel, text: str) -> None:
    with qtbot.waitSignal(panel.state.corpus_changed, timeout=60_000):
        panel.editor.setPlainText(text)
        panel.parse_now()


def test_empty_and_whitespace_only_items_leave_embed_disabled(window, qtbot) -> None:
    _paste(qtbot, window.documents_panel, "   \n\t\n\n  ")
    assert len(window.state.corpus) == 0
    assert not window.embed_action.isEnabled()
    assert "Nothing to embed" in window.embed_action.toolTip()


def test_100000_items_pasted_at_once_parse_off_the_gui_thread(window, qtbot) -> None:
    text = "\n".join(f"pasted line number {i}" for i in range(100_000))
    _paste(qtbot, window.documents_panel, text)
    assert len(window.state.corpus.documents) == 100_000
    assert window.documents_panel.count.text().startswith("100000 documents")
    assert window.embed_action.isEnabled()


def test_a_5_mb_document_embeds_and_the_model_truncates_it(local_embedder) -> None:
    huge = "word " * 1_000_000  # 5 MB
    result = embed_items([Item.create(huge), Item.create("a short one")], local_embedder, EmbeddingCache())
    assert result.vectors.shape == (2, 384) and np.isfinite(result.vectors).all()


def test_binary_garbage_in_a_txt_is_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "garbage.txt"
    path.write_bytes(b"fine line\n" + os.urandom(512) + b"\xff\xfe\x00")
    with pytest.raises(InputError) as error:
        read_items(path)
    assert "garbage.txt" in str(error.value) and "UTF-8" in str(error.value)


def test_nan_vectors_are_refused_before_milvus(tmp_path: Path) -> None:
    vectors = np.ones((2, 4), np.float32) / 2
    vectors[1, 2] = np.nan
    items = [Item.create("ok"), Item.create("bad")]
    with open_milvus(MilvusTarget(str(tmp_path / "m.db"))) as db, pytest.raises(InputError, match="NaN"):
        db.push("c", items, vectors, EmbeddingSpec())


def test_a_corrupt_milvus_file_is_a_clear_message(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(os.urandom(4096))
    with pytest.raises(ServiceError) as error, open_milvus(MilvusTarget(str(corrupt))) as db:
        db.list_collections()
    assert "corrupt.db" in str(error.value) and "damaged" in str(error.value)


def test_a_full_disk_while_saving_keeps_the_previous_workspace(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "mine.workbench"
    first = Workspace(items=[Item.create("kept")])
    save_workspace(path, first)
    before = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    monkeypatch.setattr(Path, "replace", disk_full)
    with pytest.raises((OSError, InputError, ServiceError)):
        save_workspace(path, Workspace(items=[Item.create("new")]))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [i.text for i in load_workspace(path).items] == ["kept"]


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault(drop=True), "Cannot reach Gemini"),
        (Fault(wrong_count=True), "embeddings for"),
        (Fault(wrong_dim=True), "-d vectors where"),
    ],
)
def test_a_misbehaving_gemini_server_keeps_what_was_done(fault: Fault, expected: str) -> None:
    with FakeGemini() as server:
        embedder = GeminiEmbedder(api_key="k", dim=64, base_url=server.base_url, retry=RetryPolicy(1, 0.001))
        embedder.max_concurrency = 1
        cache = EmbeddingCache()
        items = [Item.create(f"text {i}") for i in range(150)]
        server.fail_next(Fault(), fault)  # the first batch of 100 succeeds, the second misbehaves
        with pytest.raises(ServiceError, match=expected):
            embed_items(items, embedder, cache)
        assert cache.count() == 100
        again = embed_items(items, embedder, cache)
        assert again.from_cache == 100 and again.encoded == 50
