"""Clustering time and quality: our default (UMAP to 5 dims, then HDBSCAN) beside the plain scikit-learn HDBSCAN
call on the same vectors.

    python bench/clusters.py [--quick]

Data: (1) 600 Debian package descriptions in 10 sections (bench/_debian_corpus.py), embedded with the local
model (all-MiniLM-L6-v2, 384-d, through the embedding cache); the sections are the truth. (2) Planted groups: 20
centres in 384 dims, unit vectors, n items (2 000; without --quick also 5 000). Ours: `find_clusters` with its
defaults (automatic smallest cluster); baseline: `sklearn.cluster.HDBSCAN(min_cluster_size=<the same size>)` on
the raw vectors. Quality rows give the adjusted Rand index (ARI, higher is better) and the share of items called
noise. Times are warm: umap's import and numba compile are paid by an untimed run first (bench/projection.py
measures cold starts).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _debian_corpus import debian_descriptions
from _table import Row, emit

from workbench.core.clusters import automatic_smallest, find_clusters


def planted(n: int, dim: int = 384, groups: int = 20) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(groups, dim)) * 3
    truth = rng.integers(0, groups, n)
    vectors = centres[truth] + rng.normal(size=(n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32), truth


def embedded_descriptions() -> tuple[np.ndarray, np.ndarray] | None:
    corpus = debian_descriptions()
    if corpus is None:
        return None
    from workbench.core.cache import EmbeddingCache
    from workbench.core.embedders import default_spec, make_embedder
    from workbench.core.embedding import embed_items
    from workbench.core.items import Item

    texts, sections = corpus
    items = [Item.create(text) for text in texts]
    result = embed_items(items, make_embedder(default_spec("local")), EmbeddingCache())
    return result.vectors, np.array(sections)


def compare(name: str, vectors: np.ndarray, truth: np.ndarray) -> tuple[list[Row], str]:
    from sklearn.cluster import HDBSCAN
    from sklearn.metrics import adjusted_rand_score

    size = automatic_smallest(len(vectors))
    start = time.perf_counter()
    ours = find_clusters(vectors)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = HDBSCAN(min_cluster_size=size, copy=True).fit_predict(vectors)
    plain_s = time.perf_counter() - start
    size_text = f"{len(vectors)}"
    ari_ours, ari_plain = adjusted_rand_score(truth, ours.labels), adjusted_rand_score(truth, plain)
    noise_ours, noise_plain = float(np.mean(ours.labels == -1)), float(np.mean(plain == -1))
    rows = [
        Row(f"cluster {name} (time)", size_text, ours_s, f"sklearn HDBSCAN(min {size}), raw", plain_s),
        Row(f"cluster {name} (ARI, higher better)", size_text, ari_ours, "the same, ARI", ari_plain, "ARI"),
        Row(f"cluster {name} (noise share)", size_text, noise_ours, "the same, noise share", noise_plain, "fraction"),
    ]
    clusters_ours = len(set(ours.labels.tolist()) - {-1})
    clusters_plain = len(set(plain.tolist()) - {-1})
    note = (f"{name}: ours {clusters_ours} clusters ({ours.note}); plain HDBSCAN {clusters_plain} clusters; "
            f"{len(set(truth.tolist()))} true groups")  # fmt: skip
    return rows, note


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the descriptions and 2 000 planted items only")
    args = parser.parse_args()
    find_clusters(planted(200)[0])  # untimed: umap's import and numba compile
    rows: list[Row] = []
    notes = []
    descriptions = embedded_descriptions()
    if descriptions is None:
        notes.append("Debian descriptions skipped: no apt-cache here (planted data only)")
    else:
        found_rows, note = compare("descriptions", *descriptions)
        rows += found_rows
        notes.append(note)
    for n in [2000] if args.quick else [2000, 5000]:
        found_rows, note = compare("planted", *planted(n))
        rows += found_rows
        notes.append(note)
    emit("Clusters: UMAP 5-d + HDBSCAN (ours) vs HDBSCAN on the raw 384-d vectors", rows, "\n".join(notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
