"""Long texts: our token count and chunking against the plain library calls they wrap.

    python bench/long_texts.py [--quick]

Count: `core.tokens.count_tokens` on n documents (dedupe, batches with progress and cancel checks, window and
summary) against one bare `tokenizers.Tokenizer.encode_batch` over the same texts. Chunk: `prepare_items` with
the chunk policy (count, split every document over the window, build chunk items with offsets and the parent's
metadata) against the bare `semantic_text_splitter.TextSplitter.chunk_indices` on the texts that exceed the
window (given the counts, so no counting in the baseline). The local model's tokenizer; the model is loaded
once before timing.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import Row, best_seconds, emit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from semantic_text_splitter import TextSplitter

from workbench.core.embedders.local import LocalEmbedder
from workbench.core.items import Item
from workbench.core.long_texts import prepare_items
from workbench.core.tokens import count_tokens

WORDS = ("river", "stone", "light", "harvest", "window", "engine", "garden", "silver", "market", "winter", "paper")


def document(rng: random.Random, words: int) -> str:
    paragraphs = []
    while words > 0:
        size = min(words, rng.randint(60, 300))
        sentences = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 20))).capitalize() + "."
            for _ in range(max(1, size // 13))
        ]
        paragraphs.append(" ".join(sentences))
        words -= size
    return "\n\n".join(paragraphs)


def measure(items: list[Item], embedder: LocalEmbedder, tokenizer, window: int) -> list[Row]:
    n, texts = len(items), [i.text for i in items]
    rows = []
    ours = best_seconds(lambda: count_tokens(items, embedder), 3)
    bare = best_seconds(lambda: tokenizer.encode_batch(texts, add_special_tokens=True), 3)
    rows.append(Row("count tokens (local)", f"{n} docs", ours, "Tokenizer.encode_batch", bare))
    counts = count_tokens(items, embedder)
    long_texts = [items[r].text for r in counts.over_rows]
    splitter = TextSplitter.from_huggingface_tokenizer(tokenizer, window - 2, overlap=32)
    ours = best_seconds(lambda: prepare_items(items, embedder, "chunk", counts), 3)
    bare = best_seconds(lambda: [splitter.chunk_indices(t) for t in long_texts], 3)
    rows.append(Row("chunk (given the counts)", f"{n} docs", ours, "TextSplitter.chunk_indices", bare))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = (200, 1000) if args.quick else (1000, 10000)
    embedder = LocalEmbedder()
    tokenizer, window = embedder.tokenizer_and_window()
    rng = random.Random(0)
    rows = []
    for n in sizes:
        items = [Item.create(document(rng, rng.choice((40, 120, 600, 1500))), item_id=f"d{i}") for i in range(n)]
        rows += measure(items, embedder, tokenizer, window)
    emit("Long texts: token counts and chunking (all-MiniLM-L6-v2's tokenizer, 256-token window)", rows)


if __name__ == "__main__":
    main()
