"""A synthetic map of n items: Gaussian blobs of different sizes and spreads, one topic per blob, a few queries.

Shared by bench/responsiveness.py and scripts/million_map.py: a million texts need not be embedded to see how the
map draws a million points, so the items, their 2-D layout and small stand-in vectors are made directly.
"""

from __future__ import annotations

import numpy as np

TOPICS = ("astronomy", "cooking", "finance", "football", "software", "rivers", "music", "law", "medicine", "travel",
          "gardening", "chess")  # fmt: skip
QUERY_TEXTS = ("where do stars form?", "how to bake bread?", "what is a bond yield?", "who won the cup?")


def blob_map(n: int, seed: int = 0, queries: int = len(QUERY_TEXTS)):
    """(items, xy float32 (n, 2), vectors float32 (n, 8) L2-normalised): n - queries documents, then the queries."""
    from workbench.core.embedders.base import l2_normalise
    from workbench.core.items import Item

    rng = np.random.default_rng(seed)
    documents = n - queries
    centres = rng.uniform(-10, 10, size=(len(TOPICS), 2))
    spreads = rng.uniform(0.4, 1.8, size=len(TOPICS))
    weights = rng.uniform(0.3, 1.0, size=len(TOPICS))
    topic = rng.choice(len(TOPICS), size=documents, p=weights / weights.sum())
    xy = centres[topic] + rng.normal(size=(documents, 2)) * spreads[topic, None]
    query_xy = centres[: queries % (len(TOPICS) + 1)] + rng.normal(scale=0.2, size=(queries, 2))
    xy = np.concatenate([xy, query_xy]).astype(np.float32)
    names = [TOPICS[t] for t in topic.tolist()]
    items = [Item(f"d{row}", f"{name} note {row}", "document", {"topic": name}) for row, name in enumerate(names)]
    items += [Item(f"q{k}", QUERY_TEXTS[k % len(QUERY_TEXTS)], "query", {}) for k in range(queries)]
    vectors = l2_normalise(np.concatenate([xy, rng.normal(scale=0.3, size=(n, 6)).astype(np.float32)], axis=1))
    return items, xy, vectors.astype(np.float32)
