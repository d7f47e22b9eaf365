"""One open Milvus connection: collections, upserts and searches, every failure a sentence, never pymilvus'.

- A Lite collection reopened in a new process is "released"; every read loads it first.
- Upserts are keyed by the items' stable ids, so pushing the same items twice changes no count, and a cancelled
  push completes without duplicates when pushed again.
- `exact_search` ranks the same filtered rows with numpy: the ground truth an index's recall is judged by.
What the calls return (`CollectionInfo`, `PushReport`, `Hit`) is in `results`, and the exact ranking's numpy in
`exact`: this module is only the talk with Milvus.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.core.embedders.base import Embedder, EmbeddingSpec
from workbench.core.errors import Cancelled, InputError, ServiceError
from workbench.core.items import Item
from workbench.core.milvus.exact import RunningTopK, metric_scores
from workbench.core.milvus.filters import render_filter
from workbench.core.milvus.fulltext import add_bm25, bm25_score, fulltext_field, no_fulltext_message, ranker
from workbench.core.milvus.results import CollectionInfo, Hit, PushReport, other_model_message
from workbench.core.milvus.rows import (
    FIELDS,
    ID_MAX_BYTES,
    MAX_BATCH_ROWS,
    TEXT_MAX_BYTES,
    batch_bounds,
    build_rows,
    check_vectors,
)
from workbench.core.milvus.target import MilvusTarget, MilvusUnreachable, missing_collection, service_errors
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress

INDEX_TYPES = ("AUTOINDEX", "HNSW", "IVF_FLAT", "FLAT")  # all four build on Milvus Lite 3.2 (FAISS) and servers
METRICS = ("COSINE", "IP", "L2")
INDEX_PARAMS: dict[str, dict[str, int]] = {"HNSW": {"M": 16, "efConstruction": 200}, "IVF_FLAT": {"nlist": 128}}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")


def embed_query(text: str, embedder: Embedder, cache: Any = None) -> np.ndarray:
    """The query's vector, encoded as a query (through the cache when given)."""
    from workbench.core.embedding import embed_items

    if not text.strip():
        raise InputError("The search query is empty.")
    result = embed_items([Item.create(text, kind="query")], embedder, cache)
    return result.vectors[0]


@dataclass(frozen=True)
class _Layout:
    dim: int
    metric: str
    index_type: str
    fields: tuple[str, ...]
    vector_field: str = "vector"
    sparse_field: str | None = None  # the BM25 function's output field: the collection has full text


class MilvusStore:
    """One open connection; every method raises InputError / ServiceError with a sentence, never pymilvus'."""

    def __init__(self, client: Any, target: MilvusTarget) -> None:
        self.client, self.target = client, target
        self._layouts: dict[str, _Layout] = {}  # schema and index per collection, read once per operation
        self._loaded: set[str] = set()

    # -- collections ----------------------------------------------------------------------------------------
    def collections(self) -> list[CollectionInfo]:
        with service_errors(self.target, "list collections"):
            names = sorted(self.client.list_collections())
        return [info for name in names if (info := self.describe(name)) is not None]

    def _layout(self, name: str) -> _Layout | None:
        """Dim, metric, index type and field names of a collection (no row count), or None when it is absent."""
        if name in self._layouts:
            return self._layouts[name]
        with service_errors(self.target, f"describe collection '{name}'"):
            if not self.client.has_collection(name):
                return None
            schema = self.client.describe_collection(name)
            vector = self._vector_field(name, schema)
            metric, index_type = "?", "none"
            for index_name in self.client.list_indexes(name, field_name=vector["name"]):
                index = self.client.describe_index(name, index_name)
                metric, index_type = index.get("metric_type", "?"), index.get("index_type", "?")
        fields = tuple(f["name"] for f in schema["fields"])
        layout = _Layout(
            int(vector["params"].get("dim", 0)), metric, index_type, fields, vector["name"], fulltext_field(schema)
        )
        self._layouts[name] = layout
        return layout

    def describe(self, name: str) -> CollectionInfo | None:
        """Dim, metric, index and row count of a collection, or None when it does not exist."""
        layout = self._layout(name)
        if layout is None:
            return None
        ours = set(FIELDS) <= set(layout.fields)
        return CollectionInfo(
            name, self.count(name), layout.dim, layout.metric, layout.index_type, ours, layout.sparse_field is not None
        )

    def _vector_field(self, name: str, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        from pymilvus import DataType

        for f in schema["fields"]:
            if f["type"] == DataType.FLOAT_VECTOR:
                return f
        raise InputError(f"Collection '{name}' has no FLOAT_VECTOR field to search.")

    def _load(self, name: str) -> None:
        from pymilvus.client.types import LoadState

        if name not in self._loaded and self.client.get_load_state(name)["state"] != LoadState.Loaded:
            self.client.load_collection(name)
        self._loaded.add(name)

    def count(self, name: str) -> int:
        """Rows in a collection: count(*) on the loaded collection (statistics would count upserted rows twice)."""
        with service_errors(self.target, f"count rows of '{name}'"):
            self._load(name)
            result = self.client.query(name, filter="", output_fields=["count(*)"])
            return int(result[0]["count(*)"])

    def ensure_collection(
        self, name: str, dim: int, metric: str = "COSINE", index_type: str = "AUTOINDEX", fulltext: bool = True
    ) -> tuple[CollectionInfo, bool]:
        """The collection to push into: reused when dim and metric match, else created. Returns (info, created).

        `fulltext` makes a new collection with a BM25 field built by Milvus from `text` (see `fulltext`); an
        existing collection is reused as it is (`CollectionInfo.fulltext` says whether it has one).
        """
        metric, index_type = metric.upper(), index_type.upper()
        if metric not in METRICS:
            raise InputError(f"Metric '{metric}' is not one of {', '.join(METRICS)}.")
        if index_type not in INDEX_TYPES:
            raise InputError(f"Index type '{index_type}' is not one of {', '.join(INDEX_TYPES)}.")
        if not _NAME.fullmatch(name or ""):
            raise InputError(f"Collection name '{name}' must be letters, digits and _ and not start with a digit.")
        info = self.describe(name)
        if info is not None:
            differences = []
            if info.dim != dim:
                differences.append(f"it holds {info.dim}-d vectors, these are {dim}-d")
            if info.metric != metric:
                differences.append(f"its metric is {info.metric}, not {metric}")
            if not info.ours:
                differences.append("it was not made by Embedding Workbench (fields differ)")
            if differences:
                raise InputError(
                    f"Collection '{name}' cannot take these vectors: {'; '.join(differences)}. "
                    "Pick another collection name, or drop it first."
                )
            return info, False
        from pymilvus import DataType

        with service_errors(self.target, f"create collection '{name}'"):
            schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=ID_MAX_BYTES)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
            schema.add_field("text", DataType.VARCHAR, max_length=TEXT_MAX_BYTES, enable_analyzer=fulltext)
            schema.add_field("kind", DataType.VARCHAR, max_length=16)
            schema.add_field("provider", DataType.VARCHAR, max_length=64)
            schema.add_field("model", DataType.VARCHAR, max_length=1024)
            schema.add_field("task", DataType.VARCHAR, max_length=64)
            schema.add_field("dim", DataType.INT64)
            schema.add_field("metadata", DataType.JSON)
            index = self.client.prepare_index_params()
            index.add_index(
                "vector", index_type=index_type, metric_type=metric, params=INDEX_PARAMS.get(index_type, {})
            )
            if fulltext:
                add_bm25(schema, index)
            self.client.create_collection(name, schema=schema, index_params=index)
        return CollectionInfo(name, 0, dim, metric, index_type, True, fulltext), True

    def forget(self, name: str) -> None:
        """Drop what this connection remembers of a collection (after it was dropped or renamed)."""
        self._layouts.pop(name, None)
        self._loaded.discard(name)

    def drop(self, name: str) -> None:
        self.forget(name)
        with service_errors(self.target, f"drop collection '{name}'"):
            self.client.drop_collection(name)

    def stored_spec(self, name: str) -> tuple[str, str, int] | None:
        """(provider, model, dim) of one stored row, or None for an empty collection."""
        with service_errors(self.target, f"read collection '{name}'"):
            self._load(name)
            rows = self.client.query(name, filter="", output_fields=["provider", "model", "dim"], limit=1)
        return (rows[0]["provider"], rows[0]["model"], int(rows[0]["dim"])) if rows else None

    # -- push -----------------------------------------------------------------------------------------------
    def push(
        self,
        name: str,
        items: Sequence[Item],
        vectors: np.ndarray,
        spec: EmbeddingSpec,
        metric: str = "COSINE",
        index_type: str = "AUTOINDEX",
        progress: ProgressFn = no_progress,
        cancelled: CancelledFn = never_cancelled,
        max_batch_rows: int = MAX_BATCH_ROWS,
        fulltext: bool = True,
    ) -> PushReport:
        """Upsert items by id in batches under the request limit; re-pushing the same items changes no count.

        A new collection gets full text (a BM25 field) unless `fulltext` is False; pushing into an existing one
        without it warns (`PushReport.warnings`) and offers the re-push (`rebuild_with_fulltext`).

        Cancel takes effect between batches: the batches already sent stay (each is one upsert), and pushing
        again completes the collection without duplicates, because rows are keyed by the items' stable ids.
        """
        items = list(items)
        vectors = check_vectors(items, vectors)
        dim = int(vectors.shape[1]) if len(items) else int(spec.dim or 0)
        if dim <= 0:
            raise InputError("Nothing to push: there are no vectors.")
        info, created = self.ensure_collection(name, dim, metric, index_type, fulltext)
        report = PushReport(name, 0, info.rows, 0, created)
        if fulltext and not info.fulltext:
            report.warnings.append(no_fulltext_message(name))
        if not created and info.index_type != index_type.upper():
            report.warnings.append(f"Collection '{name}' keeps its {info.index_type} index ({index_type} was chosen).")
        stored = None if created else self.stored_spec(name)
        if warning := other_model_message(name, stored, spec):
            report.warnings.append(warning)
        rows, row_bytes, truncated_ids, warnings = build_rows(items, spec, dim)
        report.truncated_ids.extend(truncated_ids)
        report.warnings.extend(warnings)
        bounds = batch_bounds(row_bytes, max_batch_rows)
        progress(0, len(rows))
        for start, end in bounds:
            if cancelled():
                raise Cancelled(
                    f"Cancelled after {report.pushed} of {len(rows)} items; they are in '{name}'. "
                    "Push again to complete it (nothing is duplicated)."
                )
            batch = rows[start:end]
            block = vectors[start:end].tolist()
            for row, vector in zip(batch, block, strict=True):
                row["vector"] = vector
            with service_errors(self.target, f"upsert into '{name}'"):
                self.client.upsert(name, batch)
            for row in batch:
                del row["vector"]  # keep memory flat: the float lists were only needed for the request
            report.pushed += len(batch)
            report.batches += 1
            progress(report.pushed, len(rows))
        with service_errors(self.target, f"flush '{name}'"):
            # Seal the pushed rows: Milvus Lite searches unflushed rows ~10x slower (300 ms vs 30 ms at 10k rows).
            self.client.flush(name)
        report.rows_after = self.count(name)
        return report

    # -- search ---------------------------------------------------------------------------------------------
    def _filter_args(self, expression: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
        expression = (expression or "").strip()
        if not params:
            return {"filter": expression}
        if self.target.is_server:
            return {"filter": expression, "filter_params": dict(params)}
        return {"filter": render_filter(expression, params)}

    def _reading(self, name: str) -> tuple[_Layout, list[str]]:
        """The layout of a collection about to be read, loaded first (a filter error is then the filter's)."""
        layout = self._layout(name)
        if layout is None:
            raise missing_collection(name, self.target)
        with service_errors(self.target, f"load collection '{name}'"):
            self._load(name)
        return layout, [f for f in ("text", "kind", "metadata") if f in layout.fields]

    def _run_filtered(self, action: str, call: Any, expression: str) -> Any:
        """Run a filtered read; with a filter, an error that is not about reaching Milvus blames the filter."""
        try:
            with service_errors(self.target, action):
                return call()
        except ServiceError as error:
            cause = error.__cause__
            if not expression or cause is None or isinstance(error, MilvusUnreachable):
                raise
            detail = self.target.scrub(str(getattr(cause, "message", "") or cause)).strip().splitlines()[0]
            raise InputError(f"Milvus rejected the filter {expression!r}: {detail}") from error

    def require_fulltext(self, name: str) -> None:
        """Raise, saying how to add it, when an existing collection has no BM25 field (before BM25 or hybrid
        work is paid for); a missing collection is left to the read that follows."""
        layout = self._layout(name)
        if layout is not None and layout.sparse_field is None:
            raise InputError(no_fulltext_message(name))

    def check_filter(self, name: str, expression: str, params: Mapping[str, Any] | None = None) -> None:
        """Let Milvus parse a filter on one row before a query is embedded (a remote embedding costs money)."""
        self._reading(name)
        if expression.strip():
            filters = self._filter_args(expression, params)
            call = lambda: self.client.query(name, limit=1, output_fields=["id"], **filters)  # noqa: E731
            self._run_filtered(f"query '{name}'", call, expression)

    def _dense_request(self, name: str, queries: np.ndarray, k: int) -> tuple[_Layout, list[str], dict[str, Any]]:
        """Layout, output fields and search params of a dense search, after checking k and the query's dim."""
        if k < 1:
            raise InputError(f"k must be at least 1, not {k}.")
        info, output = self._reading(name)
        if queries.shape[1] != info.dim:
            raise InputError(
                f"Collection '{name}' holds {info.dim}-d vectors but the query is {queries.shape[1]}-d: "
                "search with the model and dim that made the collection."
            )
        search_params: dict[str, Any] = {"metric_type": info.metric}
        if info.index_type == "HNSW":
            search_params["params"] = {"ef": max(64, k)}
        elif info.index_type.startswith("IVF"):
            search_params["params"] = {"nprobe": 16}
        return info, output, search_params

    def search(
        self,
        name: str,
        queries: np.ndarray,
        k: int = 10,
        expression: str = "",
        params: Mapping[str, Any] | None = None,
        with_fields: bool = True,
    ) -> list[list[Hit]]:
        """Top-k hits for each query vector, nearest first, with text, kind and metadata (ids and scores only
        when `with_fields` is False: an evaluation of many queries needs no texts)."""
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        info, output, search_params = self._dense_request(name, queries, k)
        filters = self._filter_args(expression, params)

        def call() -> Any:
            return self.client.search(
                name,
                data=queries.tolist(),
                anns_field=info.vector_field,
                limit=k,
                output_fields=output if with_fields else [],
                search_params=search_params,
                **filters,
            )

        results = self._run_filtered(f"search '{name}'", call, expression)
        return [[Hit.from_milvus(h) for h in hits] for hits in results]

    def _fulltext(self, name: str) -> tuple[_Layout, list[str], str]:
        layout, output = self._reading(name)
        if layout.sparse_field is None:
            raise InputError(no_fulltext_message(name))
        return layout, output, layout.sparse_field

    def search_text(
        self,
        name: str,
        texts: Sequence[str],
        k: int = 10,
        expression: str = "",
        params: Mapping[str, Any] | None = None,
        with_fields: bool = True,
    ) -> list[list[Hit]]:
        """Top-k BM25 hits for each query text (Milvus analyses the text), best first, scores positive."""
        if k < 1:
            raise InputError(f"k must be at least 1, not {k}.")
        texts = [str(t) for t in texts]
        if any(not t.strip() for t in texts):
            raise InputError("A BM25 search needs query text; one query is empty.")
        _, output, sparse = self._fulltext(name)
        filters = self._filter_args(expression, params)

        def call() -> Any:
            return self.client.search(
                name,
                data=texts,
                anns_field=sparse,
                limit=k,
                output_fields=output if with_fields else [],
                search_params={"metric_type": "BM25"},
                **filters,
            )

        results = self._run_filtered(f"search '{name}' by BM25", call, expression)
        return [
            [Hit(h.id, bm25_score(h.score), h.text, h.kind, h.metadata) for h in map(Hit.from_milvus, hits)]
            for hits in results
        ]

    def search_hybrid(
        self,
        name: str,
        queries: np.ndarray,
        texts: Sequence[str],
        k: int = 10,
        ranker_kind: str = "rrf",
        rrf_k: int = 60,
        dense_weight: float = 0.5,
        expression: str = "",
        params: Mapping[str, Any] | None = None,
        with_fields: bool = True,
        candidates: int | None = None,
    ) -> list[list[Hit]]:
        """Top-k hits of Milvus' hybrid search: the dense and the BM25 request, each `candidates` deep (default
        k), fused by RRF (`rrf_k`) or weighted (`dense_weight` for dense, the rest for BM25)."""
        from pymilvus import AnnSearchRequest

        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        texts = [str(t) for t in texts]
        if len(texts) != len(queries):
            raise InputError(f"A hybrid search needs one text per query vector ({len(queries)}), got {len(texts)}.")
        if any(not t.strip() for t in texts):
            raise InputError("A hybrid search needs query text; one query is empty.")
        info, output, search_params = self._dense_request(name, queries, k)
        _, _, sparse = self._fulltext(name)
        filters = self._filter_args(expression, params)
        depth = max(k, candidates or k)
        expr = {"expr": filters["filter"]} if filters["filter"] else {}
        if "filter_params" in filters:
            expr["expr_params"] = filters["filter_params"]

        def call() -> Any:
            requests = [
                AnnSearchRequest(queries.tolist(), info.vector_field, search_params, depth, **expr),
                AnnSearchRequest(texts, sparse, {"metric_type": "BM25"}, depth, **expr),
            ]
            return self.client.hybrid_search(
                name,
                reqs=requests,
                ranker=ranker(ranker_kind, rrf_k, dense_weight),
                limit=k,
                output_fields=output if with_fields else [],
            )

        results = self._run_filtered(f"hybrid search '{name}'", call, expression)
        return [[Hit.from_milvus(h) for h in hits] for hits in results]

    def exact_search(
        self,
        name: str,
        query: np.ndarray,
        k: int = 10,
        expression: str = "",
        params: Mapping[str, Any] | None = None,
        progress: ProgressFn = no_progress,
        cancelled: CancelledFn = never_cancelled,
        batch_size: int = 2_000,
    ) -> tuple[list[Hit], int]:
        """The exact top-k of the same filtered rows, computed here with numpy; returns (hits, rows scanned).

        It reads every matching vector (one batch at a time), so it is the ground truth an index is judged by.
        """
        info, output = self._reading(name)
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        filters = self._filter_args(expression, params)
        best = RunningTopK(k, info.metric)
        scanned = 0
        total = self.count(name)  # all rows: the progress bound when a filter keeps fewer

        def scan() -> None:
            nonlocal scanned
            iterator = self.client.query_iterator(name, batch_size=batch_size, output_fields=["vector"], **filters)
            try:
                while batch := iterator.next():
                    if cancelled():
                        raise Cancelled("Cancelled the exact ranking.")
                    vectors = np.asarray([row["vector"] for row in batch], dtype=np.float32)
                    best.add([str(row["id"]) for row in batch], metric_scores(info.metric, vectors, query))
                    scanned += len(batch)
                    progress(scanned, max(scanned, total))
            finally:
                iterator.close()

        self._run_filtered(f"read '{name}'", scan, expression)
        if not best.ids:
            return [], scanned
        with service_errors(self.target, f"read '{name}'"):
            rows = {str(r["id"]): r for r in self.client.get(name, ids=best.ids, output_fields=output)}
        hits = [
            Hit.from_milvus({"id": i, "distance": float(s), "entity": rows.get(i, {})})
            for i, s in zip(best.ids, best.scores, strict=True)
        ]
        return hits, scanned
