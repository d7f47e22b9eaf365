"""Embed items through the cache: dedupe texts, look them up, encode the rest in batches, keep every batch.

This is the one place that batches, reports progress, honours cancel and fills the cache, for every provider:
an embedder only encodes the batch it is handed. Each finished batch is written to the cache at once, so a
cancel, a crash or a service error loses nothing already paid for and a re-run encodes only the rest. Identical
texts of the same kind are encoded once even when they are different items (other metadata).

What a model is handed is cut to `max_text_chars` (default 1 000 000, WORKBENCH_MAX_TEXT_CHARS, the CLI's
--max-text-chars): a tokenizer handed a 50 MB line takes gigabytes and minutes, for models that read a few
hundred (all-MiniLM-L6-v2: 256 word pieces) or thousand (Gemini: 2 048 / 8 192) tokens. The item keeps its
whole text, and the cache keys the vector by it.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from workbench.core.cache import EmbeddingCache
from workbench.core.collector import collector_paused
from workbench.core.embedders.base import Embedder, EmbeddingSpec, first_nonfinite_row, first_zero_row
from workbench.core.env import positive_env_number
from workbench.core.errors import Cancelled, InputError, ServiceError
from workbench.core.items import ITEM_KINDS, Item, ItemKind, metadata_keys
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress

log = logging.getLogger("workbench.core.embedding")
DEFAULT_MAX_TEXT_CHARS = 1_000_000


def max_text_chars_from_env() -> int:
    """WORKBENCH_MAX_TEXT_CHARS when it is a positive whole number, else DEFAULT_MAX_TEXT_CHARS."""
    return positive_env_number("WORKBENCH_MAX_TEXT_CHARS", DEFAULT_MAX_TEXT_CHARS, int)


def text_char_limit(max_text_chars: int | None, what: str = "The longest text a model is handed") -> int:
    """The longest text a model is handed: `max_text_chars` once checked, or (None) WORKBENCH_MAX_TEXT_CHARS. One
    rule for each path that cuts texts (embedding, long-text preparation, Gemini Batch) and the CLI's
    --max-text-chars, which names itself as `what`."""
    if max_text_chars is not None and max_text_chars < 1:
        raise InputError(f"{what} must be at least 1 character, not {max_text_chars}.")
    return max_text_chars or max_text_chars_from_env()


@dataclass
class EmbeddingResult:
    """Vectors aligned row for row with the items that were embedded, and how they were obtained."""

    items: list[Item]
    vectors: np.ndarray  # (n, dim) float32, L2-normalised
    spec: EmbeddingSpec
    dim: int
    encoded: int  # distinct texts sent to the model in this run
    from_cache: int  # distinct texts found in the cache
    # After a long-text policy (core.long_texts): what it did (PreparedItems.record()), and the items as given
    # before chunking (None: `items` are those); for one point per parent (core.parents), each row's chunk rows.
    long_texts: dict | None = None
    sources: list[Item] | None = None
    chunk_rows: list[np.ndarray] | None = None
    device: str = ""  # the local model's device when it encoded anything ('cuda, fp16', 'cpu instead of cuda')

    # Columns the views read over and over, computed once per result (for 100 000 items each is tens of ms:
    # `warm` computes them where the result is made, off the GUI thread).
    @cached_property
    def ids(self) -> list[str]:
        return [item.id for item in self.items]

    @cached_property
    def texts(self) -> list[str]:
        return [item.text for item in self.items]

    @cached_property
    def kinds(self) -> np.ndarray:
        return np.array([item.kind for item in self.items], dtype="<U8")

    @cached_property
    def row_by_id(self) -> dict[str, int]:
        return {item_id: row for row, item_id in enumerate(self.ids)}

    @cached_property
    def metadata_keys(self) -> list[str]:
        """Metadata keys in first-seen order across the items."""
        return metadata_keys(self.items)

    @collector_paused()  # a million of them: see core/collector.py
    def warm(self) -> EmbeddingResult:
        """Compute the cached columns now (call it on the thread that made the result); returns self."""
        for name in ("ids", "texts", "kinds", "row_by_id", "metadata_keys"):
            getattr(self, name)
        return self

    def summary(self) -> str:
        docs = sum(1 for i in self.items if i.kind == "document")
        queries = len(self.items) - docs
        return (
            f"Embedded {docs} document{'s' if docs != 1 else ''} and {queries} quer{'ies' if queries != 1 else 'y'} "
            f"with {self.spec.provider} · {self.spec.model} at {self.dim} dims "
            + (f"on {self.device} " if self.device else "")
            + f"({self.encoded} encoded, {self.from_cache} from cache)."
        )


def _check_batch(vectors: Sequence[np.ndarray], texts: Sequence[str], dim: int | None, who: str) -> np.ndarray:
    """Refuse a batch the provider got wrong (count, dimension, NaN/inf, all zeros) before it reaches the cache."""
    if len(vectors) != len(texts):
        raise ServiceError(f"{who} returned {len(vectors)} vectors for {len(texts)} texts; nothing was stored.")
    array = np.asarray(np.stack([np.asarray(v, dtype=np.float32) for v in vectors]), dtype=np.float32)
    if dim is not None and array.shape[1] != dim:
        raise ServiceError(f"{who} returned {array.shape[1]}-d vectors where {dim}-d were expected.")
    if (bad := first_nonfinite_row(array)) is not None:
        raise ServiceError(f"{who} returned a vector with NaN or infinite values (for text {bad + 1} of its batch).")
    if (bad := first_zero_row(array)) is not None:  # it would be cached and written; every similarity is 0 or NaN
        raise ServiceError(f"{who} returned an all-zero vector (for text {bad + 1} of its batch); nothing was stored.")
    return array


def _takes_cancelled(method: Callable[..., object]) -> bool:
    """True when an encode method accepts our `cancelled` keyword (pymilvus.model's functions do not)."""
    try:
        return "cancelled" in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


def embed_items(
    items: Sequence[Item],
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
    max_text_chars: int | None = None,
) -> EmbeddingResult:
    """Vectors for `items` (documents encoded as documents, queries as queries), through `cache`.

    Texts longer than `max_text_chars` (None: WORKBENCH_MAX_TEXT_CHARS or 1 000 000) reach the model cut to it.

    Progress counts distinct texts; cancel takes effect between batches and raises `Cancelled` after the finished
    batches are cached. Errors from the provider propagate after the same keeping.
    """
    items = list(items)
    limit = text_char_limit(max_text_chars)
    spec = embedder.spec
    who = f"{spec.provider} model {spec.model}"
    unique: dict[ItemKind, list[str]] = {kind: [] for kind in ITEM_KINDS}
    for kind in ITEM_KINDS:
        unique[kind] = list(dict.fromkeys(i.text for i in items if i.kind == kind))
    total = sum(len(v) for v in unique.values())
    if total == 0:
        return EmbeddingResult(items, np.zeros((0, 0), np.float32), spec, 0, 0, 0)

    dim = embedder.dim
    known: dict[ItemKind, dict[str, np.ndarray]] = {}
    for kind in ITEM_KINDS:
        known[kind] = cache.get_many(spec, dim, kind, unique[kind]) if cache else {}
    from_cache = sum(len(v) for v in known.values())
    done = from_cache
    progress(done, total)

    batches: list[tuple[ItemKind, list[str]]] = []
    for kind in ITEM_KINDS:
        # Longest first, so each batch holds texts of about one length: a local model pads every text of a batch
        # to its longest (sentence-transformers sorts within one call; our batches are its calls), which in input
        # order cost a quarter of the speed (bench/encode.py: 121 against plain's 160 texts/s); an out-of-memory
        # batch shows up first. Vectors are matched back by text, so the order is free.
        missing = sorted((t for t in unique[kind] if t not in known[kind]), key=len, reverse=True)
        size = max(1, embedder.batch_size)
        batches += [(kind, missing[i : i + size]) for i in range(0, len(missing), size)]

    # A cancel (or Ctrl-C in the main thread) also stops the batches in flight where the embedder can stop a wait
    # (Gemini: a hung request), so it takes effect within a second instead of after the request's timeout.
    stop = threading.Event()

    def stopped() -> bool:
        return stop.is_set() or cancelled()

    def encode(kind: ItemKind, texts: list[str]) -> np.ndarray:
        method = embedder.encode_queries if kind == "query" else embedder.encode_documents
        sent = [text[:limit] for text in texts]
        raw = method(sent, cancelled=stopped) if _takes_cancelled(method) else method(sent)
        return _check_batch(raw, texts, dim, who)

    too_long = sum(1 for kind in ITEM_KINDS for text in unique[kind] if len(text) > limit and text not in known[kind])
    if too_long:
        log.warning(
            "%d text%s longer than %s characters %s cut to %s characters before embedding (the model reads far "
            "less; set WORKBENCH_MAX_TEXT_CHARS or --max-text-chars to change it)",
            too_long, "s" if too_long != 1 else "", f"{limit:,}", "were" if too_long != 1 else "was", f"{limit:,}",
        )  # fmt: skip

    workers = max(1, min(embedder.max_concurrency, len(batches) or 1))
    pending = iter(batches)
    in_flight: dict[Future[np.ndarray], tuple[ItemKind, list[str]]] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="embed") as pool:
        try:
            while True:
                while len(in_flight) < workers and not cancelled():
                    batch = next(pending, None)
                    if batch is None:
                        break
                    in_flight[pool.submit(encode, *batch)] = batch
                if not in_flight:
                    break
                finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    kind, texts = in_flight.pop(future)
                    vectors = future.result()
                    if cache:
                        cache.put_many(spec, dim, kind, texts, vectors)
                    known[kind].update(zip(texts, vectors, strict=True))
                    done += len(texts)
                    progress(done, total)
        except BaseException as error:
            # Keep what other threads finish: wait for them and cache their batches, then re-raise. After a cancel
            # or Ctrl-C, batches that can stop do (they raise Cancelled); the others still finish and are kept.
            if isinstance(error, Cancelled | KeyboardInterrupt):
                stop.set()
            for future in in_flight:
                kind, texts = in_flight[future]
                try:
                    vectors = future.result()
                except Exception:  # noqa: BLE001 - the first error is the one reported
                    continue
                if cache:
                    cache.put_many(spec, dim, kind, texts, vectors)
                done += len(texts)
            if isinstance(error, Cancelled):
                raise Cancelled(f"Cancelled after {done} of {total} texts; the finished ones are cached.") from None
            raise
    if done < total:
        raise Cancelled(f"Cancelled after {done} of {total} texts; the finished ones are cached.")

    vectors = np.stack([known[i.kind][i.text] for i in items]).astype(np.float32, copy=False)
    device = str(getattr(embedder, "device_note", "")) if total > from_cache else ""
    return EmbeddingResult(items, vectors, spec, dim, total - from_cache, from_cache, device=device)
