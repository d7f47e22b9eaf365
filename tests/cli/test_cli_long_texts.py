"""`workbench embed --long-texts chunk|truncate|refuse` and the token summary of -v, through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from tests.cli.entry_point import workbench
from tests.core.test_long_texts import long_document
from tests.fakes.fake_gemini import FakeGemini
from workbench.core.exchange import read_parquet


def corpus(tmp_path: Path) -> Path:
    source = tmp_path / "docs.jsonl"
    rows = [
        {"id": "essay", "text": long_document(1200), "topic": "long"},
        {"id": "note", "text": "A short note that fits easily.", "topic": "short"},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return source


def test_chunk_is_the_default_and_the_file_records_it(tmp_path: Path) -> None:
    out = tmp_path / "chunks.parquet"
    run = workbench("embed", str(corpus(tmp_path)), "--out", str(out), "-v")
    assert run.returncode == 0, run.stderr
    assert "2 distinct texts" in run.stderr and "1 text exceeds the 256-token window" in run.stderr
    assert "counted with all-MiniLM-L6-v2's own tokenizer" in run.stderr
    assert "1 document(s) over the 256-token window split into" in run.stderr
    table = read_parquet(out)
    parents = [i.metadata["parent_id"] for i in table.items]
    assert parents.count("essay") > 1 and parents[-1] == "note"
    assert {i.metadata["topic"] for i in table.items if i.metadata["parent_id"] == "essay"} == {"long"}
    assert table.long_texts["policy"] == "chunk" and table.long_texts["chunked"] == 1
    assert {"parent_id", "chunk_index", "char_start", "char_end"} <= set(pq.read_schema(out).names)


def test_truncate_is_said_without_v_and_refuse_writes_nothing(tmp_path: Path) -> None:
    source = corpus(tmp_path)
    out = tmp_path / "cut.parquet"
    run = workbench("embed", str(source), "--out", str(out), "--long-texts", "truncate")
    assert run.returncode == 0, run.stderr
    assert "1 text(s) over the 256-token window truncated" in run.stderr
    assert [i.id for i in read_parquet(out).items] == ["essay", "note"]

    refused = tmp_path / "refused.parquet"
    run = workbench("embed", str(source), "--out", str(refused), "--long-texts", "refuse")
    assert run.returncode == 2 and "item 'essay'" in run.stderr and "Traceback" not in run.stderr
    assert not refused.exists()


def test_gemini_token_and_price_summary_before_embedding(tmp_path: Path) -> None:
    with FakeGemini() as server:
        env = {"GEMINI_API_KEY": "AIzaFAKE-key-0123456789", "GOOGLE_GEMINI_BASE_URL": server.base_url}
        out = tmp_path / "g.parquet"
        run = workbench("embed", str(corpus(tmp_path)), "--out", str(out), "--provider", "gemini", "-v", env=env)
        assert run.returncode == 0, run.stderr
        assert "counted by Gemini's countTokens" in run.stderr and "2,048-token window" in run.stderr
        assert "$" in run.stderr and "prices of" in run.stderr
        assert any(r.path.endswith(":countTokens") for r in server.requests)
        assert read_parquet(out).long_texts["policy"] == "chunk"
