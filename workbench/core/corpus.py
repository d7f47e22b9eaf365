"""Corpus: the ordered documents and queries of a workspace, and parsing of pasted text into items.

File importers live in `workbench.core.importers`; this module only knows items and pasted text. A Corpus
keeps insertion order (the order a person pasted or imported things in is the order they are shown in) and
never holds two items with the same id: adding an exact duplicate collapses it and reports the count, so the
user sees what happened instead of losing records silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from workbench.core.collector import collector_paused
from workbench.core.items import Item, ItemKind, metadata_keys

SplitMode = Literal["lines", "blank_line"]
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")


@dataclass
class ParseReport:
    """What a parse or an add did: how many items were kept, and how many were dropped and why."""

    kept: int = 0
    dropped_empty: int = 0
    collapsed_duplicates: int = 0

    def summary(self) -> str:
        """One line for a status bar: '40 items; 2 empty dropped; 1 duplicate collapsed'."""
        parts = [f"{self.kept} item{'s' if self.kept != 1 else ''}"]
        if self.dropped_empty:
            parts.append(f"{self.dropped_empty} empty dropped")
        if self.collapsed_duplicates:
            word = "duplicate" if self.collapsed_duplicates == 1 else "duplicates"
            parts.append(f"{self.collapsed_duplicates} {word} collapsed")
        return "; ".join(parts)


def split_pasted_text(text: str, mode: SplitMode = "lines") -> tuple[list[str], int]:
    """Split pasted text into item texts; return them (stripped, non-empty) and how many empty ones were dropped.

    "lines": one item per line. "blank_line": items are separated by one or more blank lines, so a document may
    span several lines. Windows and old-Mac newlines are normalised first.
    """
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    if mode == "lines":
        pieces = normalised.split("\n")
    elif mode == "blank_line":
        pieces = _BLANK_LINE.split(normalised)
    else:
        raise ValueError(f"unknown split mode {mode!r}")
    kept = [p.strip() for p in pieces if p.strip()]
    # A trailing newline is not an empty item a person typed; only count interior empties.
    dropped = sum(1 for p in pieces if not p.strip())
    if normalised.endswith("\n") and pieces and not pieces[-1].strip():
        dropped -= 1
    if mode == "lines" and normalised == "":
        dropped = 0
    return kept, max(dropped, 0)


def items_from_pasted_text(text: str, kind: ItemKind, mode: SplitMode = "lines") -> tuple[list[Item], ParseReport]:
    """Items for pasted text; exact duplicates collapse (same text, same kind), reported in the ParseReport."""
    texts, dropped = split_pasted_text(text, mode)
    items: list[Item] = []
    seen: set[str] = set()
    report = ParseReport(dropped_empty=dropped)
    for piece in texts:
        item = Item.create(piece, kind)
        if item.id in seen:
            report.collapsed_duplicates += 1
            continue
        seen.add(item.id)
        items.append(item)
    report.kept = len(items)
    return items, report


@dataclass
class Corpus:
    """Documents and queries in insertion order, unique by id.

    `items` is replaced (replace_kind) or extended (add), never edited in place. The lists of one kind and the
    metadata keys are kept once made, until `items` changes: a workspace of a million items is read on a worker
    (`warm` there), and the eight views that follow a corpus change each ask for them on the GUI thread, where
    one pass over a million items costs 40-200 ms.
    """

    items: list[Item] = field(default_factory=list)
    _made: dict[object, list] = field(default_factory=dict, init=False, repr=False, compare=False)
    _made_from: tuple[list[Item] | None, int] = field(default=(None, 0), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unique, _ = _unique(self.items, set())
        self.items = unique

    def _kept(self, name: object, make: Callable[[], list]) -> list:
        if self._made_from[0] is not self.items or self._made_from[1] != len(self.items):
            self._made, self._made_from = {}, (self.items, len(self.items))  # the list itself: its id is never reused
        if name not in self._made:
            self._made[name] = make()
        return self._made[name]

    @collector_paused()  # a million of them: see core/collector.py
    def warm(self) -> Corpus:
        """Make the kept lists now (on the worker that read the corpus); returns self."""
        for kind in ("document", "query"):
            self.of_kind(kind)
            self.metadata_keys(kind)
        self.metadata_keys()
        return self

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    @property
    def documents(self) -> list[Item]:
        return self.of_kind("document")

    @property
    def queries(self) -> list[Item]:
        return self.of_kind("query")

    def of_kind(self, kind: ItemKind) -> list[Item]:
        """The items of one kind, in order (kept: do not edit the list)."""
        return self._kept(kind, lambda: [i for i in self.items if i.kind == kind])

    def metadata_keys(self, kind: ItemKind | None = None) -> list[str]:
        """Metadata keys in first-seen order across the items (of one kind when given; kept)."""
        return self._kept(("keys", kind), lambda: metadata_keys(self.items if kind is None else self.of_kind(kind)))

    def ids(self) -> list[str]:
        return [i.id for i in self.items]

    def add(self, new_items: Iterable[Item]) -> ParseReport:
        """Append items not already present (by id); report how many were collapsed as duplicates."""
        unique, collapsed = _unique(new_items, {i.id for i in self.items})
        self.items.extend(unique)
        return ParseReport(kept=len(unique), collapsed_duplicates=collapsed)

    def replace_kind(self, kind: ItemKind, new_items: Iterable[Item]) -> ParseReport:
        """Replace all items of one kind (the Documents or Queries panel was edited), keeping the other kind."""
        others = [i for i in self.items if i.kind != kind]
        unique, collapsed = _unique(new_items, {i.id for i in others})
        self.items = others + unique if kind == "query" else unique + others
        return ParseReport(kept=len(unique), collapsed_duplicates=collapsed)


def _unique(items: Iterable[Item], taken: set[str]) -> tuple[list[Item], int]:
    out: list[Item] = []
    collapsed = 0
    for item in items:
        if item.id in taken:
            collapsed += 1
            continue
        taken.add(item.id)
        out.append(item)
    return out, collapsed
