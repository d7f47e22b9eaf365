"""2-D layouts of embeddings: an instant PCA, then UMAP (cosine) on every core, from exact neighbours where they win.

Why not just `umap.UMAP().fit_transform`:
- Cold start. umap-learn's import and its numba compilation cost tens of seconds in a fresh environment. We keep
  numba's cache in the user cache dir (NUMBA_CACHE_DIR, set before numba is imported), warm it in the
  background at app start (`warm_up_umap`), and hand UMAP exact neighbours from `core.knn` (`precomputed_knn`),
  which skips nearest-neighbour descent and its ~30 s compile for inputs of 4 096+ points.
- Tiny inputs. Below 15 points UMAP's defaults break (spectral init, n_neighbors > n); those get PCA and a
  note that says so. From 15 points up, n_neighbors is capped at n - 1.
- Honesty. `Projection.method` says what actually ran and `note` says why, for the view to show.
- A frozen window. numba compiles and umap imports while holding the GIL for hundreds of milliseconds, which
  stalls a GUI thread even when UMAP runs on a worker thread. `project_2d_in_subprocess` runs the fit in a child
  process instead (the GUI's path): the app never imports umap, and Cancel really stops a fit by ending the
  child. The CLI calls `project_2d` directly.
- Every core by default. umap-learn runs single-threaded whenever it is given a seed; a layout is asked for
  with `seed=None` (every core, each run a little different) unless the person asks for a reproducible one.
  The n_jobs umap-learn is handed says which (-1 or 1), so it never has to override ours with a warning.

Exact neighbours only where they win (`exact_knn_wins`). Our blocked exact kNN costs ~n² and scales with the
cores; umap-learn's NN-descent costs ~n on every core, plus a compilation numba cannot keep on disk (the
distance function is passed as an argument), paid on its first call in every process. Every layout runs in a
fresh process (the GUI's child, a CLI run), so that compilation is paid every time. Measured on the 2-core
machine this was written on (`bench/knn_crossover.py`, k=15, 384-d, quiet machine; seconds):

    n                       2 000    5 000   10 000   20 000
    exact kNN (ours)         0.11     1.07     3.85     8.29   (before top-k used threads: ~4.2e-8 core-s/pair)
    NN-descent (warm)        0.18     0.53     1.65     2.43   (~2.4e-4 core-s/point)
    NN-descent compilation, first call in a fresh process: ~26 s at any n

so exact wins up to n ≈ 38 000 on 2 cores, and the crossover grows with the cores (~√cores: ~100 000 on 16),
since only the exact side divides by them. `exact_knn_wins` is that model with these constants.

Large inputs (`LARGE_LAYOUT` points and more) start from our PCA layout instead of umap-learn's spectral one
(the picture the view shows while UMAP runs, so the map settles instead of jumping; no eigen-decomposition of
a big graph) and run fewer epochs (`epochs_for`). Measured on 2 cores with the neighbours computed once and
shared, trustworthiness (sklearn, 15 neighbours, cosine) on a 5 000-point sample, a loaded machine (times are
rough, trustworthiness is not):

    20 000 all-MiniLM vectors of generated texts   fit      trustworthiness
      umap-learn's own (spectral, 200 epochs)      45.3 s   0.7329
      PCA start, 100 epochs                         7.4 s   0.7279   (-0.005)
      PCA start, 50 epochs                          4.3 s   0.7178   (-0.015: too few)
      spectral, 50 epochs                          11.0 s   0.7186   (-0.014)
    100 000 planted-cluster vectors: every variant 0.9778-0.9780 (too easy to tell them apart)

Whole path, fresh processes (`bench/projection.py --sizes 20000,100000`, planted clusters, loaded machine):
20 000 points 62.5 s against plain umap-learn's 78.6 s (0.79); 100 000 points 133.7 s against 211.7 s
(0.63), trustworthiness equal to 4 decimals at both sizes.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

import numpy as np

from workbench.core.child_process import call_in_child
from workbench.core.embedders.base import first_nonfinite_row
from workbench.core.errors import InputError
from workbench.core.knn import top_k_neighbours
from workbench.core.paths import cache_dir
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress, raise_if_cancelled

Method = Literal["umap", "pca"]
UMAP_MIN_POINTS = 15
EXACT_CORE_SECONDS_PER_PAIR = 4.2e-8  # see the module docstring for where these come from
NN_DESCENT_CORE_SECONDS_PER_POINT = 2.4e-4
NN_DESCENT_COMPILE_SECONDS = 26.0
LARGE_LAYOUT = 50_000
MIN_EPOCHS = 100
_warm_lock = threading.Lock()


@dataclass(frozen=True)
class Projection:
    """A 2-D layout, row for row with the input vectors, and what produced it."""

    xy: np.ndarray  # (n, 2) float32
    method: str  # what actually ran: "umap", "pca", or "none" for fewer than two points
    note: str = ""  # a sentence for the view, e.g. why UMAP fell back to PCA


def _prepare_numba_cache() -> None:
    """Numba's compiled functions go to the user cache dir, so the second start skips compilation."""
    os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir() / "numba"))


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """The first two principal components, via the d × d covariance (cheap for any n), as float32 (n, 2).

    Signs are fixed (largest-magnitude loading positive) so the same input always gives the same picture.
    """
    data = np.asarray(vectors, dtype=np.float64)
    n = len(data)
    if n == 0:
        return np.zeros((0, 2), np.float32)
    centred = data - data.mean(axis=0)
    covariance = centred.T @ centred
    values, vecs = np.linalg.eigh(covariance)
    top = vecs[:, np.argsort(values)[::-1][:2]]
    if top.shape[1] < 2:
        top = np.pad(top, ((0, 0), (0, 2 - top.shape[1])))
    signs = np.sign(top[np.abs(top).argmax(axis=0), np.arange(2)])
    signs[signs == 0] = 1
    return (centred @ (top * signs)).astype(np.float32)


def _check(vectors: np.ndarray) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim != 2:
        raise InputError(f"Expected a 2-D array of vectors, got shape {array.shape}.")
    if (row := first_nonfinite_row(array)) is not None:
        raise InputError(f"Vector {row + 1} has NaN or infinite values; it cannot be projected.")
    return array


def usable_cores() -> int:
    """The cores this process may run on (a container or `taskset` may allow fewer than the machine has)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def exact_knn_wins(n: int, cores: int | None = None) -> bool:
    """Whether our exact kNN is faster than umap-learn's NN-descent (with its compilation) for n points here."""
    cores = max(1, cores or usable_cores())
    exact = EXACT_CORE_SECONDS_PER_PAIR * n * n / cores
    return exact < NN_DESCENT_COMPILE_SECONDS + NN_DESCENT_CORE_SECONDS_PER_POINT * n / cores


def epochs_for(n: int) -> int | None:
    """UMAP's optimisation epochs for n points: None (umap-learn's own: 500 up to 10 000 points, then 200) below
    LARGE_LAYOUT; above it the epochs shrink as n grows (200 · LARGE_LAYOUT / n), so the optimisation's work stops
    growing with n, but never below MIN_EPOCHS: 50 epochs lost 0.015 of trustworthiness on text vectors, 100
    epochs 0.005 (the module docstring has the table)."""
    if n < LARGE_LAYOUT:
        return None
    return max(MIN_EPOCHS, round(200 * LARGE_LAYOUT / n))


def umap_options(n: int, seed: int | None) -> dict:
    """What we hand umap.UMAP beyond the person's choices: threads, and for large inputs epochs (init is
    added by the caller, which has the data)."""
    options: dict = {"random_state": seed, "n_jobs": 1 if seed is not None else -1}
    if (epochs := epochs_for(n)) is not None:
        options["n_epochs"] = epochs
    return options


def project_2d(
    vectors: np.ndarray,
    method: Method = "umap",
    seed: int | None = None,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> Projection:
    """A 2-D layout of `vectors` (L2-normalised rows). No seed (the default): UMAP on every core; a seed makes it
    deterministic and single-threaded.

    Progress is reported in stages (neighbours, then the UMAP fit); cancel is honoured between stages and
    between neighbour blocks. UMAP's own epochs cannot be interrupted.
    """
    array = _check(vectors)
    n = len(array)
    if method not in ("umap", "pca"):
        raise InputError(f"Unknown projection method '{method}': use umap or pca.")
    if n < 2:
        return Projection(
            np.zeros((n, 2), np.float32), "none", f"{n} point{'s' if n != 1 else ''}: nothing to lay out."
        )
    if method == "pca":
        return Projection(pca_2d(array), "pca", "PCA layout.")
    if n < UMAP_MIN_POINTS:
        return Projection(pca_2d(array), "pca", f"{n} points: PCA layout (UMAP needs at least {UMAP_MIN_POINTS}).")

    neighbours = max(2, min(int(n_neighbors), n - 1))
    stages = 3
    progress(0, stages)
    precomputed = None
    if exact_knn_wins(n):
        indices, scores = top_k_neighbours(
            array, neighbours, exclude_self=False, progress=lambda d, t: None, cancelled=cancelled
        )
        distances = np.clip(1.0 - scores, 0.0, 2.0).astype(np.float32)
        precomputed = (indices, distances, None)
    progress(1, stages)
    raise_if_cancelled(cancelled)
    umap = import_umap()
    import warnings

    with warnings.catch_warnings():
        # "precomputed_knn[2] is not an NNDescent object": we never call transform(), so that is fine.
        warnings.filterwarnings("ignore", message=".*knn_search_index.*")
        options = umap_options(n, seed)
        if n >= LARGE_LAYOUT:
            options["init"] = pca_2d(array)
        reducer = umap.UMAP(
            n_components=2,
            n_neighbors=neighbours,
            min_dist=float(min_dist),
            metric="cosine",
            precomputed_knn=precomputed or (None, None, None),
            low_memory=True,
            **options,
        )
        xy = reducer.fit_transform(array)
    raise_if_cancelled(cancelled)
    progress(stages, stages)
    how = f"seed {seed} (reproducible, one core)" if seed is not None else "every core (no seed)"
    note = f"UMAP, {neighbours} neighbours, min_dist {min_dist:g}, {how}."
    return Projection(np.asarray(xy, dtype=np.float32), "umap", note)


def project_2d_in_subprocess(
    vectors: np.ndarray,
    method: Method = "umap",
    seed: int | None = None,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> Projection:
    """`project_2d` in a child process, so the calling process never holds the GIL for numba or umap.

    PCA and tiny inputs run in-process (milliseconds). Cancel ends the child at once and raises `Cancelled`.
    """
    array = _check(vectors)
    if method != "umap" or len(array) < UMAP_MIN_POINTS:
        return project_2d(array, method, seed, n_neighbors, min_dist, progress, cancelled)
    options = {"method": method, "seed": seed, "n_neighbors": n_neighbors, "min_dist": min_dist}
    return call_in_child(project_2d, array, progress=progress, cancelled=cancelled, label="UMAP", **options)


def warm_up_umap_in_subprocess() -> None:
    """Compile umap's numba code into the on-disk cache from a child process (called once at app start)."""
    import multiprocessing

    multiprocessing.get_context("spawn").Process(target=warm_up_umap, name="umap-warm-up", daemon=True).start()


def import_umap() -> ModuleType:
    """The `umap` module, imported only after numba's cache dir is set (the dir is read when numba starts): every
    UMAP fit, the map's here and the clusters' reduction in core.clusters, imports it through this."""
    _prepare_numba_cache()
    import umap

    return umap


def warm_up_umap() -> None:
    """Import umap and compile its fit once (numba caches it on disk): call it on a background thread at start."""
    with _warm_lock:
        rng = np.random.default_rng(0)
        vectors = rng.normal(size=(64, 8)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        project_2d(vectors, method="umap", seed=None, n_neighbors=5)  # the default path: every core


MAX_QUERY_NEIGHBOURS = 20


@dataclass
class QueryNeighbours:
    """Each query's nearest documents by cosine in the original space (what the map's query lines join)."""

    query_rows: np.ndarray  # rows of the queries, in embedding order
    neighbours: np.ndarray  # (queries, ≤ MAX_QUERY_NEIGHBOURS) rows of their nearest documents, best first

    @classmethod
    def none(cls) -> QueryNeighbours:
        return cls(np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.int64))


def query_neighbours(
    vectors: np.ndarray, kinds: np.ndarray, cancelled: CancelledFn = never_cancelled
) -> QueryNeighbours:
    """Exact cosine neighbours of every query among the documents (queries × documents: cheap next to a layout)."""
    query_rows = np.flatnonzero(kinds == "query")
    document_rows = np.flatnonzero(kinds == "document")
    if not (len(query_rows) and len(document_rows)):
        return QueryNeighbours(query_rows, np.zeros((len(query_rows), 0), dtype=np.int64))
    local, _ = top_k_neighbours(
        vectors[document_rows], MAX_QUERY_NEIGHBOURS, queries=vectors[query_rows], cancelled=cancelled
    )
    return QueryNeighbours(query_rows, document_rows[local])
