"""The embedder protocol, shaped like `pymilvus.model`'s dense embedding functions.

`encode_documents(texts)` / `encode_queries(texts)` return one float32, L2-normalised vector per text, and
`dim` is the vector length, so a pymilvus.model function can stand in for ours and ours for theirs. What a GUI
needs beyond that (batching, progress, cancel, cache) lives once in `workbench.core.embedding`, which calls an
embedder one batch at a time; an embedder only says how big its batches may be and how many may run at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from workbench.core.items import ItemKind


@dataclass(frozen=True)
class EmbeddingSpec:
    """Which provider, model, dimension and tasks produce a set of vectors: the provenance written everywhere.

    `dim` None means the model's native size. `document_task` / `query_task` name the task each kind is encoded
    with (provider-specific strings, e.g. RETRIEVAL_DOCUMENT for Gemini, "document" for the local model).
    """

    provider: str = "local"
    model: str = "all-MiniLM-L6-v2"
    dim: int | None = None
    document_task: str = "document"
    query_task: str = "query"

    def task_for(self, kind: ItemKind) -> str:
        return self.document_task if kind == "document" else self.query_task


@runtime_checkable
class Embedder(Protocol):
    """What every provider implements. Vectors leave it as float32 and L2-normalised."""

    spec: EmbeddingSpec
    batch_size: int
    max_concurrency: int

    @property
    def dim(self) -> int: ...

    def encode_documents(self, documents: list[str]) -> list[np.ndarray]: ...

    def encode_queries(self, queries: list[str]) -> list[np.ndarray]: ...


def first_nonfinite_row(vectors: np.ndarray) -> int | None:
    """Index of the first row of a 2-D array holding NaN or an infinity, or None: every number computed from such
    a row would be NaN without a word, so each reader and writer of vectors refuses it (naming the row)."""
    finite = np.isfinite(vectors).all(axis=1)
    return None if finite.all() else int(np.flatnonzero(~finite)[0])


def first_zero_row(vectors: np.ndarray) -> int | None:
    """Index of the first all-zero row of a 2-D array, or None: a zero vector has no direction, so every cosine to
    it is 0 or NaN; it is no embedding."""
    zero = ~vectors.any(axis=1)
    return int(np.flatnonzero(zero)[0]) if zero.any() else None


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32. Zero rows stay zero instead of becoming NaN."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array[None, :]
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (array / norms).astype(np.float32, copy=False)
