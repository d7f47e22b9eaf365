"""Milvus (a Lite file or a server) through pymilvus' `MilvusClient`: collections, upserts, searches.

Why a package that does more than call pymilvus, module by module:
- `target`: where Milvus is, and every failure as one sentence a person can act on; tokens never show.
- `connection`: one process at a time may hold a Lite database, so each operation opens it and lets it go;
  third-party error logs are silenced in favour of `target`'s sentences.
- `filters`: user values reach an expression as escaped literals (Lite) or `filter_params` (server), never by
  string concatenation.
- `rows`: what Milvus would reject (NaN, bad ids, oversized texts) is refused or cut before anything is sent,
  and requests stay under the gRPC limit.
- `store`: a connection's collections, upserts by stable id, approximate search and the exact ranking beside it;
  `results` holds what its calls return, `exact` the numpy ranking an index's recall is judged by.
- `fulltext`: the BM25 field Milvus builds from the text (new collections have it), BM25 and hybrid search's
  pieces; `rebuild`: the re-push that gives a collection made without it full text, keeping its name.
- `operations`: whole operations, one connection each, that the app runs in its Milvus process (`ui` never
  imports pymilvus: Milvus Lite's server is Python threads that would take the GUI's GIL).
pymilvus itself is imported only inside functions, so importing this package costs nothing.
"""

from workbench.core.milvus.connection import open_milvus
from workbench.core.milvus.exact import recall_at_k
from workbench.core.milvus.filters import field_equals, render_filter, search_filter, value_like
from workbench.core.milvus.results import CollectionInfo, Hit, PushReport, other_model_message
from workbench.core.milvus.rows import REQUEST_BUDGET_BYTES, batch_bounds, check_vectors
from workbench.core.milvus.store import INDEX_TYPES, METRICS, MilvusStore, embed_query
from workbench.core.milvus.target import MilvusTarget

__all__ = [
    "INDEX_TYPES",
    "METRICS",
    "REQUEST_BUDGET_BYTES",
    "CollectionInfo",
    "Hit",
    "MilvusStore",
    "MilvusTarget",
    "PushReport",
    "batch_bounds",
    "check_vectors",
    "embed_query",
    "field_equals",
    "open_milvus",
    "other_model_message",
    "recall_at_k",
    "render_filter",
    "search_filter",
    "value_like",
]
