"""What the search lab knows and what the person chose there: relevance labels, the search modes and their knobs,
the last side-by-side search, the last evaluation and the query the map shows. Qt-free values AppState holds.

Why one frozen value (`LabState`) beside `ViewSettings` rather than fields scattered over AppState: the lab's
facts move together (new labels make the evaluation stale; a new search replaces the last one), AppState changes
it through one intent (`set_lab`) and announces which parts changed (`lab_changed`). A workspace saves the
labels (core.session's `qrels.parquet`) and the choices (`LabSettings.to_dict`, beside the view settings), never
the search or evaluation results, which are derived and are made again in seconds. Labels are core.relevance's
`RelevanceLabels` (qrels).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from workbench.core.milvus.results import Hit
from workbench.core.relevance import RelevanceLabels

MODES = ("dense", "bm25", "hybrid", "exact")  # the search modes, in the order tables and legends show them
COMPARE_B = "exact_b"  # an evaluation's extra row: exact dense search with Compare's configuration B
MODE_NAMES = {"dense": "dense", "bm25": "BM25", "hybrid": "hybrid", "exact": "exact dense", COMPARE_B: "exact dense, B"}
MODE_TIPS = {
    "dense": "Milvus' vector index over the pushed vectors (approximate for HNSW/IVF)",
    "bm25": "Milvus' full-text search: BM25 over the text field (no vectors)",
    "hybrid": "Milvus' hybrid search: dense and BM25 fused by RRF or weights",
    "exact": "Every embedded document scored by cosine in numpy: no Milvus, no index, no approximation",
    COMPARE_B: "Exact dense search with the vectors of Compare's configuration B",
}
RANKERS = ("rrf", "weighted")


@dataclass(frozen=True)
class LabSettings:
    """The person's choices in the lab; saved in workspaces."""

    modes: tuple[str, ...] = MODES  # shown side by side and evaluated
    ranker: str = "rrf"  # how hybrid fuses dense and BM25
    rrf_k: int = 60  # RRF's smoothing constant (Milvus' default)
    dense_weight: float = 0.5  # weighted fusion: dense gets this, BM25 the rest
    k: int = 10  # hits per mode in a search
    map_mode: str = "dense"  # the mode whose hits the map sorts and marks for the chosen query

    def to_dict(self) -> dict[str, Any]:
        return {"modes": list(self.modes), "ranker": self.ranker, "rrf_k": self.rrf_k,
                "dense_weight": self.dense_weight, "k": self.k, "map_mode": self.map_mode}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Any) -> LabSettings:
        """Settings from a workspace: a missing or malformed field keeps its default (an old file still opens)."""
        if not isinstance(data, dict):
            return cls()
        base, chosen = cls(), {}
        modes = data.get("modes")
        if isinstance(modes, list) and modes and all(m in MODES for m in modes):
            chosen["modes"] = tuple(m for m in MODES if m in modes)
        if data.get("ranker") in RANKERS:
            chosen["ranker"] = data["ranker"]
        for name, low, high in (("rrf_k", 1, 16_384), ("k", 1, 100)):
            value = data.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
                chosen[name] = value
        weight = data.get("dense_weight")
        if isinstance(weight, int | float) and not isinstance(weight, bool) and 0.0 <= weight <= 1.0:
            chosen["dense_weight"] = float(weight)
        if data.get("map_mode") in (*MODES, COMPARE_B):
            chosen["map_mode"] = data["map_mode"]
        return replace(base, **chosen)


@dataclass(frozen=True)
class LabSearch:
    """One query searched in every chosen mode: each mode's hits, best first (empty: the mode found nothing)."""

    text: str
    query_id: str | None  # the query item searched, when it is one of the corpus' queries (it has a map point)
    hits: Mapping[str, Sequence[Hit]]  # mode -> hits
    failures: Mapping[str, str] = field(default_factory=dict)  # mode -> why it could not run
    ranker_note: str = ""  # how hybrid fused, e.g. "RRF k=60"
    unpushed: frozenset[str] = frozenset()  # failed modes whose collection does not exist: they need a push

    def modes(self) -> list[str]:
        return [mode for mode in MODES if mode in self.hits]


@dataclass(frozen=True)
class LabEvaluation:
    """Every chosen mode run over every labelled query, judged against the labels by ir-measures.

    `aggregate[mode][measure]` is the mean over `queries`; `per_query[mode][query id][measure]` each query's own;
    `runs[mode][query id]` the ranked document ids (to show on the map); `notes` what a person must know (queries
    without labels skipped, label ids missing from the corpus, a mode that could not run).
    """

    measures: tuple[str, ...]
    aggregate: Mapping[str, Mapping[str, float]]
    per_query: Mapping[str, Mapping[str, Mapping[str, float]]]
    runs: Mapping[str, Mapping[str, Sequence[str]]]
    queries: tuple[str, ...]  # the labelled query ids evaluated
    notes: tuple[str, ...] = ()

    def modes(self) -> list[str]:
        return [mode for mode in self.aggregate]


@dataclass(frozen=True)
class LabState:
    labels: RelevanceLabels | None = None
    settings: LabSettings = field(default_factory=LabSettings)
    search: LabSearch | None = None
    evaluation: LabEvaluation | None = None
    focus: str | None = None  # the labelled query the map shows (relevant documents and the map mode's hits)

    def changed_fields(self, before: LabState) -> frozenset[str]:
        return frozenset(f.name for f in fields(self) if getattr(self, f.name) is not getattr(before, f.name)
                         and getattr(self, f.name) != getattr(before, f.name))  # fmt: skip


def relevant_ids(labels: RelevanceLabels | None, query_id: str) -> set[str]:
    """The documents judged relevant (grade > 0) for a query; BEIR's convention, and ir-measures' default."""
    return set(labels.relevant(query_id)) if labels is not None else set()
