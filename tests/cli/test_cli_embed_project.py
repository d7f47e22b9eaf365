"""`workbench embed` and `workbench project` through the real entry point (`python -m workbench`) in a subprocess.

The contract: exit 0 ok, 2 bad usage or bad input (the message names file, row and field), 1 a service failed;
a progress bar on a terminal and nothing extra when piped; a second run takes every vector from the cache.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.core.exports import read_export
from workbench.core.importers import ImportOptions, read_items

REPO = Path(__file__).resolve().parents[2]
CSV = (
    "doc_id;text;topic\r\n"
    'd1;"The cat sleeps on the warm sofa; all afternoon.";pets\r\n'
    'd2;"Stock markets fell ""sharply"" after the decision.";finance\r\n'
    "d3;Heavy rain is expected over the weekend.;weather\r\n"
    "d4;;empty\r\n"
)


def workbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args], cwd=REPO, capture_output=True, text=True, env=os.environ.copy()
    )


def workbench_on_a_terminal(*args: str) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal (stdout piped); return the exit code and what the terminal showed."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=os.environ.copy(),
    )
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert process.stdout is not None and process.stdout.read() == b""
    return process.wait(), shown.decode("utf-8", "replace")


def test_embed_shows_progress_on_a_terminal_is_quiet_when_piped_and_resumes_through_the_cache(tmp_path: Path) -> None:
    source = tmp_path / "docs.csv"
    source.write_text(CSV, "utf-8")
    code, terminal = workbench_on_a_terminal(
        "embed", str(source), "--id-column", "doc_id", "--out", str(tmp_path / "a.parquet")
    )
    assert code == 0, terminal
    assert re.search(r"embedding \[#+\] 3/3", terminal)

    again = workbench("embed", str(source), "--id-column", "doc_id", "--out", str(tmp_path / "b.csv"), "-v")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "" and "\r" not in again.stderr and "[#" not in again.stderr
    assert "3 items; 1 empty dropped" in again.stderr
    assert "(0 encoded, 3 from cache)" in again.stderr  # nothing re-encoded

    third = workbench("embed", str(source), "--id-column", "doc_id", "--out", str(tmp_path / "c.npy"))
    assert (third.returncode, third.stdout, third.stderr) == (0, "", "")

    # import → embed (local) → export → import: the same vectors and metadata in every format.
    items, _ = read_items(source, ImportOptions(id_column="doc_id"))
    tables = [read_export(tmp_path / name) for name in ("a.parquet", "b.csv", "c.npy")]
    for table in tables:
        assert [(i.id, i.text, i.kind, dict(i.metadata)) for i in table.items] == [
            (i.id, i.text, i.kind, dict(i.metadata)) for i in items
        ]
        np.testing.assert_array_equal(table.vectors, tables[0].vectors)
        assert table.vectors.shape == (3, 384) and table.spec.model == "all-MiniLM-L6-v2"
    assert [i.id for i in read_items(tmp_path / "a.parquet")[0]] == ["d1", "d2", "d3"]


def _parquet(path: Path, table: pa.Table) -> Path:
    pq.write_table(table, path)
    return path


@pytest.mark.parametrize(
    ("name", "content", "extra", "message"),
    [
        ("nocol.csv", "title,topic\nx,y\n", [], r"nocol\.csv: header: no text column found .*--column"),
        ("col.csv", "text\nx\n", ["--column", "body"], r"col\.csv: header: no column 'body'"),
        ("empty.jsonl", "", [], r"empty\.jsonl: the file is empty"),
        ("blank.txt", "\n  \n\n", [], r"blank\.txt: no items with text found"),
        ("bytes.csv", b"text\nok\nbad \xff\n", [], r"bytes\.csv: line 3, byte 12: not valid UTF-8.*--encoding-errors"),
        ("fields.tsv", "text\tn\na\t1\nb\t2\t3\n", [], r"fields\.tsv: line 3: 3 fields where the header has 2"),
        (
            "row.jsonl",
            '{"text": "a"}\n{"text": 7}\n',
            [],
            r"row\.jsonl: line 2, field 'text': expected text, found int",
        ),
        ("typed.parquet", None, [], r"typed\.parquet: row 2, field 'text': expected text, found int64"),
        ("ok.txt", "hello\n", ["--out-suffix", ".xlsx"], r"out\.xlsx: unsupported output type '\.xlsx'"),
        ("missing.csv", None, [], r"missing\.csv: no such file"),
    ],
)
def test_bad_input_exits_2_naming_file_row_and_field(tmp_path: Path, name, content, extra, message) -> None:
    path = tmp_path / name
    if name == "typed.parquet":
        _parquet(path, pa.table({"text": pa.array([None, 5], pa.int64())}))
    elif isinstance(content, str):
        path.write_text(content, "utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    suffix = ".parquet"
    if extra[:1] == ["--out-suffix"]:
        suffix, extra = extra[1], extra[2:]
    result = workbench("embed", str(path), "--out", str(tmp_path / f"out{suffix}"), *extra)
    assert result.returncode == 2, result.stderr
    assert re.search(message, result.stderr), result.stderr
    assert result.stderr.startswith("workbench embed: ") and result.stderr.count("\n") == 1  # one line, no trace
    assert not (tmp_path / f"out{suffix}").exists()


def test_invalid_utf8_can_be_replaced_on_request(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes(b"caf\xe9\n")
    result = workbench("embed", str(path), "--out", str(tmp_path / "o.parquet"), "--encoding-errors", "replace")
    assert result.returncode == 0, result.stderr
    assert read_export(tmp_path / "o.parquet").items[0].text == "caf\ufffd"


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    assert workbench("embed", "x.txt").returncode == 2  # --out missing
    assert workbench("project", "x.parquet", "--out", "y.parquet", "--method", "tsne").returncode == 2
    (tmp_path / "folder.parquet").mkdir()
    (tmp_path / "t.txt").write_text("hello\n")
    result = workbench("embed", str(tmp_path / "t.txt"), "--out", str(tmp_path / "folder.parquet"))
    assert result.returncode == 2 and "cannot be written there" in result.stderr


def test_a_service_failure_exits_1(tmp_path: Path) -> None:
    pytest.importorskip("workbench.core.embedders.gemini")
    path = tmp_path / "t.txt"
    path.write_text("hello\n")
    env = {**os.environ, "GEMINI_API_KEY": "test-key-not-secret", "GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:9",
           "WORKBENCH_GEMINI_BACKOFF_S": "0.01"}  # fmt: skip
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "embed",
            str(path),
            "--provider",
            "gemini",
            "--out",
            str(tmp_path / "o.parquet"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 1, result.stderr
    assert "test-key-not-secret" not in result.stderr


# -- project --------------------------------------------------------------------------------------------------
@pytest.fixture
def exchange_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(30, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    table = pa.table(
        {
            "id": [f"i{n}" for n in range(30)],
            "text": [f"text {n}" for n in range(30)],
            "kind": ["document"] * 25 + ["query"] * 5,
            "vector": pa.array(vectors.tolist(), pa.list_(pa.float32())),
            "provider": ["local"] * 30,
            "model": ["m"] * 30,
            "dim": pa.array([16] * 30, pa.int32()),
            "task": ["document"] * 25 + ["query"] * 5,
            "topic": [["a", "b", "c"][n % 3] for n in range(30)],
            "year": pa.array(range(30), pa.int16()),
        }
    )
    return _parquet(tmp_path / "in.parquet", table)


def test_project_adds_x_y_and_keeps_every_other_column(exchange_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("workbench.core.projection")
    out = tmp_path / "out.parquet"
    result = workbench("project", str(exchange_file), "--out", str(out), "--method", "pca", "--seed", "1")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    before, after = pq.read_table(exchange_file), pq.read_table(out)
    assert after.column_names == [*before.column_names, "x", "y"]
    assert after.drop_columns(["x", "y"]).equals(before)  # every other column exactly as it was, types included
    xy = np.column_stack([after.column("x").to_numpy(), after.column("y").to_numpy()])
    assert xy.shape == (30, 2) and np.isfinite(xy).all() and xy.std(axis=0).min() > 0
    # Projecting again, in place, replaces x and y instead of adding more columns.
    again = workbench("project", str(out), "--out", str(out), "--method", "pca", "--seed", "1")
    assert again.returncode == 0 and pq.read_table(out).column_names == after.column_names


def test_project_refuses_files_that_are_not_embed_outputs(tmp_path: Path) -> None:
    plain = _parquet(tmp_path / "plain.parquet", pa.table({"text": ["a", "b"]}))
    result = workbench("project", str(plain), "--out", str(tmp_path / "o.parquet"))
    assert result.returncode == 2 and re.search(r"plain\.parquet: missing column\(s\) id, kind, vector", result.stderr)
    result = workbench("project", str(tmp_path / "none.parquet"), "--out", str(tmp_path / "o.parquet"))
    assert result.returncode == 2 and "none.parquet: no such file" in result.stderr
    assert not (tmp_path / "o.parquet").exists()


@pytest.mark.slow
def test_project_with_umap_gives_the_same_layout_for_the_same_seed(exchange_file: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "u1.parquet", tmp_path / "u2.parquet"
    for out in (first, second):
        result = workbench("project", str(exchange_file), "--out", str(out), "--method", "umap", "--seed", "7", "-v")
        assert result.returncode == 0, result.stderr
    assert "umap" in result.stderr.lower()
    xy = [np.column_stack([pq.read_table(p).column(c).to_numpy() for c in ("x", "y")]) for p in (first, second)]
    np.testing.assert_array_equal(xy[0], xy[1])
    assert np.isfinite(xy[0]).all() and xy[0].std(axis=0).min() > 0
