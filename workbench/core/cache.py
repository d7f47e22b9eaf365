"""Embedding cache keyed by (provider, model, dim, task, text hash), in SQLite under the user's cache dir.

SQLite rather than a file per vector: one file, atomic commits (a crash mid-write loses at most the batch being
written, never corrupts what was there), safe to share between the GUI and a CLI run, and fast lookups of
thousands of keys at once. Vectors are stored as raw float32 bytes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
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
_LOOKUP_CHUNK = 500  # SQLite's default limit on bound parameters is far above this; keeps queries short.


class EmbeddingCache:
    """Vectors by (spec, task, text). Thread-safe: the GUI's worker threads share one instance."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else cache_dir() / "embeddings.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute(_SCHEMA)
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
        task = spec.task_for(kind)
        rows = [
            (spec.provider, spec.model, dim, task, text_hash(t), np.asarray(v, dtype=np.float32).tobytes())
            for t, v in zip(texts, vectors, strict=True)
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
