"""Embedding cache keyed by (provider, model, dim, task, text hash), in SQLite under the user's cache dir.

SQLite rather than a file per vector: one file, atomic commits (a crash mid-write loses at most the batch being
written, never corrupts what was there), safe to share between the GUI and a CLI run, and fast lookups of
thousands of keys at once. Vectors are stored as raw float32 bytes.

The same file holds the names of Gemini Batch-mode jobs still at Google (`batch_jobs`), with the text hashes of
each job in request order, so a closed app or a new CLI run collects a job instead of paying for it again
(core/gemini_batch.py).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.core.embedders.base import EmbeddingSpec
from workbench.core.items import ItemKind, text_hash
from workbench.core.paths import cache_dir

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    dim INTEGER NOT NULL,
    task TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (provider, model, dim, task, text_hash)
)
"""
_BATCH_SCHEMA = """
CREATE TABLE IF NOT EXISTS batch_jobs (
    name TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    dim INTEGER NOT NULL,
    task TEXT NOT NULL,
    kind TEXT NOT NULL,
    text_hashes TEXT NOT NULL,
    submitted REAL NOT NULL,
    state TEXT NOT NULL
)
"""
_LOOKUP_CHUNK = 500  # SQLite's default limit on bound parameters is far above this; keeps queries short.


@dataclass(frozen=True)
class BatchJobRecord:
    """A submitted Batch-mode job: its name at the provider, what it embeds, and its texts' hashes in order."""

    name: str
    provider: str
    model: str
    dim: int
    task: str
    kind: ItemKind
    text_hashes: tuple[str, ...]
    submitted: float  # time.time() when it was submitted
    state: str  # the provider's last reported state, e.g. JOB_STATE_RUNNING


class EmbeddingCache:
    """Vectors by (spec, task, text). Thread-safe: the GUI's worker threads share one instance."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else cache_dir() / "embeddings.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute(_SCHEMA)
        self._connection.execute(_BATCH_SCHEMA)
        self._connection.commit()

    def get_many(self, spec: EmbeddingSpec, dim: int, kind: ItemKind, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached vectors for those texts that have one, keyed by text."""
        task = spec.task_for(kind)
        by_hash = {text_hash(t): t for t in texts}
        hashes = list(by_hash)
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(hashes), _LOOKUP_CHUNK):
                chunk = hashes[start : start + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._connection.execute(
                    f"SELECT text_hash, vector FROM embeddings WHERE provider=? AND model=? AND dim=? AND task=? "
                    f"AND text_hash IN ({marks})",
                    (spec.provider, spec.model, dim, task, *chunk),
                ).fetchall()
                for digest, blob in rows:
                    found[by_hash[digest]] = np.frombuffer(blob, dtype=np.float32).copy()
        return found

    def put_many(
        self, spec: EmbeddingSpec, dim: int, kind: ItemKind, texts: Sequence[str], vectors: Sequence[np.ndarray]
    ) -> None:
        """Store one batch in one transaction."""
        self.put_hashed(spec.provider, spec.model, dim, spec.task_for(kind), [text_hash(t) for t in texts], vectors)

    # -- Batch-mode jobs ------------------------------------------------------------------------------------
    def add_batch_job(
        self, name: str, spec: EmbeddingSpec, dim: int, kind: ItemKind, texts: Sequence[str], state: str
    ) -> BatchJobRecord:
        """Remember a job as soon as the provider has named it (its texts by hash, in request order)."""
        record = BatchJobRecord(
            name, spec.provider, spec.model, dim, spec.task_for(kind), kind, tuple(text_hash(t) for t in texts),
            time.time(), state,
        )  # fmt: skip
        with self._lock:
            self._connection.execute(
                "INSERT OR REPLACE INTO batch_jobs VALUES (?,?,?,?,?,?,?,?,?)",
                (record.name, record.provider, record.model, record.dim, record.task, record.kind,
                 json.dumps(record.text_hashes), record.submitted, record.state),
            )  # fmt: skip
            self._connection.commit()
        return record

    def batch_jobs(self, spec: EmbeddingSpec | None = None, dim: int | None = None) -> list[BatchJobRecord]:
        """Jobs not yet collected, oldest first; only those of `spec` at `dim` when given."""
        query, arguments = "SELECT * FROM batch_jobs", ()
        if spec is not None:
            query += " WHERE provider=? AND model=? AND dim=?"
            arguments = (spec.provider, spec.model, dim if dim is not None else spec.dim or 0)
        with self._lock:
            rows = self._connection.execute(query + " ORDER BY submitted", arguments).fetchall()
        return [
            BatchJobRecord(name, provider, model, int(dim_), task, kind, tuple(json.loads(hashes)), submitted, state)
            for name, provider, model, dim_, task, kind, hashes, submitted, state in rows
        ]

    def set_batch_job_state(self, name: str, state: str) -> None:
        with self._lock:
            self._connection.execute("UPDATE batch_jobs SET state=? WHERE name=?", (state, name))
            self._connection.commit()

    def remove_batch_job(self, name: str) -> None:
        """Forget a job once its results are in the cache (or it ended without any)."""
        with self._lock:
            self._connection.execute("DELETE FROM batch_jobs WHERE name=?", (name,))
            self._connection.commit()

    def put_hashed(
        self, provider: str, model: str, dim: int, task: str, hashes: Sequence[str], vectors: Sequence[np.ndarray]
    ) -> None:
        """Store vectors by text hash in one transaction (a Batch-mode job's results are known by hash only)."""
        rows = [
            (provider, model, dim, task, digest, np.asarray(v, dtype=np.float32).tobytes())
            for digest, v in zip(hashes, vectors, strict=True)
        ]
        with self._lock:
            self._connection.executemany("INSERT OR REPLACE INTO embeddings VALUES (?,?,?,?,?,?)", rows)
            self._connection.commit()

    def count(self) -> int:
        with self._lock:
            return int(self._connection.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._connection.close()
