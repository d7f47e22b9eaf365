"""A small BEIR-format folder written from the app's sample corpus, for tests of the search lab.

The 40 sample documents become `corpus.jsonl` (`_id` d0…d39, a title, the text, the topic under `metadata`), the
6 sample queries plus one without labels become `queries.jsonl` (q0…q6), and `qrels/test.tsv` (with BEIR's header)
judges every document of a query's topic relevant: grade 2 for the first two documents of the topic, 1 for the
rest. `qrels/train.tsv` holds one label, so the folder has two splits. Real BEIR layout, field names and header.
"""

from __future__ import annotations

import json
from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[2] / "workbench" / "resources"


def sample_records() -> tuple[list[dict], list[dict]]:
    def read(name: str) -> list[dict]:
        lines = (RESOURCES / name).read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    return read("sample_documents.jsonl"), read("sample_queries.jsonl")


def write_beir_folder(folder: Path) -> dict[str, dict[str, int]]:
    """Write the folder; returns its test qrels (query id -> document id -> grade)."""
    documents, queries = sample_records()
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as handle:
        for i, doc in enumerate(documents):
            title = f"{doc['topic'].title()} note {i}"
            record = {"_id": f"d{i}", "title": title, "text": doc["text"], "metadata": {"topic": doc["topic"]}}
            handle.write(json.dumps(record) + "\n")
    with (folder / "queries.jsonl").open("w", encoding="utf-8") as handle:
        for i, query in enumerate(queries):
            handle.write(json.dumps({"_id": f"q{i}", "text": query["text"]}) + "\n")
        handle.write(json.dumps({"_id": f"q{len(queries)}", "text": "A query nobody labelled"}) + "\n")
    qrels: dict[str, dict[str, int]] = {}
    for qi, query in enumerate(queries):
        same = [f"d{di}" for di, doc in enumerate(documents) if doc["topic"] == query["topic"]]
        qrels[f"q{qi}"] = {doc: (2 if rank < 2 else 1) for rank, doc in enumerate(same)}
    lines = ["query-id\tcorpus-id\tscore"]
    lines += [f"{q}\t{d}\t{g}" for q, docs in qrels.items() for d, g in docs.items()]
    (folder / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq0\td1\t1\n", encoding="utf-8")
    return qrels
