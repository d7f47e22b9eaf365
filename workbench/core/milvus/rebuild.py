"""The re-push: a collection made without full text, copied into one with a BM25 field, under the same name.

Milvus cannot add a function field to an existing collection, so the rows are read back (vectors, text,
provenance, metadata) into a new collection made with full text beside the old one, and only when every row is
there is the old one dropped and the new one renamed. A cancel or a failure before that drops the copy and leaves
the original as it was; no items from the app are needed, so the CLI and the UI can offer it for any collection
Workbench made.
"""

from __future__ import annotations

from workbench.core.errors import Cancelled, InputError, ServiceError
from workbench.core.milvus.results import CollectionInfo
from workbench.core.milvus.rows import FIELDS, MAX_BATCH_ROWS
from workbench.core.milvus.store import MilvusStore
from workbench.core.milvus.target import missing_collection, service_errors
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress

COPY_SUFFIX = "_fulltext_copy"


def rebuild_with_fulltext(
    db: MilvusStore,
    name: str,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
    batch_rows: int = MAX_BATCH_ROWS,
) -> CollectionInfo:
    """Give collection `name` a BM25 field by copying its rows (see the module docstring); returns its new info.

    A collection that already has full text is returned unchanged.
    """
    info = db.describe(name)
    if info is None:
        raise missing_collection(name, db.target)
    if info.fulltext:
        return info
    if not info.ours:
        raise InputError(f"Collection '{name}' was not made by Embedding Workbench; push the items again instead.")
    copy = (name + COPY_SUFFIX)[:255]
    if db.describe(copy) is not None:
        db.drop(copy)  # left by an earlier, interrupted re-push: the original is still whole
    db.ensure_collection(copy, info.dim, info.metric, info.index_type if info.index_type != "none" else "AUTOINDEX")
    copied = 0
    try:
        progress(0, info.rows)
        with service_errors(db.target, f"read '{name}'"):
            iterator = db.client.query_iterator(
                name, batch_size=batch_rows, filter="", output_fields=[f for f in FIELDS if f != "id"]
            )
        try:
            while True:
                if cancelled():
                    raise Cancelled(f"Cancelled the re-push; collection '{name}' is as it was.")
                with service_errors(db.target, f"read '{name}'"):
                    batch = iterator.next()
                if not batch:
                    break
                rows = [{f: row[f] for f in FIELDS} for row in batch]
                with service_errors(db.target, f"upsert into '{copy}'"):
                    db.client.upsert(copy, rows)
                copied += len(rows)
                progress(copied, max(copied, info.rows))
        finally:
            iterator.close()
        with service_errors(db.target, f"flush '{copy}'"):
            db.client.flush(copy)
    except BaseException:
        db.drop(copy)
        raise
    if db.count(copy) != info.rows:
        db.drop(copy)
        raise InputError(f"The re-push of '{name}' copied {copied} of {info.rows} rows; the original was kept.")
    db.drop(name)
    with service_errors(db.target, f"rename '{copy}' to '{name}'"):
        db.client.rename_collection(copy, name)
    db.forget(copy)
    after = db.describe(name)
    if after is None:
        raise ServiceError(f"Milvus lost collection '{name}' while renaming its copy; look for '{copy}'.")
    return after
