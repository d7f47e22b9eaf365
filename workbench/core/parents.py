"""Chunks seen as their parent documents: one point per parent, and search hits grouped by parent.

A chunked run (`core.long_texts`) embeds pieces; a person often wants the documents. A parent's vector is the mean
of its chunks' vectors, renormalised to unit length (the usual pooling of chunk embeddings: every chunk counts
alike, whatever its length). Items without chunk columns are their own parent, so these functions take any
corpus. Hits of one parent are grouped under its best-scoring chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.core.embedders.base import l2_normalise
from workbench.core.embedding import EmbeddingResult
from workbench.core.items import Item
from workbench.core.long_texts import CHUNK_COLUMNS


def parent_id_of(item: Item) -> str:
    """The id of the document an item is a chunk of (its own id when it is not a chunk)."""
    parent = item.metadata.get("parent_id")
    return str(parent) if parent is not None and str(parent) != "" else item.id


def has_chunks(items: Sequence[Item]) -> bool:
    """True when some parent has more than one chunk (only then do parents and chunks differ)."""
    parents = [parent_id_of(i) for i in items]
    return len(set(parents)) < len(parents)


@dataclass
class ParentVectors:
    """One row per parent document: its item, its vector, and the rows of its chunks."""

    items: list[Item]
    vectors: np.ndarray  # (parents, dim) float32, L2-normalised
    members: list[np.ndarray]  # chunk rows of each parent, in chunk order


def mean_by_parent(items: Sequence[Item], vectors: np.ndarray, sources: Sequence[Item] | None = None) -> ParentVectors:
    """The parents of `items` in first-seen order, each with the renormalised mean of its chunks' vectors.

    A parent's item is taken from `sources` (the items before chunking) when it is there, else rebuilt from its
    chunks: their metadata without the chunk columns, and their texts laid at their character offsets (the
    whitespace the splitter trimmed between two chunks becomes one space).
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(items) != len(vectors):
        raise ValueError(f"{len(items)} items but {len(vectors)} vectors")
    groups: dict[tuple[str, str], list[int]] = {}
    group_of = np.empty(len(items), dtype=np.int64)
    for row, item in enumerate(items):
        rows = groups.setdefault((item.kind, parent_id_of(item)), [])
        rows.append(row)
        group_of[row] = len(groups) - 1 if len(rows) == 1 else group_of[rows[0]]
    by_id = {(s.kind, s.id): s for s in sources or ()}
    parent_items, members = [], []
    for key, rows in groups.items():
        if len(rows) > 1:
            rows.sort(key=lambda r: _chunk_order(items[r]))
        parent_items.append(by_id.get(key) or _rebuilt_parent(key[1], [items[r] for r in rows]))
        members.append(np.asarray(rows, dtype=np.int64))
    if not members:
        return ParentVectors([], np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), np.float32), [])
    # one pass over the rows sorted by parent (np.add.reduceat), not one numpy call per parent
    order = np.argsort(group_of, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(group_of[order]) != 0])
    sums = np.add.reduceat(vectors[order], starts, axis=0)  # the mean's direction: renormalising drops the count
    return ParentVectors(parent_items, l2_normalise(sums), members)


def _chunk_order(item: Item) -> tuple[int, int]:
    meta = item.metadata
    return (_as_int(meta.get("chunk_index")), _as_int(meta.get("char_start")))


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _rebuilt_parent(parent_id: str, chunks: list[Item]) -> Item:
    text, end = "", 0
    for chunk in chunks:
        start = _as_int(chunk.metadata.get("char_start"))
        stop = _as_int(chunk.metadata.get("char_end")) or start + len(chunk.text)
        if start > end and text:
            text += " "
        text += chunk.text[max(0, end - start) :] if stop > end else ""
        end = max(end, stop)
    metadata = {k: v for k, v in chunks[0].metadata.items() if k not in CHUNK_COLUMNS}
    return Item(parent_id, text, chunks[0].kind, metadata)


def points_per_parent(result: EmbeddingResult) -> EmbeddingResult:
    """`result` with one row per parent document (see `mean_by_parent`); the chunk counts stay as they were."""
    parents = mean_by_parent(result.items, result.vectors, result.sources)
    return EmbeddingResult(
        parents.items, parents.vectors, result.spec, result.dim, result.encoded, result.from_cache,
        long_texts=result.long_texts, sources=result.sources, chunk_rows=parents.members,
    )  # fmt: skip


@dataclass
class ParentHits:
    """The hits of one parent document, best first; `score` is the best chunk's."""

    parent_id: str
    score: float
    hits: list[Any]


def group_hits_by_parent(
    hits: Sequence[Any], parent_of: Callable[[Any], str] | None = None, higher_is_nearer: bool = True
) -> list[ParentHits]:
    """Hits (anything with `.score` and `.metadata`/`.id`, e.g. `milvus.results.Hit`) grouped by parent document,
    the groups ordered by their best hit. `higher_is_nearer` False for L2 distances."""

    def default_parent(hit: Any) -> str:
        parent = (getattr(hit, "metadata", None) or {}).get("parent_id")
        return str(parent) if parent not in (None, "") else str(hit.id)

    parent_of = parent_of or default_parent
    sign = -1.0 if higher_is_nearer else 1.0
    groups: dict[str, list[Any]] = {}
    for hit in sorted(hits, key=lambda h: sign * float(h.score)):
        groups.setdefault(parent_of(hit), []).append(hit)
    return [ParentHits(parent, float(members[0].score), members) for parent, members in groups.items()]
