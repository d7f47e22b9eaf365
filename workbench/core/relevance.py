"""Relevance labels (qrels): which documents answer which query, and how well, read from BEIR or TREC files.

API (stable; the UI and the CLI build on it):
- `RelevanceLabels(grades)`: query id -> document id -> grade (an int; > 0 means relevant, 0 judged not relevant,
  as in BEIR and trec_eval). `labelled_queries()` lists the queries with at least one relevant document: the only
  ones an evaluation can score. `to_dict()` / `from_dict()` (JSON, what a workspace's manifest could hold),
  `to_arrow()` / `from_arrow()` (the `qrels.parquet` member of a workspace), `restricted(...)`.
- `read_qrels(path)`: a BEIR `qrels/<split>.tsv` (`query-id  corpus-id  score`, header optional) or a TREC qrels
  file (`query-id  iteration  doc-id  grade`). Every problem names the file, the line and the field.
- `check_labels(labels, document_ids, query_ids)` -> `LabelCheck`: ids the labels name that the corpus or the
  queries lack (how many, a few examples), and queries without a relevant label (evaluated over the labelled
  ones, and said). `LabelCheck.error()` is the InputError the CLI exits 2 with; `notes()` the sentences to show.

Hand-written rather than `ir_measures.read_trec_qrels` / BEIR's loader: those stop at the first bad line with a
parser's message (or none), and BEIR's loader needs the `beir` package and its torch stack; the reading here is
thirty lines whose value is the messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from workbench.core.errors import InputError
from workbench.core.text_files import read_text_file

EXAMPLES = 3  # ids named in a message about missing ids


def _examples(ids: Sequence[str]) -> str:
    shown = ", ".join(repr(i) for i in ids[:EXAMPLES])
    return shown + (", …" if len(ids) > EXAMPLES else "")


@dataclass(frozen=True)
class RelevanceLabels:
    """Graded relevance judgements: query id -> document id -> grade (> 0 relevant). `source` names the file."""

    grades: Mapping[str, Mapping[str, int]]
    source: str = ""

    def __len__(self) -> int:
        """The number of (query, document) judgements."""
        return sum(len(docs) for docs in self.grades.values())

    def queries(self) -> list[str]:
        """Every query id with a judgement, in the order the labels name them."""
        return list(self.grades)

    def labelled_queries(self) -> list[str]:
        """The query ids with at least one relevant (grade > 0) document: the queries an evaluation scores."""
        return [q for q, docs in self.grades.items() if any(g > 0 for g in docs.values())]

    def relevant(self, query_id: str) -> dict[str, int]:
        """The relevant documents of one query with their grades (empty when it has none)."""
        return {d: g for d, g in self.grades.get(query_id, {}).items() if g > 0}

    def documents(self) -> set[str]:
        """Every document id a judgement names."""
        return {d for docs in self.grades.values() for d in docs}

    def restricted(
        self, query_ids: Iterable[str] | None = None, document_ids: Iterable[str] | None = None
    ) -> RelevanceLabels:
        """The labels of these queries and documents only (None keeps all); queries left without any go."""
        keep_q = None if query_ids is None else set(query_ids)
        keep_d = None if document_ids is None else set(document_ids)
        grades: dict[str, dict[str, int]] = {}
        for q, docs in self.grades.items():
            if keep_q is not None and q not in keep_q:
                continue
            kept = {d: g for d, g in docs.items() if keep_d is None or d in keep_d}
            if kept:
                grades[q] = kept
        return RelevanceLabels(grades, self.source)

    def rows(self) -> list[tuple[str, str, int]]:
        return [(q, d, g) for q, docs in self.grades.items() for d, g in docs.items()]

    # -- storage: JSON and Arrow -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "qrels": {q: dict(docs) for q, docs in self.grades.items()}}

    @classmethod
    def from_dict(cls, data: Any, where: str = "relevance labels") -> RelevanceLabels:
        """Labels from `to_dict()`'s form; anything else is an InputError naming `where`."""
        if not isinstance(data, Mapping) or not isinstance(data.get("qrels"), Mapping):
            raise InputError(f"{where}: not a table of relevance labels.")
        grades: dict[str, dict[str, int]] = {}
        for q, docs in data["qrels"].items():
            if not isinstance(docs, Mapping):
                raise InputError(f"{where}: the labels of query {q!r} are not a table.")
            for d, g in docs.items():
                if isinstance(g, bool) or not isinstance(g, int):
                    raise InputError(f"{where}: query {q!r}, document {d!r}: grade {g!r} is not a whole number.")
            grades[str(q)] = {str(d): int(g) for d, g in docs.items()}
        return cls(grades, str(data.get("source") or ""))

    def to_arrow(self) -> pa.Table:
        rows = self.rows()
        return pa.table(
            {
                "query_id": pa.array([r[0] for r in rows], pa.string()),
                "doc_id": pa.array([r[1] for r in rows], pa.string()),
                "score": pa.array([r[2] for r in rows], pa.int64()),
            }
        )

    @classmethod
    def from_arrow(cls, table: pa.Table, source: str = "", where: str = "qrels table") -> RelevanceLabels:
        missing = [c for c in ("query_id", "doc_id", "score") if c not in table.column_names]
        if missing:
            raise InputError(f"{where}: no column '{missing[0]}'.")
        grades: dict[str, dict[str, int]] = {}
        columns = [table.column(c).to_pylist() for c in ("query_id", "doc_id", "score")]
        for row, (q, d, g) in enumerate(zip(*columns, strict=True), 1):
            if q is None or d is None or not isinstance(g, int):
                raise InputError(f"{where}: row {row} lacks a query id, a document id or a whole-number score.")
            grades.setdefault(str(q), {})[str(d)] = g
        return cls(grades, source)


# -- reading a qrels file ---------------------------------------------------------------------------------------
def _grade(value: str) -> int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def read_qrels(path: str | Path) -> RelevanceLabels:
    """Labels from a BEIR qrels TSV (`query-id  corpus-id  score`, header optional) or a TREC qrels file.

    A pair named twice with the same grade is kept once; with two grades it is an error naming both lines.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such qrels file.")
    text = read_text_file(path, "strict")
    grades: dict[str, dict[str, int]] = {}
    first_line: dict[tuple[str, str], int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        fields = [f.strip() for f in fields]
        if len(fields) == 4:  # TREC: query iteration document grade
            query, document, score = fields[0], fields[2], fields[3]
        elif len(fields) == 3:  # BEIR: query-id corpus-id score
            query, document, score = fields
        else:
            raise InputError(
                f"{path}: line {number}: expected 3 tab-separated fields (query-id, corpus-id, score) or 4 "
                f"(TREC: query, iteration, document, grade), found {len(fields)}."
            )
        grade = _grade(score)
        if grade is None:
            if number == 1 and not first_line:  # a header such as "query-id corpus-id score"
                continue
            raise InputError(f"{path}: line {number}, field 'score': {score!r} is not a whole number.")
        if not query or not document:
            raise InputError(f"{path}: line {number}: the query id or the document id is empty.")
        pair = (query, document)
        if pair in first_line:
            if grades[query][document] != grade:
                raise InputError(
                    f"{path}: line {number}: query {query!r}, document {document!r} has grade {grade} here and "
                    f"{grades[query][document]} on line {first_line[pair]}."
                )
            continue
        first_line[pair] = number
        grades.setdefault(query, {})[document] = grade
    if not grades:
        raise InputError(f"{path}: no relevance labels found.")
    return RelevanceLabels(grades, str(path))


# -- checking labels against a corpus ---------------------------------------------------------------------------
@dataclass
class LabelCheck:
    """What labels and a corpus disagree on. Ids are listed sorted; counts are distinct ids."""

    unknown_documents: list[str] = field(default_factory=list)  # labelled, absent from the corpus
    unknown_queries: list[str] = field(default_factory=list)  # labelled, absent from the queries
    unlabelled_queries: list[str] = field(default_factory=list)  # queries without a relevant label
    labelled_queries: list[str] = field(default_factory=list)  # queries present and with a relevant label
    source: str = ""

    def error(self) -> InputError | None:
        """The InputError for labels naming ids that are not there (None when every id is known)."""
        where = self.source or "the relevance labels"
        parts = []
        if self.unknown_documents:
            n = len(self.unknown_documents)
            parts.append(
                f"{n} document id{'s' if n != 1 else ''} absent from the corpus ({_examples(self.unknown_documents)})"
            )
        if self.unknown_queries:
            n = len(self.unknown_queries)
            parts.append(
                f"{n} query id{'s' if n != 1 else ''} absent from the queries ({_examples(self.unknown_queries)})"
            )
        if not parts:
            if not self.labelled_queries:
                return InputError(f"{where}: no query has a relevant document (a score above 0); nothing to score.")
            return None
        return InputError(
            f"{where}: the labels name {' and '.join(parts)}; load the corpus and queries these labels were made for."
        )

    def notes(self) -> list[str]:
        """Sentences for the person: which queries are left out of the evaluation and why."""
        if not self.unlabelled_queries:
            return []
        n, total = len(self.unlabelled_queries), len(self.unlabelled_queries) + len(self.labelled_queries)
        return [
            f"{n} of {total} queries {'have' if n != 1 else 'has'} no relevant label "
            f"({_examples(self.unlabelled_queries)}); evaluated over the {len(self.labelled_queries)} labelled ones."
        ]


def check_labels(labels: RelevanceLabels, document_ids: Iterable[str], query_ids: Iterable[str]) -> LabelCheck:
    """Compare labels with the documents and queries they are to judge (see `LabelCheck`)."""
    documents, queries = set(document_ids), list(dict.fromkeys(query_ids))
    known_queries = set(queries)
    labelled = set(labels.labelled_queries())
    return LabelCheck(
        unknown_documents=sorted(labels.documents() - documents),
        unknown_queries=sorted(set(labels.queries()) - known_queries),
        unlabelled_queries=[q for q in queries if q not in labelled],
        labelled_queries=[q for q in queries if q in labelled],
        source=labels.source,
    )
