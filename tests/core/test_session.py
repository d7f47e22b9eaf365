"""Workspaces: save → open gives the same state; bad files are refused whole; autosave and recovery; no secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.embedding import EmbeddingResult
from workbench.core.errors import Cancelled, InputError
from workbench.core.items import Item
from workbench.core.session import (
    FORMAT_VERSION,
    MANIFEST,
    Workspace,
    autosave_path,
    discard_autosave,
    load_workspace,
    read_manifest,
    recovery_files,
    save_workspace,
    write_autosave,
)

SPEC = EmbeddingSpec(provider="gemini", model="gemini-embedding-001", dim=8, document_task="RETRIEVAL_DOCUMENT")


def make_workspace() -> Workspace:
    docs = [Item.create(f"document {i}", metadata={"topic": "t" if i % 2 else "u", "n": i}) for i in range(5)]
    queries = [Item.create("which document?", "query", metadata={"topic": None})]
    stale = Item.create("embedded, then edited away")
    embedded = [*docs, stale, *queries]
    vectors = l2_normalise(np.random.default_rng(1).normal(size=(len(embedded), 8)))
    result = EmbeddingResult(embedded, vectors, SPEC, 8, encoded=4, from_cache=3)
    return Workspace(
        items=docs + queries,
        spec=SPEC,
        embedding=result,
        projection=np.random.default_rng(2).normal(size=(len(embedded), 2)).astype(np.float32),
        projection_note="UMAP, seed 0",
        clusters=np.array([0, 0, 1, 1, -1, 1, 0]),
        cluster_names={0: "odd ones", 1: "even ones"},
        subclusters=np.array([0, 1, 2, 2, -1, 2, 0]),
        subcluster_names={0: "first", 1: "second", 2: "the rest"},
        subcluster_parent={0: 0, 1: 0, 2: 1},
        cluster_assigned=np.array([False, False, False, True, False, False, False]),
        cluster_prompts={0: "Name these texts: …", 1: "Name those texts: …"},
        selection=[docs[1].id, queries[0].id],
        view={"point_size": 6, "colour_by": "topic", "api_key": "AIza-SECRET", "milvus": {"token": "tok-SECRET"}},
    )


def assert_same(a: Workspace, b: Workspace) -> None:
    assert a.items == b.items
    assert a.spec == b.spec
    assert a.embedding is not None and b.embedding is not None
    assert a.embedding.items == b.embedding.items
    np.testing.assert_array_equal(a.embedding.vectors, b.embedding.vectors)
    assert (a.embedding.spec, a.embedding.dim, a.embedding.encoded) == (b.embedding.spec, b.embedding.dim, 4)
    np.testing.assert_array_equal(a.projection, b.projection)
    np.testing.assert_array_equal(a.clusters, b.clusters)
    assert (a.projection_note, a.cluster_names, a.selection) == (b.projection_note, b.cluster_names, b.selection)
    np.testing.assert_array_equal(a.subclusters, b.subclusters)
    np.testing.assert_array_equal(a.cluster_assigned, b.cluster_assigned)
    assert (a.subcluster_names, a.subcluster_parent, a.cluster_prompts) == (
        b.subcluster_names, b.subcluster_parent, b.cluster_prompts)  # fmt: skip


def test_save_then_open_gives_the_same_state(tmp_path: Path) -> None:
    original = make_workspace()
    path = save_workspace(tmp_path / "w.workbench", original)
    opened = load_workspace(path)
    assert_same(opened, original)
    assert opened.view == {"point_size": 6, "colour_by": "topic", "milvus": {}}
    assert opened.items[0].metadata == {"topic": "u", "n": 0}
    assert opened.summary() == "5 documents, 1 query; 8-d vectors; 2-D layout; 2 clusters"


def test_items_written_and_read_in_batches_give_the_same_state(tmp_path: Path, monkeypatch) -> None:
    """A million items go through Arrow in batches (the GIL is let go between them): rows must stay in order."""
    from workbench.core import workspace_archive

    monkeypatch.setattr(workspace_archive, "ROWS_PER_BATCH", 2)  # 7 rows: 4 batches each way
    original = make_workspace()
    opened = load_workspace(save_workspace(tmp_path / "w.workbench", original))
    assert_same(opened, original)


def test_no_secret_is_ever_written(tmp_path: Path) -> None:
    path = save_workspace(tmp_path / "w.workbench", make_workspace())
    with zipfile.ZipFile(path) as archive:
        everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"SECRET" not in everything and b"SECRET" not in path.read_bytes()
    assert "api_key" not in json.dumps(read_manifest(path))


def test_items_are_read_from_an_arrow_buffer_not_a_python_file(tmp_path: Path, monkeypatch) -> None:
    """After reading Parquet from an io.BytesIO, pyarrow 26 aborted the interpreter at exit now and then
    ("terminate called without an active exception", apache/arrow#33975): a crash on quit after opening a file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from workbench.core import workspace_archive

    sources: list[object] = []
    real_read_table = pq.read_table

    def read_table(source, *args, **kwargs):
        sources.append(source)
        return real_read_table(source, *args, **kwargs)

    path = save_workspace(tmp_path / "w.workbench", make_workspace())
    monkeypatch.setattr(workspace_archive.pq, "read_table", read_table)
    assert load_workspace(path).items == make_workspace().items
    assert sources and all(isinstance(source, pa.NativeFile) for source in sources)


def test_an_empty_workspace_round_trips(tmp_path: Path) -> None:
    opened = load_workspace(save_workspace(tmp_path / "e.workbench", Workspace()))
    assert opened.items == [] and opened.embedding is None and opened.projection is None


def test_a_workspace_from_a_newer_version_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = save_workspace(tmp_path / "w.workbench", make_workspace())
    newer = tmp_path / "newer.workbench"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(newer, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == MANIFEST:
                manifest = json.loads(data)
                manifest.update(version=FORMAT_VERSION + 1, app_version="9.0")
                data = json.dumps(manifest).encode()
            target.writestr(name, data)
    with pytest.raises(InputError, match=r"newer\.workbench: saved by a newer Embedding Workbench \(9\.0.*Update"):
        load_workspace(newer)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95, 0.9999])
def test_a_truncated_workspace_is_refused(tmp_path: Path, keep: float) -> None:
    path = save_workspace(tmp_path / "w.workbench", make_workspace())
    data = path.read_bytes()
    cut = tmp_path / "cut.workbench"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(InputError, match=r"cut\.workbench: the workspace file is damaged or truncated"):
        load_workspace(cut)


def test_a_damaged_member_is_caught_by_its_checksum(tmp_path: Path) -> None:
    path = save_workspace(tmp_path / "w.workbench", make_workspace())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("vectors.npy")
    data = bytearray(path.read_bytes())
    data[info.header_offset + 200] ^= 0xFF  # a flipped bit inside the stored vectors
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="damaged or truncated"):
        load_workspace(path)


def test_other_files_are_not_workspaces(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"notes\.workbench: the workspace file is damaged"):
        load_workspace(tmp_path.joinpath("notes.workbench").write_text("hello") and tmp_path / "notes.workbench")
    other = tmp_path / "other.workbench"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hi")
    with pytest.raises(InputError, match="not an Embedding Workbench workspace"):
        load_workspace(other)
    with pytest.raises(InputError, match="no such file"):
        load_workspace(tmp_path / "missing.workbench")


def test_a_cancelled_save_keeps_the_previous_file(tmp_path: Path) -> None:
    path = save_workspace(tmp_path / "w.workbench", Workspace(items=[Item.create("first")]))
    with pytest.raises(Cancelled):
        save_workspace(path, make_workspace(), cancelled=lambda: True)
    assert [i.text for i in load_workspace(path).items] == ["first"]
    assert [p.name for p in tmp_path.iterdir()] == ["w.workbench"]


def test_autosave_and_recovery_discovery(workbench_home: Path) -> None:
    workspace = make_workspace()
    mine = write_autosave(workspace)
    assert mine == autosave_path() and mine.parent == workbench_home / "data" / "autosave"
    assert recovery_files() == []  # this run's own autosave is not offered
    # A run that crashed: its autosave carries the pid of a process that has exited.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    crashed = autosave_path(int(dead.stdout))
    os.replace(save_workspace(workbench_home / "tmp.workbench", workspace), crashed)
    (crashed.parent / f"autosave-{int(dead.stdout) + 1}.workbench").write_text("garbage")  # unreadable: skipped
    found = recovery_files()
    assert [f.path for f in found] == [crashed]
    assert found[0].summary == workspace.summary() and found[0].saved_at
    assert_same(load_workspace(found[0].path), workspace)
    discard_autosave(found[0].path)
    discard_autosave()
    assert not crashed.exists() and not mine.exists()
