from __future__ import annotations

import numpy as np
import pytest

from workbench.core.cache import EmbeddingCache
from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.embedding import embed_items
from workbench.core.errors import Cancelled, InputError, ServiceError
from workbench.core.items import Item


class CountingEmbedder:
    """A deterministic embedder that records every call, to test the pipeline around any provider."""

    batch_size = 3
    max_concurrency = 2

    def __init__(self, dim: int = 8) -> None:
        self.spec = EmbeddingSpec(provider="counting", model="hash", dim=dim)
        self.calls: list[tuple[str, list[str]]] = []
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    def _vectors(self, texts: list[str]) -> list[np.ndarray]:
        rng = [np.random.default_rng(abs(hash(t)) % 2**32).normal(size=self._dim) for t in texts]
        return list(l2_normalise(np.array(rng)))

    def encode_documents(self, documents: list[str]) -> list[np.ndarray]:
        self.calls.append(("document", list(documents)))
        return self._vectors(documents)

    def encode_queries(self, queries: list[str]) -> list[np.ndarray]:
        self.calls.append(("query", list(queries)))
        return self._vectors(queries)


def test_cache_returns_same_vectors_without_calling_the_model_again() -> None:
    items = [Item.create(f"text {i}") for i in range(7)] + [Item.create("q", "query")]
    embedder = CountingEmbedder()
    cache = EmbeddingCache()
    first = embed_items(items, embedder, cache)
    calls_after_first = len(embedder.calls)
    assert calls_after_first == 4  # 7 documents in batches of 3, 1 query
    assert first.encoded == 8 and first.from_cache == 0
    second = embed_items(items, embedder, cache)
    assert len(embedder.calls) == calls_after_first
    assert second.from_cache == 8 and second.encoded == 0
    np.testing.assert_array_equal(first.vectors, second.vectors)


def test_identical_texts_with_different_metadata_are_encoded_once() -> None:
    items = [Item.create("same", "document", {"row": 1}), Item.create("same", "document", {"row": 2})]
    embedder = CountingEmbedder()
    result = embed_items(items, embedder, EmbeddingCache())
    assert sum(len(texts) for _, texts in embedder.calls) == 1
    assert result.vectors.shape == (2, 8)
    np.testing.assert_array_equal(result.vectors[0], result.vectors[1])


def test_documents_and_queries_go_to_their_own_encoder() -> None:
    embedder = CountingEmbedder()
    embed_items([Item.create("d"), Item.create("q", "query")], embedder)
    assert sorted(embedder.calls) == [("document", ["d"]), ("query", ["q"])]


def test_cancel_keeps_finished_batches_so_a_rerun_pays_only_for_the_rest() -> None:
    items = [Item.create(f"text {i}") for i in range(9)]
    embedder = CountingEmbedder()
    embedder.max_concurrency = 1
    cache = EmbeddingCache()
    seen: list[int] = []

    def cancel_after_first_batch() -> bool:
        return bool(seen) and seen[-1] >= 3

    with pytest.raises(Cancelled):
        embed_items(items, embedder, cache, progress=lambda d, t: seen.append(d), cancelled=cancel_after_first_batch)
    assert cache.count() == 3
    embedder.calls.clear()
    result = embed_items(items, embedder, cache)
    assert sum(len(texts) for _, texts in embedder.calls) == 6
    assert result.from_cache == 3


def test_wrong_count_or_nan_from_a_provider_is_refused_before_the_cache() -> None:
    class Broken(CountingEmbedder):
        def encode_documents(self, documents: list[str]) -> list[np.ndarray]:
            vectors = super().encode_documents(documents)
            vectors[0] = np.full(self._dim, np.nan, np.float32)
            return vectors

    cache = EmbeddingCache()
    with pytest.raises(ServiceError, match="NaN"):
        embed_items([Item.create("a")], Broken(), cache)
    assert cache.count() == 0


def test_local_embedder_gives_384_d_unit_vectors_and_ranks_related_pairs_higher(local_embedder) -> None:
    docs = local_embedder.encode_documents(["A cat sat on the mat.", "Stock markets fell sharply today."])
    query = local_embedder.encode_queries(["Where is the kitten sitting?"])[0]
    assert local_embedder.dim == 384
    for vector in [*docs, query]:
        assert vector.dtype == np.float32 and vector.shape == (384,)
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
    assert float(query @ docs[0]) > float(query @ docs[1]) + 0.2


def test_unknown_local_model_is_a_clear_input_error() -> None:
    from workbench.core.embedders.local import LocalEmbedder

    with pytest.raises(InputError, match="no-such-model-xyz"):
        _ = LocalEmbedder("no-such-model-xyz").dim


def test_texts_are_sent_longest_first_so_a_batch_holds_texts_of_about_one_length() -> None:
    """A local model pads every text of a batch to its longest: input order cost a quarter of the speed."""
    texts = ["a", "a much longer text than the rest", "mid length", "bb", "a fairly long text here", "ccc", "dd"]
    items = [Item.create(t) for t in texts]
    embedder = CountingEmbedder()
    embedder.max_concurrency = 1  # one batch at a time: the calls are in the order they were sent
    result = embed_items(items, embedder)
    sent = [text for _, batch in embedder.calls for text in batch]
    assert sent == sorted(texts, key=len, reverse=True)
    assert result.texts == texts  # the vectors come back in the items' order
    again = CountingEmbedder()
    assert np.allclose(result.vectors, np.stack(again._vectors(texts)))
