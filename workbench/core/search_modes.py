"""Search modes (exact dense, dense, BM25, hybrid) and the one shape every mode's results take.

API (stable; the UI and the CLI build on it):
- `SearchMode(kind, ranker="rrf", rrf_k=60, dense_weight=0.5)`: `kind` is one of `MODE_KINDS`:
  `exact` (numpy over the app's own vectors, no Milvus: evaluation works without it), `dense` (Milvus' vector
  index), `bm25` (Milvus' full-text BM25 over the text field) and `hybrid` (Milvus' `hybrid_search` of the dense
  and BM25 requests, fused by RRF with its `rrf_k`, or weighted: `dense_weight` for dense, 1 - it for BM25).
  `name` is the short key ("hybrid"), `label` says the settings ("hybrid (RRF, k=60)"); `to_dict`/`from_dict`
  keep a choice in view settings. `parse_modes("all" | "dense,bm25" | ...)` reads the CLI's --mode.
- Results: every mode returns, per query, a list of `Hit` (core.milvus.results: id, score, text, kind, metadata),
  best first; `ModeRun(mode, query_ids, hits, seconds)` holds one mode's results for many queries.
  Scores mean what the mode's engine says: cosine for exact/dense (as the collection's metric reports it), the
  BM25 score for bm25 (positive; Milvus Lite reports it negated, we turn it back), the fused score for hybrid
  (RRF: sum of 1/(rrf_k + rank); weighted: the weighted sum of normalised scores). Ranks are comparable across
  modes, scores are not.
- `exact_rankings(documents, document_vectors, query_vectors, depth)`: the exact top-`depth` documents of each
  query by cosine, as hits (core.knn's blocked top-k, ties by document order).
- `found_by(runs)`: for each hit id, the modes whose lists hold it (to mark what one mode found and another not).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from workbench.core.errors import InputError
from workbench.core.items import Item
from workbench.core.knn import top_k_neighbours
from workbench.core.milvus.results import Hit
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress

ModeKind = Literal["exact", "dense", "bm25", "hybrid"]
MODE_KINDS: tuple[ModeKind, ...] = ("exact", "dense", "bm25", "hybrid")
MILVUS_KINDS: tuple[ModeKind, ...] = ("dense", "bm25", "hybrid")
RankerKind = Literal["rrf", "weighted"]
RANKERS: tuple[RankerKind, ...] = ("rrf", "weighted")
DEFAULT_RRF_K = 60  # the RRF paper's and Milvus' default


@dataclass(frozen=True)
class SearchMode:
    """One way to search; `kind` decides the engine, `ranker`/`rrf_k`/`dense_weight` only matter for hybrid."""

    kind: ModeKind = "dense"
    ranker: RankerKind = "rrf"
    rrf_k: int = DEFAULT_RRF_K
    dense_weight: float = 0.5

    def __post_init__(self) -> None:
        if self.kind not in MODE_KINDS:
            raise InputError(f"Search mode '{self.kind}' is not one of {', '.join(MODE_KINDS)}.")
        if self.ranker not in RANKERS:
            raise InputError(f"Hybrid ranker '{self.ranker}' is not one of {', '.join(RANKERS)}.")
        if not 1 <= int(self.rrf_k) <= 16_384:  # Milvus' RRFRanker accepts (0, 16384)
            raise InputError(f"The RRF k must be between 1 and 16384, not {self.rrf_k}.")
        if not 0.0 <= float(self.dense_weight) <= 1.0:
            raise InputError(f"The dense weight must be between 0 and 1, not {self.dense_weight}.")

    @property
    def name(self) -> str:
        return self.kind

    @property
    def label(self) -> str:
        if self.kind == "exact":
            return "exact dense (numpy)"
        if self.kind != "hybrid":
            return self.kind
        if self.ranker == "rrf":
            return f"hybrid (RRF, k={self.rrf_k})"
        return f"hybrid (weighted, dense {self.dense_weight:.2f} / BM25 {1 - self.dense_weight:.2f})"

    @property
    def needs_milvus(self) -> bool:
        return self.kind in MILVUS_KINDS

    @property
    def uses_vectors(self) -> bool:
        return self.kind != "bm25"

    @property
    def uses_text(self) -> bool:
        return self.kind in ("bm25", "hybrid")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchMode:
        """A mode from `to_dict()`'s form; unknown keys are ignored, bad values are an InputError."""
        try:
            return cls(
                kind=str(data.get("kind", "dense")),  # type: ignore[arg-type]
                ranker=str(data.get("ranker", "rrf")),  # type: ignore[arg-type]
                rrf_k=int(data.get("rrf_k", DEFAULT_RRF_K)),
                dense_weight=float(data.get("dense_weight", 0.5)),
            )
        except (TypeError, ValueError) as error:
            raise InputError(f"A saved search mode cannot be read: {error}.") from error


def parse_modes(text: str, with_exact: bool = True) -> list[SearchMode]:
    """Modes from a comma-separated list of kinds, or "all" (exact when `with_exact`, dense, bm25, hybrid)."""
    words = [w.strip().lower() for w in (text or "").split(",") if w.strip()]
    if not words:
        raise InputError("No search mode given.")
    kinds: list[ModeKind] = []
    for word in words:
        if word == "all":
            kinds += [k for k in MODE_KINDS if with_exact or k != "exact"]
        elif word in MODE_KINDS:
            kinds.append(word)  # type: ignore[arg-type]
        else:
            raise InputError(f"Search mode '{word}' is not one of {', '.join(MODE_KINDS)} or all.")
    return [SearchMode(k) for k in dict.fromkeys(kinds)]


@dataclass
class ModeRun:
    """One mode's hits for many queries (`hits[i]` belongs to `query_ids[i]`), and the seconds the search took."""

    mode: SearchMode
    query_ids: list[str]
    hits: list[list[Hit]]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def by_query(self) -> dict[str, list[Hit]]:
        return dict(zip(self.query_ids, self.hits, strict=True))


def hits_from_rows(documents: Sequence[Item], rows: np.ndarray, scores: np.ndarray) -> list[list[Hit]]:
    """Hits (with the documents' text, kind and metadata) from per-query row indices and scores."""
    return [
        [
            Hit(documents[r].id, float(s), documents[r].text, documents[r].kind, documents[r].metadata)
            for r, s in zip(row_list, score_list, strict=True)
        ]
        for row_list, score_list in zip(rows.tolist(), scores.tolist(), strict=True)
    ]


def exact_rankings(
    documents: Sequence[Item],
    document_vectors: np.ndarray,
    query_vectors: np.ndarray,
    depth: int = 100,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> list[list[Hit]]:
    """The exact top-`depth` documents of each query by cosine (vectors L2-normalised, as the embedders give).

    Cancel takes effect between blocks of queries (core.knn).
    """
    document_vectors = np.asarray(document_vectors, dtype=np.float32)
    query_vectors = np.atleast_2d(np.asarray(query_vectors, dtype=np.float32))
    if len(documents) != len(document_vectors):
        raise InputError(f"Expected one vector per document ({len(documents)}), got {len(document_vectors)}.")
    if len(query_vectors) and document_vectors.shape[1:] != query_vectors.shape[1:]:
        raise InputError(
            f"The queries are {query_vectors.shape[1]}-d and the documents {document_vectors.shape[1]}-d: embed "
            "both with one model."
        )
    rows, scores = top_k_neighbours(
        document_vectors, depth, query_vectors, exclude_self=False, progress=progress, cancelled=cancelled
    )
    return hits_from_rows(documents, rows, scores)


def found_by(hit_lists: Mapping[str, Iterable[Hit]]) -> dict[str, set[str]]:
    """For each document id in any of the lists, the names of the lists (modes) that hold it."""
    found: dict[str, set[str]] = {}
    for name, hits in hit_lists.items():
        for hit in hits:
            found.setdefault(hit.id, set()).add(name)
    return found
