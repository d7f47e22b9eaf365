"""Exports: Parquet (the exchange format), CSV, .npy + JSONL sidecar and the Embedding Projector TSV pair."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.errors import Cancelled, InputError
from workbench.core.exchange import read_parquet
from workbench.core.exports import export_vectors, projector_metadata_path, read_export, sidecar_path
from workbench.core.items import Item

SPEC = EmbeddingSpec(provider="local", model="all-MiniLM-L6-v2", dim=None, document_task="document")


@pytest.fixture
def data() -> tuple[list[Item], np.ndarray]:
    items = [
        Item.create("A cat\tsleeps", metadata={"topic": "pets", "year": 2020}),
        Item.create('Markets "fell"\nsharply', metadata={"topic": "finance", "year": 2021}),
        Item.create("Où est le chat ?", "query", metadata={"topic": "pets", "year": None}),
    ]
    vectors = l2_normalise(np.random.default_rng(0).normal(size=(3, 7)))
    return items, vectors


def same_items(a: list[Item], b: list[Item]) -> bool:
    return [(i.id, i.text, i.kind) for i in a] == [(i.id, i.text, i.kind) for i in b]


def test_parquet_export_is_the_exchange_format(tmp_path: Path, data) -> None:
    items, vectors = data
    derived = {"x": [0.0, 1.0, 2.0], "y": [1.0, 0.0, -1.0], "cluster": [0, 0, -1]}
    written = export_vectors(tmp_path / "out.parquet", items, vectors, SPEC, derived)
    assert written == [tmp_path / "out.parquet"]
    table = read_parquet(written[0])
    assert same_items(table.items, items)
    assert [dict(i.metadata) for i in table.items] == [dict(i.metadata) for i in items]
    np.testing.assert_array_equal(table.vectors, vectors)
    assert table.spec.provider == "local" and table.spec.dim == 7 and table.spec.query_task == "query"
    np.testing.assert_array_equal(table.derived["cluster"], [0, 0, -1])


def test_csv_export_has_the_exchange_columns_and_exact_vectors(tmp_path: Path, data) -> None:
    items, vectors = data
    path = export_vectors(tmp_path / "out.csv", items, vectors, SPEC, {"x": [0.5, 1, 2], "y": [3, 4, 5]})[0]
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "id",
        "text",
        "kind",
        "vector",
        "provider",
        "model",
        "dim",
        "task",
        "x",
        "y",
        "topic",
        "year",
    ]
    assert rows[1]["text"] == 'Markets "fell"\nsharply' and rows[2]["year"] == ""
    back = read_export(path)
    np.testing.assert_array_equal(back.vectors, vectors)  # 9 significant digits give float32 back bit for bit
    assert same_items(back.items, items)
    assert back.items[0].metadata == {"topic": "pets", "year": "2020"}  # CSV cells are text
    np.testing.assert_array_equal(back.derived["x"], [0.5, 1, 2])


def test_npy_export_with_its_jsonl_sidecar(tmp_path: Path, data) -> None:
    items, vectors = data
    npy, sidecar = export_vectors(tmp_path / "vecs.npy", items, vectors, SPEC)
    assert sidecar == sidecar_path(npy) == tmp_path / "vecs.jsonl"
    array = np.load(npy)
    assert array.dtype == np.float32 and array.shape == (3, 7)
    lines = [json.loads(line) for line in sidecar.read_text("utf-8").splitlines()]
    assert [line["id"] for line in lines] == [i.id for i in items]
    assert lines[2] == {
        "id": items[2].id,
        "text": "Où est le chat ?",
        "kind": "query",
        "provider": "local",
        "model": "all-MiniLM-L6-v2",
        "dim": 7,
        "task": "query",
        "topic": "pets",
        "year": None,
    }
    back = read_export(npy)
    np.testing.assert_array_equal(back.vectors, vectors)
    assert [dict(i.metadata) for i in back.items] == [dict(i.metadata) for i in items]


def test_projector_pair_has_one_row_per_vector_and_a_metadata_header(tmp_path: Path, data) -> None:
    items, vectors = data
    written = export_vectors(tmp_path / "vectors.tsv", items, vectors, SPEC, {"cluster_name": ["a", "b", "c"]})
    assert written == [tmp_path / "vectors.tsv", tmp_path / "metadata.tsv"]
    vector_lines = written[0].read_text("utf-8").splitlines()
    meta_lines = written[1].read_text("utf-8").splitlines()
    assert len(vector_lines) == len(items) and len(meta_lines) == len(items) + 1
    assert all(len(line.split("\t")) == 7 for line in vector_lines)
    np.testing.assert_array_equal(np.loadtxt(written[0], delimiter="\t", dtype=np.float32), vectors)
    header = meta_lines[0].split("\t")
    assert header == ["id", "text", "kind", "cluster_name", "topic", "year"]
    assert all(len(line.split("\t")) == len(header) for line in meta_lines)
    assert meta_lines[1].split("\t")[1] == "A cat sleeps" and meta_lines[2].split("\t")[1] == 'Markets "fell" sharply'
    assert projector_metadata_path(tmp_path / "set.tsv") == tmp_path / "set.metadata.tsv"


def test_a_cancelled_export_leaves_the_old_file_and_no_temp_file(tmp_path: Path, data) -> None:
    items, vectors = data
    target = tmp_path / "keep.csv"
    target.write_text("the previous export\n")
    for suffix in (".csv", ".npy", ".tsv", ".parquet"):
        path = target if suffix == ".csv" else tmp_path / f"keep{suffix}"
        with pytest.raises(Cancelled):
            export_vectors(path, items, vectors, SPEC, cancelled=lambda: True)
    assert target.read_text() == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.csv"]


def test_export_refuses_unknown_types_and_clashing_metadata(tmp_path: Path, data) -> None:
    items, vectors = data
    with pytest.raises(InputError, match=r"out\.xlsx: unsupported export type"):
        export_vectors(tmp_path / "out.xlsx", items, vectors, SPEC)
    clashing = [Item.create("a", metadata={"model": "mine"})]
    with pytest.raises(InputError, match="model clash"):
        export_vectors(tmp_path / "c.csv", clashing, vectors[:1], SPEC)
    assert not (tmp_path / "c.csv").exists()


def test_reading_an_export_back_reports_broken_pairs(tmp_path: Path, data) -> None:
    items, vectors = data
    npy, sidecar = export_vectors(tmp_path / "v.npy", items, vectors, SPEC)
    sidecar.write_text(sidecar.read_text("utf-8").split("\n", 1)[1], "utf-8")
    with pytest.raises(InputError, match=r"v\.jsonl: 2 rows but v\.npy holds 3 vectors"):
        read_export(npy)
    sidecar.unlink()
    with pytest.raises(InputError, match=r"v\.npy: its sidecar v\.jsonl is missing"):
        read_export(npy)
    bad = tmp_path / "bad.csv"
    bad.write_text('id,text,kind,vector\n1,a,document,"[1, 2]"\n2,b,document,"[oops]"\n')
    with pytest.raises(InputError, match=r"bad\.csv: row 2, field 'vector': not a list of numbers"):
        read_export(bad)


def test_a_similarity_matrix_csv_quotes_ids_with_commas_quotes_and_newlines(tmp_path) -> None:
    import csv

    from workbench.core.exports import export_matrix

    ids = ['doc "1", part a', "line\nbreak", "plain"]
    matrix = np.arange(9, dtype=np.float32).reshape(3, 3) / 10
    path = export_matrix(tmp_path / "m.csv", matrix, ids, ids)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["", *ids] and [r[0] for r in rows[1:]] == ids
    np.testing.assert_allclose(np.array([r[1:] for r in rows[1:]], dtype=float), matrix, atol=1e-6)
    np.testing.assert_array_equal(np.load(export_matrix(tmp_path / "m.npy", matrix, ids, ids)), matrix)
