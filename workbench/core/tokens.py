"""How many tokens a corpus is for a model, and which texts exceed the model's window, before anything is embedded.

A model reads a window of tokens: all-MiniLM-L6-v2 256 word pieces (sentence-transformers drops the rest without
a word), gemini-embedding-001 2 048 tokens, gemini-embedding-2 8 192. Counting first lets the person choose what
happens to longer texts (`core.long_texts`) and, for Gemini, see the price before paying.

How each provider is counted, and what is exact:
- local: the model's own tokenizer (`LocalEmbedder.tokenizer_and_window`), every text, special tokens included
  (the window counts them): exact.
- gemini: Google's `countTokens` (free). A text no longer in characters than the window cannot exceed it (a
  Gemini token covers at least one character; byte-level fallback for rare characters aside), so only longer
  texts are counted one by one (at most `MAX_SINGLE_COUNTS`; beyond that they are estimated at
  `CHARS_PER_TOKEN` characters per token, and the summary says so); the others are counted together, up to
  100 texts per request, which gives their total exactly. Texts are counted as they are sent
  (gemini-embedding-2's task prefix included).
  When countTokens fails (a service error), every text is estimated and the summary says why.
- any other embedder: an estimate of `CHARS_PER_TOKEN` characters per token, and no window.

Identical texts of one kind are embedded once (`core.embedding`), so they are counted once too.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from workbench.core.cache import EmbeddingCache
from workbench.core.errors import Cancelled, InputError, ServiceError
from workbench.core.items import Item
from workbench.core.pricing import PriceEstimate, estimate_price
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress

log = logging.getLogger("workbench.core.tokens")

GEMINI_WINDOWS = {"gemini-embedding-001": 2048, "gemini-embedding-2": 8192}
CHARS_PER_TOKEN = 4  # Google's rule of thumb for English ("a token is about 4 characters")
MAX_SINGLE_COUNTS = 1000  # countTokens requests for single long texts before the rest are estimated
GROUP_TEXTS = 100  # texts per countTokens request for the texts that fit
LOCAL_BATCH = 512  # texts per tokenizer call between progress reports and cancel checks
UNKNOWN = -1  # a per-text count only known as part of a group total (such texts fit the window)


@dataclass
class TokenCounts:
    """Token counts of the distinct texts of a corpus for one model, aligned row for row with its items.

    `per_item[i]` is item i's token count, or UNKNOWN where only a group total was asked (Gemini, a text shorter
    in characters than the window, so it fits). `estimated` counts the texts whose number is an estimate.
    """

    provider: str
    model: str
    window: int | None  # tokens the model reads; None when not known
    per_item: np.ndarray  # int64, one per item
    total: int  # tokens of the distinct texts, as billed
    texts: int  # distinct texts counted
    method: str  # "tokenizer", "count_tokens" or "estimate"
    estimated: int = 0
    price: PriceEstimate | None = None
    note: str = ""  # why counts are estimates where counting was meant (a failed countTokens)
    cached_tokens: int = 0  # tokens of the texts the cache already holds vectors for: not sent, not paid
    cached_texts: int = 0

    @property
    def over_rows(self) -> np.ndarray:
        """Rows of the items whose text exceeds the window."""
        if self.window is None:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self.per_item > self.window)

    @property
    def over(self) -> int:
        return len(self.over_rows)

    def summary(self) -> str:
        """One paragraph for the panel and `embed -v`: totals, texts over the window, how counted, the price."""
        how = {
            "tokenizer": f"counted with {self.model}'s own tokenizer",
            "count_tokens": "counted by Gemini's countTokens",
            "estimate": f"estimated at {CHARS_PER_TOKEN} characters per token",
        }[self.method]
        if self.estimated and self.method != "estimate":
            how += f"; {self.estimated:,} long text{'s' if self.estimated != 1 else ''} estimated"
        parts = [f"{self.texts:,} distinct text{'s' if self.texts != 1 else ''}, {self.total:,} tokens ({how})."]
        if self.cached_texts:
            parts.append(
                f"{self.cached_texts:,} of them ({self.cached_tokens:,} tokens) are in the cache: not sent again."
            )
        if self.window is None:
            parts.append("The model's window is not known.")
        else:
            over = self.over
            parts.append(
                f"{over:,} text{'s' if over != 1 else ''} exceed{'s' if over == 1 else ''} the "
                f"{self.window:,}-token window of {self.model}."
            )
        if self.price is not None:
            parts.append(self.price.summary())
        if self.note:
            parts.append(self.note)
        return " ".join(parts)


def window_of(provider: str, model: str) -> int | None:
    """The window a Gemini model reads (the local model's comes from the model itself)."""
    if provider == "gemini":
        return GEMINI_WINDOWS.get(model.removeprefix("models/"))
    return None


def _distinct(items: Sequence[Item]) -> tuple[list[tuple[str, str]], np.ndarray]:
    """The distinct (kind, text) pairs in first-seen order, and each item's index among them."""
    index: dict[tuple[str, str], int] = {}
    rows = np.fromiter((index.setdefault((i.kind, i.text), len(index)) for i in items), np.int64, len(items))
    return list(index), rows


def count_tokens(
    items: Sequence[Item],
    embedder: object,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
    cache: EmbeddingCache | None = None,
) -> TokenCounts:
    """Token counts of `items` for `embedder`'s model (see the module docstring for what is exact).

    With `cache`, the tokens of texts whose vectors it already holds are counted apart (`cached_tokens`): they are
    not sent again, so the price is for the rest."""
    items = list(items)
    spec = embedder.spec  # type: ignore[attr-defined]
    distinct, rows = _distinct(items)
    cached = _cached_rows(distinct, embedder, cache) if cache is not None else set()
    if hasattr(embedder, "tokenizer_and_window"):
        counted = _local_counts(embedder, [t for _, t in distinct], progress, cancelled)
    elif hasattr(embedder, "count_tokens"):
        try:
            counted = _gemini_counts(embedder, distinct, progress, cancelled, cached)
        except ServiceError as error:  # counting is a preview: the embedding may still work, so estimate and say so
            log.warning("%s Tokens are estimated instead.", error)
            estimates = np.array([_estimate(t) for _, t in distinct], dtype=np.int64)
            window = window_of(spec.provider, spec.model)
            counted = _Counted(estimates, window, "estimate", len(distinct), note=f"{error} Estimated instead.")
    else:
        estimates = np.array([_estimate(t) for _, t in distinct], dtype=np.int64)
        counted = _Counted(estimates, None, "estimate", len(distinct))
    counts = counted.counts
    total = int(counts[counts != UNKNOWN].sum()) + counted.group_total + counted.cached_group_total
    cached_known = [r for r in cached if counts[r] != UNKNOWN]
    cached_tokens = int(counts[cached_known].sum()) + counted.cached_group_total
    price = estimate_price(spec.model, total - cached_tokens) if spec.provider == "gemini" else None
    return TokenCounts(
        provider=spec.provider,
        model=spec.model,
        window=counted.window,
        per_item=counts[rows] if len(items) else np.zeros(0, np.int64),
        total=total,
        texts=len(distinct),
        method=counted.method,
        estimated=counted.estimated,
        price=price,
        note=counted.note,
        cached_tokens=cached_tokens,
        cached_texts=len(cached),
    )


@dataclass
class _Counted:
    counts: np.ndarray  # per distinct text, UNKNOWN where only counted in a group
    window: int | None
    method: str
    estimated: int
    group_total: int = 0  # tokens of the texts counted only in groups (not in the cache)
    note: str = ""
    cached_group_total: int = 0  # the same for texts the cache holds


def _estimate(text: str) -> int:
    return max(1, -(-len(text) // CHARS_PER_TOKEN)) if text else 0


def _local_counts(embedder: object, texts: list[str], progress: ProgressFn, cancelled: CancelledFn) -> _Counted:
    tokenizer, window = embedder.tokenizer_and_window()  # type: ignore[attr-defined]
    counts = np.zeros(len(texts), dtype=np.int64)
    for start in range(0, len(texts), LOCAL_BATCH):
        if cancelled():
            raise Cancelled(f"Token count cancelled after {start} of {len(texts)} texts.")
        encoded = tokenizer.encode_batch(texts[start : start + LOCAL_BATCH], add_special_tokens=True)
        counts[start : start + len(encoded)] = [len(e.ids) for e in encoded]
        progress(min(start + LOCAL_BATCH, len(texts)), len(texts))
    return _Counted(counts, window, "tokenizer", 0)


def _cached_rows(distinct: list[tuple[str, str]], embedder: object, cache: EmbeddingCache) -> set[int]:
    """Rows of the distinct texts whose vectors `cache` holds for this embedder's spec and dimension."""
    spec, dim = embedder.spec, embedder.dim  # type: ignore[attr-defined]
    rows: set[int] = set()
    for kind in ("document", "query"):
        of_kind = [(r, text) for r, (k, text) in enumerate(distinct) if k == kind]
        found = cache.get_many(spec, dim, kind, [text for _, text in of_kind]) if of_kind else {}
        rows.update(r for r, text in of_kind if text in found)
    return rows


def _gemini_counts(
    embedder: object,
    distinct: list[tuple[str, str]],
    progress: ProgressFn,
    cancelled: CancelledFn,
    cached: set[int] | frozenset[int] = frozenset(),
) -> _Counted:
    from workbench.core.embedders.gemini import prefixed_text

    spec = embedder.spec  # type: ignore[attr-defined]
    window = window_of("gemini", spec.model)
    sent = [prefixed_text(spec.model, spec.task_for(kind), text) for kind, text in distinct]  # type: ignore[arg-type]
    counts = np.full(len(sent), UNKNOWN, dtype=np.int64)
    limit = window if window is not None else 0
    long_rows = [r for r, text in enumerate(sent) if len(text) > limit]
    exact, estimated_rows = long_rows[:MAX_SINGLE_COUNTS], long_rows[MAX_SINGLE_COUNTS:]
    for row in estimated_rows:
        counts[row] = _estimate(sent[row])
    long_set = set(long_rows)
    groups: list[tuple[str, list[int]]] = []
    for flag, in_cache in (("group", False), ("cached group", True)):  # counted apart: the cached are not paid
        short_rows = [r for r in range(len(sent)) if r not in long_set and (r in cached) == in_cache]
        groups += [(flag, short_rows[i : i + GROUP_TEXTS]) for i in range(0, len(short_rows), GROUP_TEXTS)]
    jobs: list[tuple[str, list[int]]] = [("one", [r]) for r in exact] + groups
    done, total_jobs = 0, len(jobs)
    group_total = cached_group_total = 0

    def count(job: tuple[str, list[int]]) -> int:
        if cancelled():
            raise Cancelled("Token count cancelled.")
        texts = [sent[r] for r in job[1]]
        if not any(texts):
            return 0
        return embedder.count_tokens([t for t in texts if t], cancelled=cancelled)  # type: ignore[attr-defined]

    progress(0, total_jobs)
    workers = max(1, min(getattr(embedder, "max_concurrency", 1), total_jobs or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="count-tokens") as pool:
        try:
            for job, tokens in zip(jobs, pool.map(count, jobs), strict=True):
                if job[0] == "one":
                    counts[job[1][0]] = tokens
                elif job[0] == "group":
                    group_total += tokens
                else:
                    cached_group_total += tokens
                done += 1
                progress(done, total_jobs)
        except InputError as error:  # a request Gemini refused as too long: say it is the count that failed
            raise InputError(f"Counting tokens failed: {error}") from None
    method = "count_tokens" if len(exact) + len(groups) else "estimate"
    return _Counted(counts, window, method, len(estimated_rows), group_total, cached_group_total=cached_group_total)
