"""Issue 14's findings through the real entry point (`python -m workbench`) in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.entry_point import REPO, workbench


# -- 3: an output that is an input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "out"),
    [
        ("data.csv", "data.csv"),  # the output is the input
        ("x.jsonl", "x.npy"),  # the .npy's sidecar x.jsonl is the input
        ("metadata.tsv", "vectors.tsv"),  # the Projector pair's metadata.tsv is the input
        ("x.metadata.tsv", "x.tsv"),
    ],
)
def test_embed_refuses_to_overwrite_its_input(tmp_path: Path, source: str, out: str) -> None:
    content = {
        ".csv": "id,text\n1,a first text\n2,a second text\n",
        ".jsonl": '{"id": "1", "text": "a first text"}\n{"id": "2", "text": "a second text"}\n',
        ".tsv": "id\ttext\n1\ta first text\n2\ta second text\n",
    }[Path(source).suffix]
    (tmp_path / source).write_text(content, encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    done = workbench("embed", str(tmp_path / source), "--out", str(tmp_path / out))
    assert done.returncode == 2, done.stderr
    assert source in done.stderr and "input" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / source).read_text(encoding="utf-8") == content
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


# -- 4: a hung Gemini server: --timeout and Ctrl-C ----------------------------------------------------------------
def gemini_env(server) -> dict[str, str]:
    return {"GEMINI_API_KEY": "AIzaFAKE-timeout-key-1234567", "GOOGLE_GEMINI_BASE_URL": server.base_url}


def test_timeout_fails_a_hung_server_with_exit_1(tmp_path: Path) -> None:
    from tests.fakes.fake_gemini import FakeGemini, Fault

    (tmp_path / "in.txt").write_text("a\nb\n")
    with FakeGemini() as server:
        server.fail_next(*[Fault(hang=True)] * 10)
        done = workbench("embed", str(tmp_path / "in.txt"), "--provider", "gemini", "--timeout", "0.5",
                         "--out", str(tmp_path / "o.parquet"), env=gemini_env(server), timeout=30)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "did not answer within 0.5 s" in done.stderr
    bad = workbench("embed", str(tmp_path / "in.txt"), "--timeout", "0", "--out", str(tmp_path / "o.parquet"))
    assert bad.returncode == 2 and "--timeout" in bad.stderr
    assert not (tmp_path / "o.parquet").exists()


def test_ctrl_c_ends_a_hung_request_within_a_second(tmp_path: Path) -> None:
    import signal
    import time

    from tests.fakes.fake_gemini import FakeGemini, Fault

    (tmp_path / "in.txt").write_text("a\nb\n")
    with FakeGemini() as server:
        server.fail_next(Fault(hang=True))
        process = subprocess.Popen(
            [sys.executable, "-m", "workbench", "embed", str(tmp_path / "in.txt"), "--provider", "gemini",
             "--out", str(tmp_path / "o.parquet")],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **gemini_env(server)},
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not server.embed_requests() and time.monotonic() < deadline:
            time.sleep(0.05)  # until the request hangs on the server
        assert server.embed_requests(), "the request never reached the server"
        process.send_signal(signal.SIGINT)
        sent = time.monotonic()
        try:
            _, stderr = process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            pytest.fail("Ctrl-C did not end the wait within 5 s")
    assert time.monotonic() - sent < 2.0
    assert process.returncode == 130 and "Cancelled" in stderr and "Traceback" not in stderr


# -- 8: crashes where the contract promises exit 2 or 1 -----------------------------------------------------------
def exchange_file(path: Path, vectors, labels=("a", "b", "a", "b")) -> Path:
    from workbench.core.embedders.base import EmbeddingSpec
    from workbench.core.exchange import write_parquet
    from workbench.core.items import Item

    items = [Item.create(f"text {i}", metadata={"label": label}) for i, label in enumerate(labels)]
    write_parquet(path, items, vectors, EmbeddingSpec(dim=2))
    return path


def test_compare_with_nan_vectors_and_labels_exits_2_naming_the_row(tmp_path: Path) -> None:
    import numpy as np

    good = np.array([[1, 0], [0, 1], [1, 0], [0, 1]], dtype=np.float32)
    bad = good.copy()
    bad[2, 1] = np.nan
    a, b = exchange_file(tmp_path / "a.parquet", good), exchange_file(tmp_path / "b.parquet", bad)
    done = workbench("compare", str(a), str(b), "--label-column", "label", "-k", "1")
    assert done.returncode == 2, done.stderr
    assert "b.parquet" in done.stderr and "row 3" in done.stderr and "'vector'" in done.stderr
    assert "unexpected error" not in done.stderr


def test_a_key_with_a_non_ascii_character_exits_2(tmp_path: Path) -> None:
    from tests.fakes.fake_gemini import FakeGemini

    (tmp_path / "in.txt").write_text("a\n")
    with FakeGemini() as server:
        env = {**gemini_env(server), "GEMINI_API_KEY": "AIzaFAKE-key-with-ü-inside"}
        done = workbench("embed", str(tmp_path / "in.txt"), "--provider", "gemini",
                         "--out", str(tmp_path / "o.parquet"), env=env)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "API key" in done.stderr and "unexpected error" not in done.stderr


def test_an_html_answer_exits_1(tmp_path: Path) -> None:
    from tests.fakes.fake_gemini import FakeGemini, Fault

    (tmp_path / "in.txt").write_text("a\n")
    with FakeGemini() as server:
        server.fail_next(Fault(raw_body="<html>Sign in to the proxy</html>"))
        done = workbench("embed", str(tmp_path / "in.txt"), "--provider", "gemini",
                         "--out", str(tmp_path / "o.parquet"), env=gemini_env(server))  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "not an answer from the Gemini API" in done.stderr and "unexpected error" not in done.stderr


# -- 9: bad values accepted in silence ------------------------------------------------------------------------------
def test_compare_with_infinite_vectors_exits_2(tmp_path: Path) -> None:
    import numpy as np

    good = np.array([[1, 0], [0, 1], [1, 0], [0, 1]], dtype=np.float32)
    bad = good.copy()
    bad[0, 0] = np.inf
    a, b = exchange_file(tmp_path / "a.parquet", bad), exchange_file(tmp_path / "b.parquet", good)
    done = workbench("compare", str(a), str(b), "-k", "1", "--json")
    assert done.returncode == 2 and "row 1, field 'vector'" in done.stderr and done.stdout == ""


def test_push_refuses_a_null_id(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"id": pa.array(["a", None]), "text": ["t", "u"], "kind": ["document"] * 2,
                      "vector": [[1.0, 0.0], [0.0, 1.0]]})  # fmt: skip
    pq.write_table(table, tmp_path / "n.parquet")
    done = workbench("push", str(tmp_path / "n.parquet"), "--collection", "c", "--uri", str(tmp_path / "m.db"))
    assert done.returncode == 2 and "row 2, field 'id'" in done.stderr
    assert not (tmp_path / "m.db").exists()


# -- 7: a length guard -----------------------------------------------------------------------------------------------
def test_embed_cuts_texts_longer_than_max_text_chars(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    (tmp_path / "long.txt").write_text("many words " * 300_000 + "\nshort\n")  # one 3.3 MB line
    done = workbench("embed", str(tmp_path / "long.txt"), "--max-text-chars", "2000",
                     "--out", str(tmp_path / "o.parquet"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "cut to 2,000 characters" in done.stderr
    # what is read of the line (2 000 characters, over the 256-token window) is chunked (the default long-text
    # policy); with --long-texts truncate the row would hold only what fits, so no row keeps the 3.3 MB text
    table = pq.read_table(tmp_path / "o.parquet").to_pylist()
    chunks = [row for row in table if row["text"] != "short"]
    assert len(chunks) > 1 and len({row["parent_id"] for row in chunks}) == 1
    assert max(row["char_end"] for row in chunks) <= 2000 and all(row["text"].strip() for row in chunks)
    bad = workbench("embed", str(tmp_path / "long.txt"), "--max-text-chars", "0", "--out", str(tmp_path / "p.parquet"))
    assert bad.returncode == 2 and "--max-text-chars" in bad.stderr and not (tmp_path / "p.parquet").exists()
