"""What happens to texts longer than the model's window, chosen per run: chunk, truncate or refuse.

- chunk (the default): each document over the window becomes chunks that fit, split on paragraph, then
  sentence and word boundaries (a hard-wrapped line end counts as a space, see `unwrapped`), neighbours
  sharing `overlap` tokens. Each chunk is an item with its own id (`<parent id>#<index>`), the parent's metadata
  and four columns: `parent_id`, `chunk_index`, `char_start`, `char_end`
  (`parent.text[char_start:char_end] == chunk.text`). Queries are never split (a query is one question); one
  over the window is truncated, and the summary says how many.
- truncate: the text is cut to what fits, and the summary says how many were.
- refuse: an InputError naming the first text over the window, before anything is sent to the model.

Once any text is chunked or truncated, every item of the run carries the four columns (an item that fits is its
own single chunk: `parent_id` its own id), so views, Milvus rows and the exchange file have one shape, and
"one point per parent" (`core.parents`) works for all. An item that already carries them (an exchange file of
chunks embedded again) keeps its own.

The splitting is semantic-text-splitter's (a maintained Rust splitter with Hugging Face tokenizer sizing and
character offsets). Local models: sized with the model's own tokenizer, at the window minus the special tokens
the model adds (the splitter counts without them). Gemini has no local tokenizer: each text is split by
characters at its own characters-per-token ratio (its length over its countTokens count) with a 10 % margin,
and each piece is counted again (countTokens is free) and split again if the ratio inside the text varied.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any, Literal

from workbench.core.embedding import text_char_limit
from workbench.core.errors import Cancelled, InputError
from workbench.core.items import Item
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress
from workbench.core.tokens import TokenCounts, count_tokens

log = logging.getLogger("workbench.core.long_texts")

LongTextPolicy = Literal["chunk", "truncate", "refuse"]
LONG_TEXT_POLICIES: tuple[LongTextPolicy, ...] = ("chunk", "truncate", "refuse")
CHUNK_COLUMNS = ("parent_id", "chunk_index", "char_start", "char_end")
DEFAULT_OVERLAP_TOKENS = 32
GEMINI_MARGIN = 0.9  # Gemini chunks and cuts are sized by an estimate: leave 10 % of the window free
GEMINI_ROUNDS = 3  # times a Gemini piece is counted and split again before it is taken as it is
_WRAPPED_LINE_BREAK = re.compile(r"(?<![\r\n])\r?\n(?![\r\n])")  # one line break inside a paragraph


def unwrapped(text: str) -> str:
    """`text` with each single line break (hard-wrapped lines inside a paragraph) as spaces of the same length.

    The splitter ranks any line break above a sentence end, so a hard-wrapped text (licences, e-mails, plain
    .txt notes) would be cut mid-sentence at a line end. Splitting this copy instead finds paragraphs (blank
    lines) first, then sentences, and its offsets are the original's, character for character.
    """
    return _WRAPPED_LINE_BREAK.sub(lambda match: " " * len(match.group()), text)


@dataclass
class PreparedItems:
    """The items to embed after the long-text policy, the items as given, and what the policy did."""

    items: list[Item]
    sources: list[Item]
    policy: LongTextPolicy
    counts: TokenCounts
    overlap_tokens: int
    chunked: int = 0  # documents split into chunks
    chunks: int = 0  # chunk items made from them
    truncated: int = 0  # texts cut to the window
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        window = f"{self.counts.window:,}-token window" if self.counts.window else "window"
        parts = [f"Long texts: {self.policy}."]
        if self.chunked:
            parts.append(f"{self.chunked:,} document(s) over the {window} split into {self.chunks:,} chunks.")
        if self.truncated:
            parts.append(f"{self.truncated:,} text(s) over the {window} truncated to it.")
        if not (self.chunked or self.truncated):
            parts.append(f"No text exceeds the {window}." if self.counts.window else "The window is not known.")
        return " ".join(parts + self.notes)

    def record(self) -> dict[str, Any]:
        """What the exchange file and the workspace keep about this run's policy (plain JSON)."""
        return {
            "policy": self.policy,
            "window": self.counts.window,
            "overlap_tokens": self.overlap_tokens,
            "token_count": self.counts.method,
            "over_window": self.counts.over,
            "chunked": self.chunked,
            "chunks": self.chunks,
            "truncated": self.truncated,
            "splitter": f"semantic-text-splitter {version('semantic-text-splitter')}",
        }


def capped_items(items: Sequence[Item], max_text_chars: int | None = None) -> list[Item]:
    """`items` with texts longer than `max_text_chars` (None: WORKBENCH_MAX_TEXT_CHARS) cut to it, ids and metadata
    kept, said in a warning: counting or splitting a 50 MB line would take gigabytes and minutes, as encoding it
    would (`core.embedding`). Chunk offsets of a cut text still index the whole one (it is a prefix)."""
    limit = text_char_limit(max_text_chars)
    cut = sum(1 for item in items if len(item.text) > limit)
    if not cut:
        return list(items)
    log.warning(
        "%d text%s longer than %s characters %s cut to %s characters before embedding (the model reads far less; "
        "set WORKBENCH_MAX_TEXT_CHARS or --max-text-chars to change it)",
        cut, "s" if cut != 1 else "", f"{limit:,}", "were" if cut != 1 else "was", f"{limit:,}",
    )  # fmt: skip
    return [Item(i.id, i.text[:limit], i.kind, i.metadata) if len(i.text) > limit else i for i in items]


def prepare_items(
    items: Sequence[Item],
    embedder: object,
    policy: LongTextPolicy = "chunk",
    counts: TokenCounts | None = None,
    overlap_tokens: int = DEFAULT_OVERLAP_TOKENS,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> PreparedItems:
    """Apply `policy` to the texts over `embedder`'s window (`counts`: made here when not given)."""
    if policy not in LONG_TEXT_POLICIES:
        raise InputError(f"Unknown long-text policy '{policy}': choose one of {', '.join(LONG_TEXT_POLICIES)}.")
    if overlap_tokens < 0:
        raise InputError(f"The chunk overlap must be 0 or more tokens, not {overlap_tokens}.")
    items = list(items)
    counts = counts or count_tokens(items, embedder, progress, cancelled)
    if len(counts.per_item) != len(items):
        raise ValueError("token counts belong to other items")
    if policy == "chunk" and counts.window and overlap_tokens > counts.window // 2:
        # refused, not cut quietly: the splitter needs each chunk to add new text, so half the window is the most
        raise InputError(
            f"The chunk overlap of {overlap_tokens:,} tokens is more than half the {counts.window:,}-token window "
            f"of {embedder.spec.model}: give at most {counts.window // 2:,}."  # type: ignore[attr-defined]
        )
    prepared = PreparedItems(items, items, policy, counts, overlap_tokens)
    over = counts.over_rows
    if not len(over):
        return prepared
    spec = embedder.spec  # type: ignore[attr-defined]
    if policy == "refuse":
        first = items[int(over[0])]
        raise InputError(
            f"{len(over):,} text(s) exceed the {counts.window:,}-token window of {spec.model}; the first is item "
            f"'{first.id}' ({int(counts.per_item[over[0]]):,} tokens). Nothing was sent to the model: choose "
            f"chunk or truncate (Long texts in the Model & key panel, --long-texts in the CLI), or shorten the texts."
        )
    cutter = _Cutter(embedder, counts.window or 0, overlap_tokens)
    over_set = set(over.tolist())
    result: list[Item] = []
    done = 0
    progress(0, len(over_set))
    for row, item in enumerate(items):
        if row not in over_set:
            result.append(_as_own_chunk(item))
            continue
        if cancelled():  # between texts: a long document takes ~60 ms to split (3 000 words, 2 cores)
            raise Cancelled(f"Cancelled after splitting {done} of {len(over_set)} long texts; nothing was embedded.")
        done += 1
        progress(done, len(over_set))
        tokens = int(counts.per_item[row])
        if policy == "chunk" and item.kind == "document":
            pieces = cutter.chunks(item.text, tokens)
            result += [_chunk_item(item, k, start, end) for k, (start, end) in enumerate(pieces)]
            prepared.chunked += 1
            prepared.chunks += len(pieces)
        else:
            end = cutter.prefix_end(item.text, tokens)
            result.append(_chunk_item(item, None, 0, end))
            prepared.truncated += 1
    if policy == "chunk" and prepared.truncated:
        prepared.notes.append(f"{prepared.truncated:,} of them queries: a query is truncated, never split.")
    ids = [i.id for i in result]
    if len(set(ids)) != len(ids):
        clash = next(i for i in ids if ids.count(i) > 1)
        raise InputError(f"Chunk id '{clash}' is also the id of another item; rename that item's id.")
    prepared.items = result
    return prepared


def _has_chunk_columns(item: Item) -> bool:
    return all(item.metadata.get(c) is not None for c in CHUNK_COLUMNS)


def _as_own_chunk(item: Item) -> Item:
    """An item that fits, as the single chunk of itself (one that already is a chunk keeps its columns)."""
    if _has_chunk_columns(item):
        return item
    columns = {"parent_id": item.id, "chunk_index": 0, "char_start": 0, "char_end": len(item.text)}
    return Item(item.id, item.text, item.kind, {**item.metadata, **columns})


def _chunk_item(parent: Item, index: int | None, start: int, end: int) -> Item:
    """Chunk `index` of `parent` (None: the parent cut to [start, end), keeping its id)."""
    meta: Mapping[str, Any] = parent.metadata
    if _has_chunk_columns(parent):  # a chunk cut again: offsets stay relative to the first parent
        base = int(meta["char_start"])
        parent_id = str(meta["parent_id"])
    else:
        base, parent_id = 0, parent.id
    columns = {"parent_id": parent_id, "chunk_index": index or 0, "char_start": base + start, "char_end": base + end}
    item_id = parent.id if index is None else f"{parent.id}#{index}"
    return Item(item_id, parent.text[start:end], parent.kind, {**meta, **columns})


class _Cutter:
    """Chunks and prefixes of texts that fit one embedder's window.

    With a local tokenizer the sizes are exact. For Gemini they start from the text's own characters-per-token
    ratio; as that ratio varies inside a text, each piece that could still be too long is counted again with
    countTokens (free) and split or cut again at its own ratio, at most `GEMINI_ROUNDS` times.
    """

    def __init__(self, embedder: object, window: int, overlap_tokens: int) -> None:
        self.window, self.overlap_tokens = window, overlap_tokens
        self._tokenizer = None
        self._count = getattr(embedder, "count_tokens", None)
        if self._count is not None:  # Gemini: leave room for gemini-embedding-2's task prefix (a token per character
            # at most), since pieces are counted as they are, the prefix is added when they are sent
            from workbench.core.embedders.gemini import prefixed_text

            spec = embedder.spec  # type: ignore[attr-defined]
            tasks = (spec.document_task, spec.query_task)
            self.window = window - max(len(prefixed_text(spec.model, task, "")) for task in tasks)
        if hasattr(embedder, "tokenizer_and_window"):
            self._tokenizer, self.window = embedder.tokenizer_and_window()  # type: ignore[attr-defined]
            self._special = self._tokenizer.num_special_tokens_to_add(False)
            from semantic_text_splitter import TextSplitter

            capacity = self.window - self._special
            overlap = min(overlap_tokens, capacity // 2)
            self._token_splitter = TextSplitter.from_huggingface_tokenizer(self._tokenizer, capacity, overlap=overlap)

    def chunks(self, text: str, tokens: int) -> list[tuple[int, int]]:
        """[start, end) character ranges of `text` that each fit the window."""
        if self._tokenizer is not None:
            pieces = self._token_splitter.chunk_indices(unwrapped(text))
            return [(start, start + len(chunk)) for start, chunk in pieces]
        return self._estimated_chunks(text, tokens, 0, GEMINI_ROUNDS)

    def _estimated_chunks(self, text: str, tokens: int, offset: int, rounds: int) -> list[tuple[int, int]]:
        from semantic_text_splitter import TextSplitter

        capacity = self._chars_that_fit(text, tokens)
        overlap = min(capacity // 2, int(self.overlap_tokens * len(text) / max(tokens, 1)))
        ranges: list[tuple[int, int]] = []
        for start, chunk in TextSplitter(capacity, overlap=overlap).chunk_indices(unwrapped(text)):
            piece = text[start : start + len(chunk)]  # as it will be sent, line breaks and all
            counted = self._counted(piece)
            if counted is not None and counted > self.window and rounds > 1 and len(piece) > 1:
                ranges += self._estimated_chunks(piece, counted, offset + start, rounds - 1)
            else:
                ranges.append((offset + start, offset + start + len(piece)))
        return ranges

    def prefix_end(self, text: str, tokens: int) -> int:
        """The end of the longest prefix of `text` that fits the window (exact with a tokenizer, else estimated)."""
        if self._tokenizer is None:
            end = self._chars_that_fit(text, tokens)
            for _ in range(GEMINI_ROUNDS - 1):
                counted = self._counted(text[:end])
                if counted is None or counted <= self.window:
                    break
                end = self._chars_that_fit(text[:end], counted)
            return end
        encoding = self._tokenizer.encode(text, add_special_tokens=False)
        keep = self.window - self._special
        if len(encoding.offsets) <= keep:
            return len(text)
        return int(encoding.offsets[keep - 1][1])

    def _counted(self, text: str) -> int | None:
        """Gemini's count of a piece that may not fit (longer in characters than the window), else None."""
        if self._count is None or len(text) <= self.window:
            return None
        return int(self._count([text]))

    def _chars_that_fit(self, text: str, tokens: int) -> int:
        return max(1, int(len(text) * self.window / max(tokens, 1) * GEMINI_MARGIN))
