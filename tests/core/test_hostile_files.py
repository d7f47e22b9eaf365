"""Property-based: whatever bytes or manifest a workspace file holds, and whatever rows an import file holds,
opening it gives a correct result or a clear InputError, never another exception (issue 14)."""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.errors import InputError
from workbench.core.importers import ImportOptions, read_items
from workbench.core.session import load_workspace, read_manifest

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
MANIFEST_KEYS = ("members", "spec", "embedding", "selection", "cluster_names", "view", "projection_note", "saved_at")


def opens_or_refuses(path: Path) -> None:
    for read in (read_manifest, load_workspace):
        with contextlib.suppress(InputError):
            read(path)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> bytes:
    import numpy as np

    from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
    from workbench.core.embedding import EmbeddingResult
    from workbench.core.items import Item
    from workbench.core.session import Workspace, save_workspace

    items = [Item.create(f"document {i}", metadata={"n": i}) for i in range(3)]
    vectors = l2_normalise(np.random.default_rng(0).normal(size=(3, 4)))
    workspace = Workspace(items=items, embedding=EmbeddingResult(items, vectors, EmbeddingSpec(dim=4), 4, 3, 0))
    return save_workspace(tmp_path_factory.mktemp("saved") / "w.workbench", workspace).read_bytes()


@SETTINGS
@given(data=st.binary(max_size=2048))
def test_random_bytes_are_refused_clearly(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "random.workbench"
    path.write_bytes(data)
    opens_or_refuses(path)


@SETTINGS
@given(cut=st.integers(min_value=0, max_value=100_000), flip=st.integers(min_value=0, max_value=100_000))
def test_a_cut_or_flipped_workspace_is_refused_clearly(tmp_path: Path, saved: bytes, cut: int, flip: int) -> None:
    data = bytearray(saved[: max(1, len(saved) - cut % len(saved))])
    data[flip % len(data)] ^= 0xFF
    path = tmp_path / "cut.workbench"
    path.write_bytes(bytes(data))
    opens_or_refuses(path)


@SETTINGS
@given(changes=st.dictionaries(st.sampled_from(MANIFEST_KEYS), json_values, min_size=1, max_size=3))
def test_valid_looking_manifests_open_or_are_refused_clearly(tmp_path: Path, saved: bytes, changes: dict) -> None:
    with zipfile.ZipFile(io.BytesIO(saved)) as source:
        manifest = json.loads(source.read("manifest.json"))
        manifest.update(changes)
        path = tmp_path / "changed.workbench"
        with zipfile.ZipFile(path, "w") as target:
            for info in source.infolist():
                data = json.dumps(manifest) if info.filename == "manifest.json" else source.read(info)
                target.writestr(info.filename, data)
    opens_or_refuses(path)


cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@SETTINGS
@given(
    suffix=st.sampled_from([".csv", ".tsv", ".jsonl", ".txt"]),
    rows=st.lists(st.lists(cells, min_size=1, max_size=4), max_size=8),
)
def test_random_rows_import_or_are_refused_clearly(tmp_path: Path, suffix: str, rows: list[list[str]]) -> None:
    path = tmp_path / f"rows{suffix}"
    if suffix == ".jsonl":
        lines = [json.dumps({"id": r[0], "text": r[-1], **{f"m{i}": v for i, v in enumerate(r[1:-1])}}) for r in rows]
        path.write_text("\n".join(lines), encoding="utf-8")
    elif suffix == ".txt":
        path.write_text("\n".join(" ".join(r) for r in rows), encoding="utf-8")
    else:
        separator = "," if suffix == ".csv" else "\t"
        path.write_text("\n".join(separator.join(r) for r in [["id", "text"], *rows]), encoding="utf-8")
    try:
        items, _ = read_items(path, ImportOptions())
    except InputError:
        return
    assert all(isinstance(item.id, str) and item.id for item in items)
    assert all(isinstance(item.text, str) for item in items)
