"""Save and open a whole workspace in one file, autosave it, and find autosaves a crash left behind.

A workspace file is a zip (the `.workbench` suffix) holding:
- `manifest.json`: format name and version, the app version, when it was saved, the embedding spec, the
  projection note, cluster and sub-cluster names, each sub-cluster's cluster, the Gemini prompts behind names, the
  selection, view settings, and the size and SHA-256 of every other member;
- `items.parquet`: one row per item (`id`, `text`, `kind`, `metadata` as JSON text, `in_corpus`,
  `embedded_row`), so the corpus and the embedded items share rows;
- `vectors.npy`, `projection.npy`, `clusters.npy` when there are vectors, a 2-D layout, clusters;
  `subclusters.npy`, `cluster_assigned.npy` with clusters of two levels, noise given to the nearest cluster.
- `qrels.parquet` when there are relevance labels (`query_id`, `doc_id`, `score`; core.relevance).
- `compare_vectors.npy`, `compare_projection.npy` and the manifest's `comparison` after a Compare run (B's vectors,
  layout, spec and the numbers; core.workspace_comparison).

Why a zip of Parquet + .npy + JSON: each piece is a format other tools open, numpy reads arrays without pickle
(nothing in a workspace can run code), and the zip's CRCs plus our checksums catch a truncated or damaged file
before anything is applied. Opening validates everything first and returns a `Workspace`; the caller replaces
its state only on success, so a bad file never costs what is already loaded. A file of a newer format version is
refused with a message rather than half-read.

Secrets never enter a workspace: `Workspace` has no field for an API key, a token or an endpoint, and view
settings whose names look like secrets are dropped before writing.

The file's members and their checks are in `workspace_archive`; this module is what a workspace holds, saving
and opening it as a whole, and autosave.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from workbench import __version__
from workbench.core.atomic import atomic_path
from workbench.core.embedders.base import EmbeddingSpec, first_nonfinite_row, first_zero_row
from workbench.core.embedding import EmbeddingResult
from workbench.core.errors import InputError
from workbench.core.items import Item
from workbench.core.paths import data_dir
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress, raise_if_cancelled
from workbench.core.relevance import RelevanceLabels
from workbench.core.workspace_archive import (  # callers import the constants, read_manifest, without_secrets here
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST,
    WORKSPACE_SUFFIX,
    array_from,
    damaged,
    items_from,
    items_table,
    labels_bytes,
    labels_from,
    manifest_of,
    member,
    npy_bytes,
    read_manifest,
    spec_from_json,
    spec_to_json,
    without_secrets,
)
from workbench.core.workspace_comparison import (
    LAYOUT_B,
    VECTORS_B,
    SavedComparison,
    comparison_entry,
    comparison_from,
    comparison_problem,
)


@dataclass
class Workspace:
    """Everything a workspace file holds, in core types; `items` is the corpus in order."""

    items: list[Item] = field(default_factory=list)
    spec: EmbeddingSpec = field(default_factory=EmbeddingSpec)
    embedding: EmbeddingResult | None = None
    projection: np.ndarray | None = None  # (n, 2) aligned with embedding.items
    projection_note: str = ""
    clusters: np.ndarray | None = None  # one label per embedding row, -1 noise
    cluster_names: dict[int, str] = field(default_factory=dict)
    subclusters: np.ndarray | None = None  # each row's sub-cluster (the second level), -1 where clusters is
    subcluster_names: dict[int, str] = field(default_factory=dict)
    subcluster_parent: dict[int, int] = field(default_factory=dict)
    cluster_assigned: np.ndarray | None = None  # rows that were noise, given to their nearest cluster
    cluster_prompts: dict[int, str] = field(default_factory=dict)  # the Gemini prompt behind each cluster's name
    selection: list[str] = field(default_factory=list)
    view: dict[str, Any] = field(default_factory=dict)
    saved_at: str = ""
    labels: RelevanceLabels | None = None  # relevance labels (qrels) of the search lab, keyed by item ids
    comparison: SavedComparison | None = None  # the last Compare run: B over the embedded items, and the numbers

    def summary(self) -> str:
        """'40 documents, 6 queries; 384-d vectors; 2-D layout' for a recovery prompt or a status bar."""
        docs = sum(1 for i in self.items if i.kind == "document")
        queries = len(self.items) - docs
        parts = [f"{docs} document{'s' if docs != 1 else ''}, {queries} quer{'ies' if queries != 1 else 'y'}"]
        if self.embedding is not None:
            parts.append(f"{self.embedding.dim}-d vectors")
        if self.projection is not None:
            parts.append("2-D layout")
        if self.clusters is not None:
            parts.append(f"{len(set(self.clusters.tolist()) - {-1})} clusters")
        if self.comparison is not None:
            b = self.comparison.result_b
            parts.append(f"compared with B ({b.spec.model}, {b.dim}-d)")
        return "; ".join(parts)


# -- writing --------------------------------------------------------------------------------------------------
def _check_workspace(workspace: Workspace) -> None:
    rows = len(workspace.embedding.items) if workspace.embedding is not None else 0
    if workspace.embedding is not None and len(workspace.embedding.vectors) != rows:
        raise ValueError("embedding vectors and items are not aligned")
    for name, array, width in (("projection", workspace.projection, 2), ("clusters", workspace.clusters, None),
                               ("subclusters", workspace.subclusters, None),
                               ("cluster_assigned", workspace.cluster_assigned, None)):  # fmt: skip
        if array is None:
            continue
        if workspace.embedding is None or len(array) != rows or (width and np.shape(array)[1:] != (width,)):
            raise ValueError(f"{name} must have one row per embedded item")


def save_workspace(
    path: str | Path,
    workspace: Workspace,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> Path:
    """Write `workspace` to `path` atomically (a crash or cancel leaves the previous file as it was)."""
    path = Path(path)
    _check_workspace(workspace)
    members: dict[str, bytes] = {}
    buffer = io.BytesIO()
    embedded = workspace.embedding.items if workspace.embedding is not None else None
    pq.write_table(items_table(workspace.items, embedded), buffer)
    members["items.parquet"] = buffer.getvalue()
    progress(1, 4)
    raise_if_cancelled(cancelled)
    embedding_info = None
    if workspace.embedding is not None:
        result = workspace.embedding
        members["vectors.npy"] = npy_bytes(np.asarray(result.vectors, dtype=np.float32))
        embedding_info = {
            "spec": spec_to_json(result.spec),
            "dim": int(result.dim),
            "rows": len(result.items),
            "encoded": int(result.encoded),
            "from_cache": int(result.from_cache),
        }
        if result.long_texts:  # the long-text policy that made these rows (core.long_texts), as plain JSON
            embedding_info["long_texts"] = result.long_texts
    if workspace.projection is not None:
        members["projection.npy"] = npy_bytes(np.asarray(workspace.projection, dtype=np.float32))
    if workspace.clusters is not None:
        members["clusters.npy"] = npy_bytes(np.asarray(workspace.clusters, dtype=np.int64))
        if workspace.subclusters is not None:
            members["subclusters.npy"] = npy_bytes(np.asarray(workspace.subclusters, dtype=np.int64))
        if workspace.cluster_assigned is not None:
            members["cluster_assigned.npy"] = npy_bytes(np.asarray(workspace.cluster_assigned, dtype=bool))
    if workspace.labels is not None:
        members["qrels.parquet"] = labels_bytes(workspace.labels)
    comparison_info = None
    if workspace.comparison is not None:
        comparison_info, comparison_members = comparison_entry(workspace.comparison, workspace.embedding)
        members.update(comparison_members)
    progress(2, 4)
    raise_if_cancelled(cancelled)
    manifest = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "app_version": __version__,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "summary": workspace.summary(),
        "spec": spec_to_json(workspace.spec),
        "embedding": embedding_info,
        "projection_note": workspace.projection_note,
        "cluster_names": {str(k): v for k, v in workspace.cluster_names.items()},
        "subcluster_names": {str(k): v for k, v in workspace.subcluster_names.items()},
        "subcluster_parent": {str(k): int(v) for k, v in workspace.subcluster_parent.items()},
        "cluster_prompts": {str(k): v for k, v in workspace.cluster_prompts.items()},
        "selection": list(workspace.selection),
        "view": without_secrets(workspace.view),
        "labels_source": workspace.labels.source if workspace.labels is not None else None,
        "comparison": comparison_info,
        "members": {
            name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()} for name, data in members.items()
        },
    }
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=1, default=str).encode("utf-8")
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        archive.writestr(MANIFEST, manifest_bytes, compress_type=zipfile.ZIP_DEFLATED)
        for name, data in members.items():
            raise_if_cancelled(cancelled)
            archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)
    progress(4, 4)
    return path


# -- reading --------------------------------------------------------------------------------------------------
def load_workspace(
    path: str | Path, progress: ProgressFn = no_progress, cancelled: CancelledFn = never_cancelled
) -> Workspace:
    """Read and check a whole workspace file; raise InputError (naming the file and the problem) on any defect."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = manifest_of(archive, path)
            if (problem := comparison_problem(manifest.get("comparison"))) is not None:
                raise damaged(path, problem)
            items_data = member(archive, manifest, "items.parquet", path)
            if items_data is None:
                raise damaged(path, "items.parquet is missing")
            progress(1, 4)
            raise_if_cancelled(cancelled)
            vectors = array_from(member(archive, manifest, "vectors.npy", path), "vectors.npy", path)
            progress(2, 4)
            raise_if_cancelled(cancelled)
            projection = array_from(member(archive, manifest, "projection.npy", path), "projection.npy", path)
            clusters = array_from(member(archive, manifest, "clusters.npy", path), "clusters.npy", path)
            subclusters = array_from(member(archive, manifest, "subclusters.npy", path), "subclusters.npy", path)
            assigned = array_from(member(archive, manifest, "cluster_assigned.npy", path), "cluster_assigned.npy",
                                  path)  # fmt: skip
            vectors_b = array_from(member(archive, manifest, VECTORS_B, path), VECTORS_B, path)
            xy_b = array_from(member(archive, manifest, LAYOUT_B, path), LAYOUT_B, path)
            source = manifest.get("labels_source")
            labels = labels_from(
                member(archive, manifest, "qrels.parquet", path), source if isinstance(source, str) else "", path
            )
    except zipfile.BadZipFile as error:
        raise damaged(path, str(error)) from error
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror or error}).") from error
    corpus, embedded = items_from(items_data, path)
    if len({item.id for item in corpus}) != len(corpus):
        raise damaged(path, "two items share an id")
    progress(3, 4)
    spec = spec_from_json(manifest.get("spec"), str(path))
    embedding = None
    info = manifest.get("embedding")
    if info is not None:
        rows = int(info.get("rows", -1))
        if vectors is None or vectors.ndim != 2 or len(vectors) != rows or sorted(embedded) != list(range(rows)):
            raise damaged(path, "the vectors do not match the embedded items")
        if vectors.shape[1] != info["dim"]:
            raise damaged(path, f"the vectors are {vectors.shape[1]}-d where the manifest says {info['dim']}-d")
        floating = np.issubdtype(vectors.dtype, np.floating)
        if not floating or first_nonfinite_row(vectors) is not None or first_zero_row(vectors) is not None:
            raise damaged(path, "the vectors hold NaN, infinite or all-zero rows")
        if len({item.id for item in embedded.values()}) != rows:
            raise damaged(path, "two embedded items share an id")
        embedding = EmbeddingResult(
            items=[embedded[r] for r in range(rows)],
            vectors=vectors.astype(np.float32, copy=False),
            spec=spec_from_json(info.get("spec"), str(path)),
            dim=int(info["dim"]),
            encoded=int(info.get("encoded", 0)),
            from_cache=int(info.get("from_cache", 0)),
            long_texts=info["long_texts"] if isinstance(info.get("long_texts"), dict) else None,
        )
    rows = len(embedding.items) if embedding else 0
    if projection is not None and (embedding is None or projection.shape != (rows, 2)):
        raise damaged(path, "the 2-D layout does not match the vectors")
    if clusters is not None and (embedding is None or clusters.shape != (rows,)):
        raise damaged(path, "the clusters do not match the vectors")
    for array, what, dtype in ((subclusters, "sub-clusters", np.integer), (assigned, "noise assignments", np.bool_)):
        if array is not None and (clusters is None or array.shape != (rows,) or not np.issubdtype(array.dtype, dtype)):
            raise damaged(path, f"the {what} do not match the clusters")
    try:
        cluster_names = {int(k): str(v) for k, v in (manifest.get("cluster_names") or {}).items()}
        subcluster_names = {int(k): str(v) for k, v in (manifest.get("subcluster_names") or {}).items()}
        subcluster_parent = {int(k): int(v) for k, v in (manifest.get("subcluster_parent") or {}).items()}
        cluster_prompts = {int(k): str(v) for k, v in (manifest.get("cluster_prompts") or {}).items()}
    except (TypeError, ValueError, AttributeError) as error:
        raise damaged(path, "the cluster names cannot be read") from error
    comparison = comparison_from(manifest.get("comparison"), vectors_b, xy_b, embedding, path)
    progress(4, 4)
    return Workspace(
        items=corpus,
        spec=spec,
        embedding=embedding,
        projection=None if projection is None else projection.astype(np.float32, copy=False),
        projection_note=str(manifest.get("projection_note") or ""),
        clusters=clusters,
        cluster_names=cluster_names,
        subclusters=subclusters,
        subcluster_names=subcluster_names,
        subcluster_parent=subcluster_parent,
        cluster_assigned=assigned,
        cluster_prompts=cluster_prompts,
        selection=[str(i) for i in manifest.get("selection") or []],
        view=manifest.get("view") if isinstance(manifest.get("view"), dict) else {},
        saved_at=str(manifest.get("saved_at") or ""),
        labels=labels,
        comparison=comparison,
    )


# -- autosave and recovery ------------------------------------------------------------------------------------
AUTOSAVE_INTERVAL_S = 60


def autosave_dir() -> Path:
    path = data_dir() / "autosave"
    path.mkdir(parents=True, exist_ok=True)
    return path


def autosave_path(pid: int | None = None) -> Path:
    """This process's autosave file; one per running app, so two windows never overwrite each other's."""
    return autosave_dir() / f"autosave-{os.getpid() if pid is None else pid}{WORKSPACE_SUFFIX}"


def write_autosave(
    workspace: Workspace, progress: ProgressFn = no_progress, cancelled: CancelledFn = never_cancelled
) -> Path:
    """Save `workspace` to this process's autosave file (atomically, like every save)."""
    return save_workspace(autosave_path(), workspace, progress, cancelled)


def discard_autosave(path: Path | None = None) -> None:
    """Remove an autosave file: this process's on a clean exit, or one the user chose not to recover."""
    (path or autosave_path()).unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate the process on Windows
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class RecoveryFile:
    """An autosave a previous run left behind (it did not exit cleanly), for the recovery offer at start."""

    path: Path
    saved_at: str
    summary: str


def recovery_files() -> list[RecoveryFile]:
    """Autosaves of app runs that are no longer running, newest first; unreadable ones are skipped."""
    found: list[tuple[float, RecoveryFile]] = []
    for path in autosave_dir().glob(f"autosave-*{WORKSPACE_SUFFIX}"):
        try:
            pid = int(path.stem.removeprefix("autosave-"))
        except ValueError:
            continue
        if _process_alive(pid):
            continue
        try:
            manifest = read_manifest(path)
        except InputError:
            continue
        summary = str(manifest.get("summary") or "")
        found.append((path.stat().st_mtime, RecoveryFile(path, str(manifest.get("saved_at", "")), summary)))
    return [entry for _, entry in sorted(found, key=lambda pair: pair[0], reverse=True)]
