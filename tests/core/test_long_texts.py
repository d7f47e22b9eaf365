"""Token counts before embedding, the long-text policies (chunk, truncate, refuse), parents, and the exchange file.

The local model's tests check against the model's own tokenizer as sentence-transformers uses it
(`SentenceTransformer.tokenizer`, window `max_seq_length`), not against the copy `core.tokens` counts with; the
Gemini tests run the real google-genai client against the fake server's countTokens.
"""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from tests.fakes.fake_gemini import FakeGemini, fake_token_count
from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.embedders.gemini import GeminiEmbedder, RetryPolicy
from workbench.core.embedding import EmbeddingResult, embed_items
from workbench.core.errors import InputError
from workbench.core.exchange import read_parquet, write_parquet
from workbench.core.items import Item
from workbench.core.long_texts import CHUNK_COLUMNS, prepare_items
from workbench.core.milvus.results import Hit
from workbench.core.parents import group_hits_by_parent, mean_by_parent, parent_id_of, points_per_parent
from workbench.core.pricing import GEMINI_PRICES
from workbench.core.tokens import count_tokens

WORDS = [
    "river",
    "stone",
    "light",
    "harvest",
    "window",
    "engine",
    "garden",
    "silver",
    "market",
    "winter",
    "paper",
    "signal",
    "orbit",
    "meadow",
    "lantern",
    "copper",
    "forest",
    "thunder",
    "voyage",
    "quiet",
    "mirror",
    "velvet",
    "compass",
    "ember",
    "glacier",
    "harbour",
    "ribbon",
    "falcon",
    "marble",
]


def long_document(words: int = 3000, seed: int = 7) -> str:
    """Paragraphs of 120-400 words (many longer than the 256-token window) made of 6-25 word sentences."""
    rng = random.Random(seed)
    paragraphs, left = [], words
    while left > 0:
        size = min(left, rng.randint(120, 400))
        sentences, used = [], 0
        while used < size:
            length = min(size - used, rng.randint(6, 25))
            sentences.append(" ".join(rng.choice(WORDS) for _ in range(length)).capitalize() + ".")
            used += length
        paragraphs.append(" ".join(sentences))
        left -= size
    return "\n\n".join(paragraphs)


def st_token_count(local_embedder, text: str) -> int:
    """Tokens as sentence-transformers' own tokenizer counts them, special tokens included."""
    model = local_embedder._loaded()
    return len(model.tokenizer(text, truncation=False)["input_ids"])


def test_local_token_counts_match_the_models_tokenizer(local_embedder) -> None:
    texts = ["A short line.", "Ünïcödé and emoji 🎉 text", long_document(400), "", "word " * 300]
    items = [Item.create(t, metadata={"n": i}) for i, t in enumerate(texts)] + [Item.create("A short line.", "query")]
    counts = count_tokens(items, local_embedder)
    model = local_embedder._loaded()
    assert counts.window == model.max_seq_length == 256
    expected = [st_token_count(local_embedder, i.text) for i in items]
    assert counts.per_item.tolist() == expected
    assert counts.total == sum(expected)  # the query has the same text but is another kind: sent again
    assert counts.over_rows.tolist() == [r for r, n in enumerate(expected) if n > 256] == [2, 4]
    assert counts.method == "tokenizer" and counts.price is None
    assert "2 texts exceed the 256-token window" in counts.summary()


def test_a_3000_word_document_is_chunked_into_pieces_that_fit_with_offsets_that_reproduce_it(local_embedder) -> None:
    text = long_document(3000)
    assert len(text.split()) == 3000
    parent = Item.create(text, metadata={"source": "essay.md", "year": 2024}, item_id="essay")
    short = Item.create("A short note that fits.", metadata={"source": "note.md", "year": 2025}, item_id="note")
    prepared = prepare_items([parent, short], local_embedder, "chunk", overlap_tokens=32)

    chunks = [i for i in prepared.items if i.metadata["parent_id"] == "essay"]
    assert prepared.chunked == 1 and prepared.chunks == len(chunks) >= 3000 // 200
    for index, chunk in enumerate(chunks):
        assert st_token_count(local_embedder, chunk.text) <= 256  # nothing is cut by sentence-transformers
        meta = chunk.metadata
        assert chunk.id == f"essay#{index}" and meta["chunk_index"] == index
        assert text[meta["char_start"] : meta["char_end"]] == chunk.text
        assert meta["source"] == "essay.md" and meta["year"] == 2024  # the parent's metadata
        assert text[meta["char_end"] - 1] == "."  # split at sentence (or paragraph) ends, not inside a sentence
    covered = np.zeros(len(text), dtype=bool)
    for chunk in chunks:
        covered[chunk.metadata["char_start"] : chunk.metadata["char_end"]] = True
    assert all(covered[i] for i, c in enumerate(text) if not c.isspace())  # no word is lost between chunks
    starts = [c.metadata["char_start"] for c in chunks]
    ends = [c.metadata["char_end"] for c in chunks]
    assert starts == sorted(starts)
    assert any(s < e for s, e in zip(starts[1:], ends[:-1], strict=True))  # neighbours inside a paragraph overlap
    # a text that fits is its own single chunk, with its id unchanged
    note = prepared.items[-1]
    assert note.id == "note" and note.text == short.text
    assert {k: note.metadata[k] for k in CHUNK_COLUMNS} == {
        "parent_id": "note", "chunk_index": 0, "char_start": 0, "char_end": len(short.text)
    }  # fmt: skip
    assert prepared.record()["policy"] == "chunk" and "split into" in prepared.summary()


def test_chunk_offsets_are_character_offsets_with_non_ascii_text(local_embedder) -> None:
    text = "\n\n".join(
        " ".join(f"Ça coûte {n} € — naïve café №{n}, 東京 🎉." for n in range(p, p + 30)) for p in range(0, 120, 30)
    )
    prepared = prepare_items([Item.create(text, item_id="u")], local_embedder, "chunk")
    assert prepared.chunks > 1
    for chunk in prepared.items:
        assert text[chunk.metadata["char_start"] : chunk.metadata["char_end"]] == chunk.text
        assert st_token_count(local_embedder, chunk.text) <= 256


def test_truncate_cuts_to_the_window_and_says_how_many(local_embedder) -> None:
    text = long_document(600)
    items = [Item.create(text, item_id="long"), Item.create("short", item_id="short")]
    prepared = prepare_items(items, local_embedder, "truncate")
    long, short = prepared.items
    assert long.id == "long" and text.startswith(long.text) and len(long.text) < len(text)
    assert 250 <= st_token_count(local_embedder, long.text) <= 256  # as much as fits, no more
    assert long.metadata["char_end"] == len(long.text) and long.metadata["parent_id"] == "long"
    assert short.text == "short"
    assert prepared.truncated == 1 and "1 text(s) over the 256-token window truncated" in prepared.summary()


def test_chunk_truncates_queries_instead_of_splitting_them(local_embedder) -> None:
    query = Item.create(long_document(400), "query", item_id="q")
    prepared = prepare_items([query], local_embedder, "chunk")
    assert [i.id for i in prepared.items] == ["q"] and prepared.truncated == 1 and prepared.chunked == 0
    assert "queries" in prepared.summary()


def test_refuse_names_the_first_long_text_and_embeds_nothing(local_embedder) -> None:
    items = [Item.create("fits", item_id="a"), Item.create(long_document(500), item_id="b")]
    with pytest.raises(InputError, match=r"1 text\(s\) exceed the 256-token window.*item 'b'.*Nothing was sent"):
        prepare_items(items, local_embedder, "refuse")
    assert prepare_items(items[:1], local_embedder, "refuse").items == items[:1]  # nothing long: unchanged


def test_an_embedded_chunk_file_round_trips_the_chunk_columns_and_the_policy(local_embedder, tmp_path) -> None:
    items = [Item.create(long_document(800), metadata={"topic": "a"}, item_id="d1"), Item.create("tiny", item_id="d2")]
    prepared = prepare_items(items, local_embedder, "chunk")
    result = embed_items(prepared.items, local_embedder)
    path = tmp_path / "chunks.parquet"
    write_parquet(path, result.items, result.vectors, result.spec, long_texts=prepared.record())
    table = read_parquet(path)
    assert [i.id for i in table.items] == [i.id for i in prepared.items]
    keys = (*CHUNK_COLUMNS, "topic")  # (a column an item lacks reads back as None, as for any metadata)
    assert [[i.metadata.get(k) for k in keys] for i in table.items] == [
        [i.metadata.get(k) for k in keys] for i in prepared.items
    ]
    assert all(isinstance(i.metadata["char_start"], int) for i in table.items)
    assert table.long_texts == prepared.record() and table.long_texts["window"] == 256
    np.testing.assert_allclose(table.vectors, result.vectors)


def test_one_point_per_parent_is_the_renormalised_mean_of_its_chunks() -> None:
    parent = Item.create("First part. Second part. Third part.", metadata={"topic": "x"}, item_id="p")
    chunks = [
        Item("p#0", "First part.", "document", {"topic": "x", "parent_id": "p", "chunk_index": 0,
                                                "char_start": 0, "char_end": 11}),
        Item("p#1", "Second part. Third part.", "document", {"topic": "x", "parent_id": "p", "chunk_index": 1,
                                                             "char_start": 12, "char_end": 36}),
        Item("solo", "Alone.", "document", {"topic": "y"}),
        Item("q", "Question?", "query", {}),
    ]  # fmt: skip
    vectors = l2_normalise(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], dtype=np.float32))
    parents = mean_by_parent(chunks, vectors)
    assert [i.id for i in parents.items] == ["p", "solo", "q"]
    np.testing.assert_allclose(parents.vectors[0], np.array([1, 1, 0]) / np.sqrt(2), atol=1e-6)
    np.testing.assert_allclose(parents.vectors[1:], vectors[2:], atol=1e-6)
    assert [m.tolist() for m in parents.members] == [[0, 1], [2], [3]]
    rebuilt = parents.items[0]  # no sources: rebuilt from the chunks, without the chunk columns
    assert rebuilt.text == parent.text and dict(rebuilt.metadata) == {"topic": "x"}

    result = EmbeddingResult(chunks, vectors, EmbeddingSpec(), 3, 4, 0, sources=[parent, *chunks[2:]])
    shown = points_per_parent(result)
    assert [i.id for i in shown.items] == ["p", "solo", "q"] and shown.items[0] is parent
    assert shown.vectors.shape == (3, 3) and len(shown.chunk_rows) == 3
    assert [parent_id_of(i) for i in chunks] == ["p", "p", "solo", "q"]


def test_hits_are_grouped_by_parent_under_their_best_chunk() -> None:
    hits = [
        Hit("a#1", 0.7, metadata={"parent_id": "a"}),
        Hit("b", 0.9, metadata={}),
        Hit("a#0", 0.8, metadata={"parent_id": "a"}),
        Hit("c#0", 0.1, metadata={"parent_id": "c"}),
    ]
    groups = group_hits_by_parent(hits)
    assert [(g.parent_id, g.score, [h.id for h in g.hits]) for g in groups] == [
        ("b", 0.9, ["b"]), ("a", 0.8, ["a#0", "a#1"]), ("c", 0.1, ["c#0"])
    ]  # fmt: skip
    by_distance = group_hits_by_parent(hits, higher_is_nearer=False)  # L2: the smallest first
    assert by_distance[0].parent_id == "c"
    assert hits[0].parent_id == "a" and hits[1].parent_id == "b"


# -- Gemini, through the fake server's countTokens -----------------------------------------------------------------
@pytest.fixture
def server():
    with FakeGemini() as fake:
        yield fake


def gemini(server: FakeGemini, model: str = "gemini-embedding-001") -> GeminiEmbedder:
    retry = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.1)
    return GeminiEmbedder(model, "AIzaFAKE-key-0123456789", 768, base_url=server.base_url, retry=retry)


def gemini_text(tokens: int) -> str:
    """A text of exactly `tokens` fake tokens (four-letter words)."""
    return " ".join(["word"] * tokens)


def test_gemini_counts_come_from_count_tokens_with_the_price(server) -> None:
    texts = [f"short text number {i}." for i in range(150)] + [gemini_text(2500), gemini_text(1000) + "."]
    items = [Item.create(t) for t in texts] + [Item.create(texts[0])]  # a duplicate is counted once
    counts = count_tokens(items, gemini(server))
    expected = sum(fake_token_count(t) for t in texts)
    assert counts.total == expected and counts.method == "count_tokens" and counts.window == 2048
    assert counts.over_rows.tolist() == [150]  # 2 500 tokens; the 1 001-token text fits
    assert counts.per_item[150] == 2500 and counts.per_item[151] == 1001
    requests = [r for r in server.requests if r.path.endswith(":countTokens")]
    assert requests and not server.embed_requests()  # counting pays for nothing
    assert max(len(r.body["contents"]) for r in requests) <= 100
    assert counts.price is not None
    assert counts.price.dollars == pytest.approx(expected * GEMINI_PRICES["gemini-embedding-001"].per_million / 1e6)
    assert "exceeds the 2,048-token window" in counts.summary() and "$" in counts.summary()


def test_gemini_embedding_2_counts_what_is_sent_with_its_own_window(server) -> None:
    items = [Item.create("about cats"), Item.create(gemini_text(9000))]
    counts = count_tokens(items, gemini(server, "gemini-embedding-2"))
    assert counts.window == 8192 and counts.over == 1
    assert counts.total == fake_token_count("title: none | text: about cats") + fake_token_count(
        "title: none | text: " + gemini_text(9000)
    )


def test_gemini_refuse_sends_no_embedding_request_and_chunk_fits_the_window(server) -> None:
    embedder = gemini(server)
    items = [Item.create(gemini_text(5000) + ". " + "More words here. " * 400, item_id="big"), Item.create("small")]
    with pytest.raises(InputError, match="item 'big'"):
        prepare_items(items, embedder, "refuse")
    assert not server.embed_requests()
    prepared = prepare_items(items, embedder, "chunk")
    assert prepared.chunked == 1
    for chunk in prepared.items:
        assert fake_token_count(chunk.text) <= 2048
        start, end = chunk.metadata["char_start"], chunk.metadata["char_end"]
        assert items[0 if chunk.metadata["parent_id"] == "big" else 1].text[start:end] == chunk.text
    result = embed_items(prepared.items, embedder)
    assert len(result.vectors) == len(prepared.items)
    truncated = prepare_items(items, embedder, "truncate").items[0]
    assert fake_token_count(truncated.text) <= 2048 and re.match(r"^(word )+", truncated.text)


def test_hard_wrapped_lines_are_split_at_sentence_ends_not_line_ends(local_embedder) -> None:
    import textwrap

    paragraphs = [textwrap.fill(long_document(350, seed=s), width=72) for s in range(4)]
    text = "\r\n\r\n".join(p.replace("\n", "\r\n") for p in paragraphs)  # Windows line ends too
    prepared = prepare_items([Item.create(text, item_id="wrapped")], local_embedder, "chunk")
    assert prepared.chunks > 4
    for chunk in prepared.items:
        start, end = chunk.metadata["char_start"], chunk.metadata["char_end"]
        assert text[start:end] == chunk.text and text[end - 1] == "."
        assert st_token_count(local_embedder, chunk.text) <= 256


def test_a_failing_count_tokens_falls_back_to_a_stated_estimate(server) -> None:
    from tests.fakes.fake_gemini import Fault

    server.count_faults.extend([Fault(status=500, reason="INTERNAL", message="down")] * 6)  # 2 requests × 3 tries
    items = [Item.create("x" * 40), Item.create("y " * 3000)]
    counts = count_tokens(items, gemini(server))
    assert counts.method == "estimate" and counts.window == 2048
    assert counts.per_item.tolist() == [10, 1500] and counts.over == 0  # 4 characters per token
    assert "could not count tokens (500 INTERNAL)" in counts.summary() and "Estimated instead" in counts.summary()


def test_a_workspace_keeps_the_chunks_and_the_policy_record(local_embedder, tmp_path) -> None:
    from workbench.core.session import Workspace, load_workspace, save_workspace

    corpus = [Item.create(long_document(700), metadata={"topic": "a"}, item_id="d1"), Item.create("tiny", item_id="t")]
    prepared = prepare_items(corpus, local_embedder, "chunk")
    result = embed_items(prepared.items, local_embedder)
    result.long_texts = prepared.record()
    path = save_workspace(tmp_path / "w.workbench", Workspace(items=corpus, spec=result.spec, embedding=result))
    opened = load_workspace(path)
    assert opened.items == corpus and opened.embedding.items == prepared.items
    assert opened.embedding.long_texts == prepared.record()


def test_milvus_rows_and_hits_carry_the_parent_and_group_by_it(local_embedder, tmp_path) -> None:
    from workbench.core.milvus import MilvusTarget, open_milvus

    corpus = [
        Item.create(long_document(700, seed=1), metadata={"topic": "a"}, item_id="essay"),
        Item.create("Harvest and market in winter.", metadata={"topic": "b"}, item_id="note"),
    ]
    prepared = prepare_items(corpus, local_embedder, "chunk")
    result = embed_items(prepared.items, local_embedder)
    with open_milvus(MilvusTarget(str(tmp_path / "m.db"))) as db:
        db.push("chunks", result.items, result.vectors, result.spec)
        query = local_embedder.encode_queries(["river stone harvest market"])[0]
        hits = db.search("chunks", query, k=len(result.items))[0]
        essay_only = db.search("chunks", query, k=50, expression='metadata["parent_id"] == "essay"')[0]
    assert {h.parent_id for h in hits} == {"essay", "note"} and len(hits) == len(result.items)
    assert all(h.metadata["parent_id"] == h.parent_id for h in hits)
    assert essay_only and all(h.parent_id == "essay" and h.id.startswith("essay#") for h in essay_only)
    groups = group_hits_by_parent(hits)
    assert sorted(g.parent_id for g in groups) == ["essay", "note"]
    essay = next(g for g in groups if g.parent_id == "essay")
    assert len(essay.hits) == prepared.chunks and essay.score == max(h.score for h in essay.hits)


def test_chunking_reports_progress_and_stops_on_cancel(local_embedder) -> None:
    from workbench.core.errors import Cancelled

    items = [Item.create(long_document(400, seed=s), item_id=f"d{s}") for s in range(3)]
    counts = count_tokens(items, local_embedder)
    seen: list[tuple[int, int]] = []
    prepare_items(items, local_embedder, "chunk", counts, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 3) and seen[-1] == (3, 3)
    asked = iter([False, True])  # go on at the first long text, stop at the second
    with pytest.raises(Cancelled, match="after splitting 1 of 3"):
        prepare_items(items, local_embedder, "chunk", counts, cancelled=lambda: next(asked))


def test_gemini_embedding_2_chunks_fit_its_8192_window_as_sent_prefix_included(server) -> None:
    embedder = gemini(server, "gemini-embedding-2")
    text = " ".join(f"Sentence {n} has a few plain words." for n in range(1500))  # ~12 000 fake tokens
    prepared = prepare_items([Item.create(text, item_id="long")], embedder, "chunk")
    assert prepared.chunks > 1
    for chunk in prepared.items:
        assert fake_token_count("title: none | text: " + chunk.text) <= 8192  # as sent, prefix included


def test_texts_already_in_the_cache_are_counted_apart_and_not_priced(server) -> None:
    from workbench.core.cache import EmbeddingCache

    embedder, cache = gemini(server), EmbeddingCache()
    paid = [Item.create(f"already embedded text {i}.") for i in range(3)]
    embed_items(paid, embedder, cache)
    fresh = [Item.create(f"a new text number {i}.") for i in range(2)] + [Item.create(gemini_text(3000))]
    counts = count_tokens(paid + fresh, embedder, cache=cache)
    cached_tokens = sum(fake_token_count(i.text) for i in paid)
    assert counts.cached_texts == 3 and counts.cached_tokens == cached_tokens
    assert counts.total == cached_tokens + sum(fake_token_count(i.text) for i in fresh)
    assert counts.price.tokens == counts.total - cached_tokens  # only what is sent is priced
    assert "3 of them" in counts.summary() and "in the cache" in counts.summary()
