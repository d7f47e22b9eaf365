"""The members of a workspace file and the checks that catch a damaged one, apart from what a workspace means.

`session` decides what a workspace holds and how the app saves, opens and recovers it; this module only knows
the file: the manifest (format name and version, checksums of every member), the items table, the arrays, and
the JSON form of a spec. Every reader raises an InputError that names the file and the defect, before anything
is applied. See `session` for the layout of the zip.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.core.collector import collector_paused
from workbench.core.embedders.base import EmbeddingSpec
from workbench.core.errors import InputError
from workbench.core.items import ITEM_KINDS, Item
from workbench.core.relevance import RelevanceLabels

FORMAT_NAME = "embedding-workbench-workspace"
FORMAT_VERSION = 1
WORKSPACE_SUFFIX = ".workbench"
MANIFEST = "manifest.json"
_SECRET_WORDS = ("key", "token", "secret", "password", "passwd", "credential", "authorization", "auth")


def spec_to_json(spec: EmbeddingSpec) -> dict[str, Any]:
    return {
        "provider": spec.provider,
        "model": spec.model,
        "dim": spec.dim,
        "document_task": spec.document_task,
        "query_task": spec.query_task,
    }


def spec_from_json(data: Any, source: str) -> EmbeddingSpec:
    if not isinstance(data, dict):
        raise InputError(f"{source}: the manifest's model settings are damaged.")
    try:
        return EmbeddingSpec(
            provider=str(data["provider"]),
            model=str(data["model"]),
            dim=int(data["dim"]) if data.get("dim") is not None else None,
            document_task=str(data["document_task"]),
            query_task=str(data["query_task"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise InputError(f"{source}: the manifest's model settings are damaged ({error}).") from error


def without_secrets(value: Any) -> Any:
    """A copy of a settings tree with every key that names a secret (api_key, token, password, …) removed."""
    if isinstance(value, dict):
        return {
            str(k): without_secrets(v)
            for k, v in value.items()
            if not any(word in str(k).lower() for word in _SECRET_WORDS)
        }
    if isinstance(value, (list, tuple)):
        return [without_secrets(v) for v in value]
    return value


# -- writing ---------------------------------------------------------------------------------------------------
def items_table(corpus: Sequence[Item], embedded: Sequence[Item] | None) -> pa.Table:
    """One row per distinct item; an item both in the corpus and embedded is one row with both roles.

    `embedded` holds the items behind the vectors, in vector order (None without vectors).
    """
    rows: list[Item] = []
    in_corpus: list[bool] = []
    embedded_row: list[int] = []
    index: dict[str, int] = {}
    for item in corpus:
        index[item.id] = len(rows)
        rows.append(item)
        in_corpus.append(True)
        embedded_row.append(-1)
    if embedded is not None:
        for row, item in enumerate(embedded):
            at = index.get(item.id)
            if at is not None and rows[at] == item and embedded_row[at] == -1:
                embedded_row[at] = row
                continue
            rows.append(item)  # embedded before an edit: no longer in the corpus, still behind the vectors
            in_corpus.append(False)
            embedded_row.append(row)
    # In batches: turning a million Python strings into one Arrow column holds the GIL for a tenth of a second at a
    # time, and this runs on a worker (autosave too) beside the GUI thread
    parts = [slice(start, start + ROWS_PER_BATCH) for start in range(0, len(rows), ROWS_PER_BATCH)]
    batches = [_items_batch(rows[part], in_corpus[part], embedded_row[part]) for part in parts]
    return pa.Table.from_batches(batches, schema=ITEMS_SCHEMA)


ITEMS_SCHEMA = pa.schema(
    [("id", pa.string()), ("text", pa.string()), ("kind", pa.string()), ("metadata", pa.string()),
     ("in_corpus", pa.bool_()), ("embedded_row", pa.int64())]
)  # fmt: skip


def _items_batch(rows: list[Item], in_corpus: list[bool], embedded_row: list[int]) -> pa.RecordBatch:
    metadata = [json.dumps(dict(i.metadata), ensure_ascii=False, default=str) for i in rows]
    columns = [[i.id for i in rows], [i.text for i in rows], [i.kind for i in rows], metadata, in_corpus, embedded_row]
    return pa.record_batch([pa.array(values, field.type) for values, field in zip(columns, ITEMS_SCHEMA, strict=True)],
                           schema=ITEMS_SCHEMA)  # fmt: skip


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


# -- reading ---------------------------------------------------------------------------------------------------
def damaged(path: Path, detail: str) -> InputError:
    return InputError(f"{path}: the workspace file is damaged or truncated ({detail}); nothing was opened from it.")


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of a workspace file, checked for format and version (quick: no member is read)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    try:
        with zipfile.ZipFile(path) as archive:
            return manifest_of(archive, path)
    except zipfile.BadZipFile as error:
        raise damaged(path, str(error)) from error
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror or error}).") from error


def manifest_of(archive: zipfile.ZipFile, path: Path) -> dict[str, Any]:
    """The manifest, parsed and checked against its schema (`check_manifest`) before any field is used."""
    try:
        manifest = json.loads(read_capped(archive, MANIFEST, MANIFEST_CAP, path).decode("utf-8"))
    except KeyError as error:
        raise InputError(f"{path}: not an Embedding Workbench workspace (no {MANIFEST}).") from error
    except (ValueError, UnicodeDecodeError) as error:
        raise damaged(path, f"{MANIFEST} is not valid JSON") from error
    except RecursionError as error:
        raise damaged(path, f"{MANIFEST} nests deeper than any workspace") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise InputError(f"{path}: not an Embedding Workbench workspace.")
    version = manifest.get("version")
    if not is_count(version) or version < 1:
        raise damaged(path, "no format version")
    if version > FORMAT_VERSION:
        raise InputError(
            f"{path}: saved by a newer Embedding Workbench ({manifest.get('app_version', 'unknown version')}, "
            f"workspace format {version}); this version reads format {FORMAT_VERSION}. Update the app to open it."
        )
    check_manifest(manifest, path)
    return manifest


# -- the manifest's schema -------------------------------------------------------------------------------------
COMPARISON_MEMBERS = ("compare_vectors.npy", "compare_projection.npy")  # B of a Compare run (workspace_comparison)
MEMBERS = (
    "items.parquet",
    "vectors.npy",
    "projection.npy",
    "clusters.npy",
    "qrels.parquet",
    "subclusters.npy",
    "cluster_assigned.npy",
    *COMPARISON_MEMBERS,
)
ROWS_PER_BATCH = 65_536  # items read into Python at a time (items_from)
MAX_DEPTH = 32  # view settings are a few levels deep; a manifest nested deeper was not written by us
MAX_ROWS = 100_000_000
MAX_DIM = 65_536
_SHA256 = re.compile(r"[0-9a-f]{64}")


def is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _deeper_than(value: Any, limit: int) -> bool:
    """True when lists and dicts nest more than `limit` levels (iterative: no recursion limit to hit)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return False


def check_spec(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "the model settings are not a table"
    for name in ("provider", "model", "document_task", "query_task"):
        if not isinstance(data.get(name), str):
            return f"the model setting {name!r} is not text"
    dim = data.get("dim")
    if dim is not None and not (is_count(dim) and 1 <= dim <= MAX_DIM):
        return f"the model's dim {dim!r} is not a size"
    return None


def manifest_problem(manifest: dict[str, Any]) -> str | None:
    """What in a parsed manifest breaks the schema (types, ranges, nesting depth), or None when nothing does."""
    if _deeper_than(manifest, MAX_DEPTH):
        return f"{MANIFEST} nests deeper than any workspace"
    members = manifest.get("members", {})
    if not isinstance(members, dict):
        return "the member list is not a table"
    for name, entry in members.items():
        if name not in MEMBERS:
            return f"unknown member {name!r}"
        if not (isinstance(entry, dict) and is_count(entry.get("size"))):
            return f"the size of {name} is not a number"
        if not (isinstance(entry.get("sha256"), str) and _SHA256.fullmatch(entry["sha256"])):
            return f"the checksum of {name} is not a SHA-256"
    if (problem := check_spec(manifest.get("spec"))) is not None:
        return problem
    embedding = manifest.get("embedding")
    if embedding is not None:
        if not isinstance(embedding, dict):
            return "the embedding's description is not a table"
        rows, dim = embedding.get("rows"), embedding.get("dim")
        if not (is_count(rows) and rows <= MAX_ROWS):
            return f"the embedding's row count {rows!r} is not a count"
        if not (is_count(dim) and 1 <= dim <= MAX_DIM):
            return f"the embedding's dim {dim!r} is not a size"
        for name in ("encoded", "from_cache"):
            if name in embedding and not is_count(embedding[name]):
                return f"the embedding's {name} {embedding[name]!r} is not a count"
        if (problem := check_spec(embedding.get("spec"))) is not None:
            return problem
    for name in ("app_version", "saved_at", "summary", "projection_note"):
        if manifest.get(name) is not None and not isinstance(manifest[name], str):
            return f"{name} is not text"
    for table, what, kind in (("cluster_names", "cluster name", str), ("subcluster_names", "sub-cluster name", str),
                              ("cluster_prompts", "cluster prompt", str), ("subcluster_parent", "sub-cluster's cluster",
                              int)):  # fmt: skip
        names = manifest.get(table)
        if names is None:
            continue
        if not isinstance(names, dict):
            return f"the {what}s are not a table"
        for key, value in names.items():
            if not (key.lstrip("-").isdigit() and isinstance(value, kind) and not isinstance(value, bool)):
                return f"the {what} {key!r} is not a cluster number with a {'name' if kind is str else 'number'}"
    selection = manifest.get("selection")
    if selection is not None and not (isinstance(selection, list) and all(isinstance(i, str) for i in selection)):
        return "the selection is not a list of ids"
    view = manifest.get("view")
    if view is not None and not isinstance(view, dict):
        return "the view settings are not a table"
    return None


def check_manifest(manifest: dict[str, Any], path: Path) -> None:
    """InputError ("damaged …; nothing was opened") when the manifest breaks its schema."""
    problem = manifest_problem(manifest)
    if problem is not None:
        raise damaged(path, problem)


# -- sizes: nothing is read before its size is known to fit --------------------------------------------------------
MANIFEST_CAP = 64 << 20
MAX_RATIO = 100  # our members are stored or JSON; a member deflated more than this is a zip bomb
_NPY_HEADER = 4096


def read_capped(archive: zipfile.ZipFile, name: str, cap: int | None, path: Path) -> bytes:
    """A member's bytes, after checking its declared size against `cap` and its compression ratio, read with a
    limit (the zip's declared size bounds what is inflated; a member that inflates further fails its CRC)."""
    info = archive.getinfo(name)
    if cap is not None and info.file_size > cap:
        raise damaged(path, f"{name} declares {info.file_size:,} bytes, more than the {cap:,} it can hold")
    if info.file_size > max(info.compress_size * MAX_RATIO, 1 << 20):
        raise damaged(path, f"{name} inflates {info.file_size:,} bytes from {info.compress_size:,}")
    limit = info.file_size if cap is None else min(info.file_size, cap)
    try:
        with archive.open(info) as handle:
            data = handle.read(limit + 1)
    except (RuntimeError, NotImplementedError, EOFError, zlib.error) as error:  # encrypted, unknown method, cut
        raise damaged(path, f"{name} cannot be unpacked ({error})") from error
    if len(data) != info.file_size:
        raise damaged(path, f"{name} holds another number of bytes than it declares")
    return data


def member_cap(manifest: dict[str, Any], name: str) -> int | None:
    """The most bytes a member can hold given the manifest's row count and dim (None: no such bound)."""
    embedding = manifest.get("embedding") or {}
    rows, dim = embedding.get("rows", 0), embedding.get("dim", 0)
    caps = {"vectors.npy": rows * dim * 4, "projection.npy": rows * 2 * 4, "clusters.npy": rows * 8,
            "subclusters.npy": rows * 8, "cluster_assigned.npy": rows}  # fmt: skip
    comparison = manifest.get("comparison") if isinstance(manifest.get("comparison"), dict) else {}
    b_rows, b_dim = comparison.get("rows", 0), comparison.get("dim", 0)
    if is_count(b_rows) and is_count(b_dim):
        caps.update(zip(COMPARISON_MEMBERS, (b_rows * b_dim * 4, b_rows * 2 * 4), strict=True))
    return caps[name] + _NPY_HEADER if name in caps else None


def member(archive: zipfile.ZipFile, manifest: dict[str, Any], name: str, path: Path) -> bytes | None:
    expected = manifest.get("members", {}).get(name)
    if expected is None:
        return None
    try:
        info = archive.getinfo(name)
    except KeyError as error:
        raise damaged(path, f"{name} is missing") from error
    if info.file_size != expected["size"]:
        raise damaged(path, f"{name} declares {info.file_size:,} bytes where the manifest says {expected['size']:,}")
    data = read_capped(archive, name, member_cap(manifest, name), path)
    if hashlib.sha256(data).hexdigest() != expected["sha256"]:
        raise damaged(path, f"{name} does not match its checksum")
    return data


def array_from(data: bytes | None, name: str, path: Path) -> np.ndarray | None:
    if data is None:
        return None
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError) as error:
        raise damaged(path, f"{name} is not a readable array") from error


@collector_paused()  # a million of them: see core/collector.py
def items_from(data: bytes, path: Path) -> tuple[list[Item], dict[int, Item]]:
    """The corpus items in order, and the embedded items by row."""
    try:
        # An Arrow buffer, not io.BytesIO: after reading a Python file object pyarrow 26 may still hold it at
        # exit and abort the interpreter ("terminate called without an active exception", apache/arrow#33975).
        metadata = pq.ParquetFile(pa.BufferReader(data)).metadata
        inflated = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
        if inflated > max(len(data) * MAX_RATIO, 64 << 20):
            raise damaged(path, f"items.parquet inflates to {inflated:,} bytes from {len(data):,}")
        table = pq.read_table(pa.BufferReader(data))
        corpus: list[Item] = []
        embedded: dict[int, Item] = {}
        row = 0
        # In batches: turning a column of a million strings into Python holds the GIL for a third of a second,
        # and this runs on a worker beside the GUI thread
        for batch in table.to_batches(max_chunksize=ROWS_PER_BATCH):
            columns = {name: batch.column(name).to_pylist() for name in batch.schema.names}
            for at in range(batch.num_rows):
                kind = columns["kind"][at]
                if kind not in ITEM_KINDS:
                    raise damaged(path, f"items row {row + 1} has kind {kind!r}")
                text = columns["metadata"][at]
                metadata = json.loads(text)
                nests = text.count("{") + text.count("[") > MAX_DEPTH  # else it cannot nest deeper (fast, in C)
                if not isinstance(metadata, dict) or (nests and _deeper_than(metadata, MAX_DEPTH)):
                    raise damaged(path, f"items row {row + 1} has metadata that is not a table of values")
                item = Item(id=columns["id"][at], text=columns["text"][at], kind=kind, metadata=metadata)
                if columns["in_corpus"][at]:
                    corpus.append(item)
                if columns["embedded_row"][at] >= 0:
                    embedded[columns["embedded_row"][at]] = item
                row += 1
    except (pa.ArrowException, KeyError, ValueError, TypeError, RecursionError) as error:
        raise damaged(path, f"items.parquet cannot be read: {type(error).__name__}: {error}"[:300]) from error
    return corpus, embedded


def labels_bytes(labels: RelevanceLabels) -> bytes:
    """The `qrels.parquet` member: one row per judgement (query_id, doc_id, score)."""
    buffer = io.BytesIO()
    pq.write_table(labels.to_arrow(), buffer)
    return buffer.getvalue()


def labels_from(data: bytes | None, source: str, path: Path) -> RelevanceLabels | None:
    """The relevance labels a workspace holds (None when it has none)."""
    if data is None:
        return None
    try:
        table = pq.read_table(pa.BufferReader(data))  # a buffer, not BytesIO: see items_from
    except (pa.ArrowException, ValueError) as error:
        raise damaged(path, f"qrels.parquet cannot be read: {error}"[:300]) from error
    try:
        return RelevanceLabels.from_arrow(table, source, "qrels.parquet")
    except InputError as error:
        raise damaged(path, str(error)) from error
