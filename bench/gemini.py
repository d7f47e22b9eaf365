"""10 000 texts through the Gemini provider against the fake server (50 ms per request): requests and texts/s.

    python bench/gemini.py [--quick]

Ours: embed_items with GeminiEmbedder (≤100 texts a request, 4 in flight, cache). Baseline: the same embedder
with one request in flight, i.e. what a plain sequential loop of embed_content calls achieves. The fake server
(tests/fakes/fake_gemini.py) answers like the API after a fixed delay, so the numbers show the pipeline, not
Google's latency.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import Row, emit  # noqa: E402

from tests.fakes.fake_gemini import FakeGemini  # noqa: E402
from workbench.core.cache import EmbeddingCache  # noqa: E402
from workbench.core.embedders.gemini import GeminiEmbedder  # noqa: E402
from workbench.core.embedding import embed_items  # noqa: E402
from workbench.core.items import Item  # noqa: E402


def run(n: int, concurrency: int, server: FakeGemini) -> tuple[float, int]:
    items = [Item.create(f"text number {i} for {concurrency}") for i in range(n)]
    embedder = GeminiEmbedder(api_key="bench-key", dim=768, base_url=server.base_url, max_concurrency=concurrency)
    before = len(server.embed_requests())
    with tempfile.TemporaryDirectory() as folder:
        cache = EmbeddingCache(Path(folder) / "cache.sqlite")
        start = time.perf_counter()
        embed_items(items, embedder, cache)
        seconds = time.perf_counter() - start
        cache.close()
    return seconds, len(server.embed_requests()) - before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 000 texts instead of 10 000")
    args = parser.parse_args()
    os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="wb-bench-"))
    n = 2_000 if args.quick else 10_000
    with FakeGemini(delay=0.05) as server:
        ours, requests = run(n, 4, server)
        base, base_requests = run(n, 1, server)
    emit(
        "Gemini provider against the fake server (50 ms per request)",
        [Row(f"embed, 4 in flight ({requests} requests)", str(n), ours, f"1 in flight ({base_requests} req.)", base)],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
