"""2-D layouts of embeddings: an instant PCA, then UMAP (cosine) on every core, from exact neighbours where they win.

Why not just `umap.UMAP().fit_transform`:
- Cold start. umap-learn's import and its numba compilation cost tens of seconds in a fresh process, and every
  layout runs in one (the GUI's child, a CLI run). We keep numba's cache in the user cache dir (NUMBA_CACHE_DIR,
  set before numba is imported), let numba keep umap-learn's and pynndescent's compilation there too, not only
  what their authors marked for it (`_keep_compilation_on_disk`), warm it in the background at app start
  (`warm_up_umap`), and hand UMAP exact neighbours from `core.knn` (`precomputed_knn`) where they win, which
  skips nearest-neighbour descent and the part of its compilation no cache keeps.
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
cores; umap-learn's NN-descent costs ~n on every core, plus a compilation paid on its first call in every
process: numba keeps most of it on disk (`_keep_compilation_on_disk`) but not `nn_descent` itself ("uses dynamic
globals", numba says). Every layout runs in a fresh process (the GUI's child, a CLI run), so that part is paid
every time. Measured on the 2-core machine this was written on (`bench/knn_crossover.py`, k=15, 384-d, quiet
machine; seconds):

    n                       2 000    5 000   10 000   20 000
    exact kNN (ours)         0.11     1.07     3.85     8.29   (before top-k used threads: ~4.2e-8 core-s/pair)
    NN-descent (warm)        0.18     0.53     1.65     2.43   (~2.4e-4 core-s/point)
    NN-descent compilation, first call in a fresh process: ~26 s at any n with nothing on disk, ~11 s with
    the rest of it on disk (two runs: 11.7 s, 10.8 s)

so exact wins up to n ≈ 26 000 on 2 cores (38 000 while all 26 s were paid), and the crossover grows with
the cores (~68 000 on 16), since only the exact side divides by them. `exact_knn_wins` is that model with
these constants.

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

Looking for more speed at 100 000 points, the same 20 000 text vectors again (exact neighbours shared, fit
only, a quieter machine): fewer epochs or fewer negative samples per edge cost too much, so neither changed.

    umap-learn's own (spectral, 200 epochs)                10.2 s   0.7316
    PCA start, 100 epochs (what 100 000+ points get)        4.9 s   0.7273   (-0.004)
    PCA start, 75 epochs                                    3.6 s   0.7225   (-0.009)
    PCA start, 60 epochs                                    3.1 s   0.7240   (-0.008)
    PCA start, 100 epochs, negative_sample_rate 3 (not 5)   3.3 s   0.7158   (-0.016)
    PCA start, 100 epochs, negative_sample_rate 2           3.2 s   0.7059   (-0.026)

Whole path, fresh processes (`bench/projection.py --sizes 20000,100000 --repeat 3`, planted clusters, 2 cores
shared with other work, load average 0.7-3, the fastest of three runs a side): 20 000 points 12.7 s against
plain umap-learn's 43.3 s (0.29); 100 000 points 33.8 s against 67.3 s (0.50; run by run 0.46, 0.75, 0.47;
CPU seconds 0.56), trustworthiness within 0.0002 of plain at both sizes. Before numba kept umap-learn's
compilation and PCA ran in float32 (one run a side, load ~5): 62.5 s against 78.6 s (0.79) and 133.7 s
against 211.7 s (0.63).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
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
NN_DESCENT_COMPILE_SECONDS = 11.0  # what stays uncached (was 26 with nothing on disk)
LARGE_LAYOUT = 50_000
MIN_EPOCHS = 100
_warm_lock = threading.Lock()

log = logging.getLogger("workbench.core.projection")


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

    Float32 throughout but the d × d eigen-problem: a float64 copy of 100 000 × 384 vectors and its float64
    product took ~6 s on 2 cores, float32 a fraction of a second, and the layout (float32) cannot tell them apart.
    Signs are fixed (largest-magnitude loading positive) so the same input always gives the same picture.
    """
    data = np.asarray(vectors, dtype=np.float32)
    n = len(data)
    if n == 0:
        return np.zeros((0, 2), np.float32)
    centred = data - data.mean(axis=0, dtype=np.float64).astype(np.float32)
    covariance = (centred.T @ centred).astype(np.float64)
    values, vecs = np.linalg.eigh(covariance)
    top = vecs[:, np.argsort(values)[::-1][:2]]
    if top.shape[1] < 2:
        top = np.pad(top, ((0, 0), (0, 2 - top.shape[1])))
    signs = np.sign(top[np.abs(top).argmax(axis=0), np.arange(2)])
    signs[signs == 0] = 1
    return centred @ (top * signs).astype(np.float32)


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
    """The `umap` module, imported only after numba's cache dir is set (the dir is read when numba starts) and
    with its compilation kept there (`_keep_compilation_on_disk`): every UMAP fit, the map's here and the
    clusters' reduction in core.clusters, imports it through this."""
    _prepare_numba_cache()
    import umap

    _keep_compilation_on_disk()
    return umap


CACHED_PACKAGES = ("umap", "pynndescent")
_NOT_CACHEABLE = ".*Cannot cache compiled function"  # numba's message starts with terminal colour codes


def _keep_compilation_on_disk() -> None:
    """Let numba keep umap-learn's and pynndescent's compiled functions on disk (NUMBA_CACHE_DIR), as it keeps
    the ones their authors marked `cache=True`.

    umap-learn marks none (smooth_knn_dist, compute_membership_strengths, the epoch loop: ~10 s of compilation
    in every fresh process, at any n) and pynndescent only some (NN-descent: ~26 s). Numba's decorator turns
    caching on by calling the dispatcher's `enable_caching()`; we call it on every module-level dispatcher of
    those packages that has none, before anything compiles. Numba keys each entry on the source file, so an
    upgraded umap-learn recompiles. A function numba refuses to cache (pynndescent's `nn_descent`: "uses dynamic
    globals"; ~11 s still paid per process) just compiles as before; that warning is silenced. Measured in
    `bench/projection.py` and `bench/knn_crossover.py` (the module docstring has the numbers).
    """
    import warnings

    try:  # numba's internals (`_cache`, NullCache): a numba that moved them only costs the compile time again
        from numba.core.caching import NullCache
        from numba.core.errors import NumbaWarning
        from numba.core.registry import CPUDispatcher

        warnings.filterwarnings("ignore", message=_NOT_CACHEABLE, category=NumbaWarning)
        for name, module in list(sys.modules.items()):
            if module is None or name.split(".")[0] not in CACHED_PACKAGES:
                continue
            for value in list(vars(module).values()):
                if isinstance(value, CPUDispatcher) and isinstance(getattr(value, "_cache", None), NullCache):
                    value.enable_caching()
    except (ImportError, AttributeError, TypeError) as error:
        log.info("numba will not keep umap-learn's compilation on disk (%s); each layout compiles it again", error)


def warm_up_umap() -> None:
    """Import umap and compile its fit once (numba caches it on disk): call it on a background thread at start.

    Both neighbour paths: the exact one (what small maps use) at every start, NN-descent (large maps, above
    `exact_knn_wins`) once per version of umap-learn, pynndescent and numba, since what it leaves on disk stays
    there and what it cannot leave (~11 s) would be paid again at every start for nothing.
    """
    with _warm_lock:
        rng = np.random.default_rng(0)
        vectors = rng.normal(size=(64, 8)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        project_2d(vectors, method="umap", seed=None, n_neighbors=5)  # the default path: every core
        _warm_up_nn_descent_once()


def _warm_up_nn_descent_once() -> None:
    import numba
    import pynndescent

    umap = import_umap()
    from umap.umap_ import nearest_neighbors

    marker = Path(os.environ["NUMBA_CACHE_DIR"]) / (
        f"nn-descent-warm-umap{umap.__version__}-pynndescent{pynndescent.__version__}-numba{numba.__version__}"
    )
    if marker.exists():
        return
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(300, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    # the call umap.UMAP makes for 4 096+ points without precomputed neighbours (same types: same compilation)
    nearest_neighbors(vectors, 15, "cosine", {}, False, None, low_memory=True, n_jobs=-1)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()


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
