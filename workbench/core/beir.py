"""Documents, queries and relevance labels for an evaluation: a BEIR folder, or separate files.

API (stable; the UI and the CLI build on it):
- `read_beir_folder(folder, split=None)` -> `LabelledSet`: `corpus.jsonl` (`_id`, `title`, `text`), `queries.jsonl`
  (`_id`, `text`) and `qrels/<split>.tsv`. `split` None takes `test` when present, else the only split. As BEIR's
  own loader does, only the queries the split labels are kept (a BEIR `queries.jsonl` holds every split's).
- `beir_splits(folder)`: the splits a folder has (`qrels/*.tsv`).
- `read_documents(path)` / `read_queries(path)`: a BEIR `corpus.jsonl` / `queries.jsonl` (recognised by `_id` in the
  first record), or any file the app imports (`.txt .csv .tsv .jsonl .parquet`, id from an `id` column or
  `id_column`; without one, ids are content hashes, which no qrels file will name).
- `labelled_set(documents, queries, labels)` -> `LabelledSet`: checks the labels against them and raises the
  InputError for ids that are not there (how many, a few examples); queries without a relevant label stay and
  are named in `notes`, and `evaluated_queries` are the labelled ones.
`LabelledSet.items()` is documents then queries, ready for a corpus: a query id that is also a document id is
given the prefix `query:` (labels follow), because the app keys every item by one id.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.errors import InputError
from workbench.core.importers import ImportOptions, jsonl_records, read_items
from workbench.core.items import Item, ItemKind
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress
from workbench.core.relevance import LabelCheck, RelevanceLabels, check_labels, read_qrels
from workbench.core.text_files import InvalidEncoding, TextStream

BEIR_FILES = ("corpus.jsonl", "queries.jsonl", "qrels")
QUERY_PREFIX = "query:"


@dataclass
class LabelledSet:
    """Documents, queries and labels that agree: every labelled id is present (made by `labelled_set`, which checks)."""

    documents: list[Item]
    queries: list[Item]
    labels: RelevanceLabels
    check: LabelCheck
    notes: list[str] = field(default_factory=list)

    @property
    def evaluated_queries(self) -> list[Item]:
        """The queries with at least one relevant label: the ones every metric averages over."""
        labelled = set(self.check.labelled_queries)
        return [q for q in self.queries if q.id in labelled]

    def items(self) -> list[Item]:
        return [*self.documents, *self.queries]


# -- BEIR jsonl ---------------------------------------------------------------------------------------------------
def _jsonl(path: Path, progress: ProgressFn, cancelled: CancelledFn) -> Iterator[tuple[int, dict[str, Any]]]:
    stream = TextStream(path, "strict")
    try:
        yield from jsonl_records(path, stream, progress, cancelled)
    except InvalidEncoding as error:  # without its hint: eval has no --encoding-errors
        raise InputError(f"{path}: line {error.line}, byte {error.byte}: not valid UTF-8.") from error
    finally:
        stream.close()


def _is_beir_jsonl(path: Path) -> bool:
    """Whether a .jsonl file's first record has BEIR's `_id` field."""
    if path.suffix.lower() != ".jsonl" or not path.is_file():
        return False
    for _, record in _jsonl(path, no_progress, never_cancelled):
        return "_id" in record
    return False


def _text_field(record: dict[str, Any], name: str, where: str) -> str:
    value = record.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{where}, field '{name}': expected text, found {type(value).__name__}.")
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _read_beir_jsonl(
    path: Path, kind: ItemKind, progress: ProgressFn, cancelled: CancelledFn
) -> tuple[list[Item], list[str]]:
    """Items from a BEIR corpus or queries file, and the ids of records without text (left out)."""
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    items: list[Item] = []
    empty: list[str] = []
    seen: dict[str, int] = {}
    for number, record in _jsonl(path, progress, cancelled):
        where = f"{path}: line {number}"
        raw_id = record.get("_id")
        if raw_id is None or raw_id == "":
            raise InputError(f"{where}, field '_id': the id is missing.")
        item_id = str(raw_id)
        if item_id in seen:
            raise InputError(f"{where}, field '_id': id {item_id!r} repeats line {seen[item_id]}.")
        seen[item_id] = number
        title = _text_field(record, "title", where) if kind == "document" else ""
        body = _text_field(record, "text", where)
        text = f"{title}\n{body}" if title and body else title or body
        if not text:
            empty.append(item_id)
            continue
        metadata: dict[str, Any] = {"title": title} if title else {}
        extra = record.get("metadata")
        if isinstance(extra, dict):
            metadata.update({str(k): v for k, v in extra.items()})
        items.append(Item(id=item_id, text=text, kind=kind, metadata=metadata))
    if not items:
        raise InputError(f"{path}: no records with text found.")
    return items, empty


def read_documents(
    path: str | Path,
    id_column: str | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> tuple[list[Item], list[str]]:
    """Documents from a BEIR corpus.jsonl or an app format; returns (items, notes)."""
    return _read_kind(Path(path), "document", id_column, progress, cancelled)


def read_queries(
    path: str | Path,
    id_column: str | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> tuple[list[Item], list[str]]:
    """Queries from a BEIR queries.jsonl or an app format; returns (items, notes)."""
    return _read_kind(Path(path), "query", id_column, progress, cancelled)


def _read_kind(
    path: Path, kind: ItemKind, id_column: str | None, progress: ProgressFn, cancelled: CancelledFn
) -> tuple[list[Item], list[str]]:
    if _is_beir_jsonl(path) and id_column in (None, "_id"):
        items, empty = _read_beir_jsonl(path, kind, progress, cancelled)
        notes = [f"{path}: {len(empty)} record(s) without text left out ({', '.join(empty[:3])})."] if empty else []
        return items, notes
    items, report = read_items(path, ImportOptions(kind=kind, id_column=id_column), progress, cancelled)
    notes = [f"{path}: {report.summary()}."] if report.dropped_empty or report.collapsed_duplicates else []
    return items, notes


# -- a whole labelled set ---------------------------------------------------------------------------------------
def _separate_ids(
    documents: list[Item], queries: list[Item], labels: RelevanceLabels
) -> tuple[list[Item], RelevanceLabels, list[str]]:
    """Queries whose id is also a document id get the `query:` prefix (all of them, so ids stay predictable)."""
    document_ids = {d.id for d in documents}
    if not any(q.id in document_ids for q in queries):
        return queries, labels, []
    renamed = [Item(QUERY_PREFIX + q.id, q.text, q.kind, q.metadata) for q in queries]
    grades = {QUERY_PREFIX + q: docs for q, docs in labels.grades.items()}
    note = f"Query ids also used by documents; every query id now starts with '{QUERY_PREFIX}'."
    return renamed, RelevanceLabels(grades, labels.source), [note]


def labelled_set(
    documents: list[Item], queries: list[Item], labels: RelevanceLabels, notes: list[str] | None = None
) -> LabelledSet:
    """Documents, queries and labels checked against each other; ids the labels name but that are absent raise."""
    if not documents:
        raise InputError("There are no documents to search.")
    if not queries:
        raise InputError("There are no queries to evaluate.")
    queries, labels, renamed = _separate_ids(documents, queries, labels)
    check = check_labels(labels, (d.id for d in documents), (q.id for q in queries))
    if (error := check.error()) is not None:
        raise error
    return LabelledSet(documents, queries, labels, check, [*(notes or []), *renamed, *check.notes()])


def beir_splits(folder: str | Path) -> list[str]:
    """The qrels splits of a BEIR folder (`qrels/<split>.tsv`), sorted."""
    qrels = Path(folder) / "qrels"
    return sorted(p.stem for p in qrels.glob("*.tsv")) if qrels.is_dir() else []


def read_beir_folder(
    folder: str | Path,
    split: str | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> LabelledSet:
    """A BEIR dataset folder as documents, the split's queries and its labels (see the module docstring)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder.")
    missing = [name for name in BEIR_FILES if not (folder / name).exists()]
    if missing:
        raise InputError(
            f"{folder}: not a BEIR folder: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing "
            "(a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/<split>.tsv)."
        )
    splits = beir_splits(folder)
    if not splits:
        raise InputError(f"{folder / 'qrels'}: no <split>.tsv file (such as test.tsv).")
    if split is None:
        split = "test" if "test" in splits or len(splits) != 1 else splits[0]
    if split not in splits:
        raise InputError(f"{folder}: no split '{split}'; the qrels folder has {', '.join(splits)}.")
    labels = read_qrels(folder / "qrels" / f"{split}.tsv")

    def stage(index: int) -> ProgressFn:
        return lambda done, total: progress(index * 1000 + 1000 * done // max(total, 1), 2000)

    documents, notes = read_documents(folder / "corpus.jsonl", progress=stage(0), cancelled=cancelled)
    every_query, query_notes = read_queries(folder / "queries.jsonl", progress=stage(1), cancelled=cancelled)
    notes += query_notes
    in_split = set(labels.queries())
    queries = [q for q in every_query if q.id in in_split]
    if left_out := len(every_query) - len(queries):
        notes.append(
            f"{left_out} of {len(every_query)} queries {'has' if left_out == 1 else 'have'} no labels in split "
            f"'{split}' and {'was' if left_out == 1 else 'were'} left out (as BEIR does)."
        )
    return labelled_set(documents, queries, labels, notes)


def read_labelled_files(
    corpus: str | Path,
    queries: str | Path,
    qrels: str | Path,
    id_column: str | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> LabelledSet:
    """Documents, queries and labels from three files (see `read_documents` for the formats)."""
    labels = read_qrels(qrels)
    documents, notes = read_documents(corpus, id_column, progress, cancelled)
    query_items, query_notes = read_queries(queries, id_column, progress, cancelled)
    return labelled_set(documents, query_items, labels, notes + query_notes)
