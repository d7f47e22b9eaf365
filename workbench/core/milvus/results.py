"""What Milvus calls hand back: plain values that pickle, so they cross from the app's Milvus process intact.

`CollectionInfo` (a listed collection), `PushReport` (what a push did and what to warn about) and `Hit` (one
search result, with the score as Milvus reports it), and the one warning for vectors that meet a collection made
by another model (push, the Milvus panel and `workbench search` all say it the same way).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.core.embedders.base import EmbeddingSpec


@dataclass(frozen=True)
class CollectionInfo:
    name: str
    rows: int
    dim: int
    metric: str
    index_type: str
    ours: bool  # has the fields Workbench writes (a collection made elsewhere can still be searched)
    fulltext: bool = False  # has a BM25 field built from the text (searchable by bm25 and hybrid)


@dataclass
class PushReport:
    collection: str
    pushed: int
    rows_after: int
    batches: int
    created: bool
    truncated_ids: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        made = "created" if self.created else "updated"
        return (
            f"Pushed {self.pushed} item{'s' if self.pushed != 1 else ''} to collection '{self.collection}' "
            f"({made}; {self.rows_after} rows now)."
        )


@dataclass(frozen=True)
class Hit:
    id: str
    score: float  # as Milvus reports it: similarity for COSINE/IP (higher is nearer), squared distance for L2
    text: str = ""
    kind: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "score": self.score, "text": self.text, "metadata": dict(self.metadata)}

    @classmethod
    def from_milvus(cls, raw: Mapping[str, Any]) -> Hit:
        """A hit from one of pymilvus' search results (or a row shaped like one: id, distance, entity)."""
        entity = raw.get("entity") or {}
        return cls(
            id=str(raw.get("id", entity.get("id", ""))),
            score=float(raw.get("distance", 0.0)),
            text=str(entity.get("text") or ""),
            kind=str(entity.get("kind") or ""),
            metadata=dict(entity.get("metadata") or {}),
        )


def other_model_message(collection: str, stored: tuple[str, str, int] | None, spec: EmbeddingSpec) -> str | None:
    """The warning for vectors of `spec` meeting a collection whose rows came from another model, else None.

    `stored` is (provider, model, dim) of one stored row (`MilvusStore.stored_spec`); None (an empty collection)
    and a different dim of the same model say nothing here: a dim mismatch is an error of its own.
    """
    if not stored or (stored[0], stored[1]) == (spec.provider, spec.model):
        return None
    return (
        f"Collection '{collection}' holds vectors from {stored[0]} · {stored[1]}, not from {spec.provider} · "
        f"{spec.model}: scores between the two models mean nothing."
    )
