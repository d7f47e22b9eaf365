"""Write a small BEIR-format folder from the bundled sample corpus, to demo the search lab and its evaluation.

Usage: python scripts/make_beir_demo.py OUT_FOLDER
Documents are the 40 sample documents (`corpus.jsonl`: `_id`, `title`, `text`), queries the 6 sample queries
(`queries.jsonl`: `_id`, `text`) and the labels (`qrels/test.tsv`) judge a document relevant (grade 1) to a
query of the same topic: coarse labels, but true ones for this corpus, and enough to show modes disagreeing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[1] / "workbench" / "resources"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_demo(out: Path) -> Path:
    documents = read_jsonl(RESOURCES / "sample_documents.jsonl")
    queries = read_jsonl(RESOURCES / "sample_queries.jsonl")
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as handle:
        for number, document in enumerate(documents, 1):
            metadata = {"topic": document["topic"]}
            record = {"_id": f"d{number}", "title": "", "text": document["text"], "metadata": metadata}
            handle.write(json.dumps(record) + "\n")
    with (out / "queries.jsonl").open("w", encoding="utf-8") as handle:
        for number, query in enumerate(queries, 1):
            handle.write(json.dumps({"_id": f"q{number}", "text": query["text"]}) + "\n")
    lines = ["query-id\tcorpus-id\tscore"]
    for q, query in enumerate(queries, 1):
        lines += [f"q{q}\td{d}\t1" for d, document in enumerate(documents, 1) if document["topic"] == query["topic"]]
    (out / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "beir-demo")
    print(f"wrote {write_demo(target)}")
