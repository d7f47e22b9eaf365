"""Which texts match a search: case-insensitive substring (str.casefold) or regex (re, IGNORECASE), fast and exact.

The map's search box must answer over a million texts within the GUI's 100 ms budget, with exactly the matches
the plain Python loop gives (`match_rows_plain`, the reference the tests compare against). A Python loop costs
0.1-0.6 s per keystroke at 1 M texts and holds the GIL while it runs, so the work goes to Apache Arrow's string
kernels (pyarrow, already a dependency; they release the GIL), run by the UI on a worker (ui/map_search.py).
Arrow alone would not be exact, so:

- Substring. `TextIndex` folds every text once with Python's own `str.casefold` (full Unicode case folding:
  'Straße' -> 'strasse') and keeps the folded texts as an Arrow column; a search then looks for the folded
  needle as a literal, case-SENSITIVE (`pyarrow.compute.match_substring_regex` with every character escaped:
  RE2 finds a literal 2-3x faster than Arrow's `match_substring`, which stays the fallback). Arrow's own
  `ignore_case=True` (RE2's simple case folding) is not used: it does not fold 'ß' to 'ss', so it would miss
  matches. A literal of code points matched in UTF-8 is a substring of code points, so the answer is Python's
  `needle.casefold() in text.casefold()`.
- Regex. RE2 (Arrow's regex engine) has no backreferences, lookarounds or possessive repeats, and where both
  take a pattern they can still disagree (`\\s`, `\\w`, `$`, `x{,3}`, Unicode case folding). So the pattern is
  never handed to RE2 as written: Python's own parser (`re._parser`, private but stable within a Python minor
  version; any surprise falls back) reads it, and `to_re2` writes an RE2 pattern of the same structure in
  which every single-character matcher (literal, class, `.`, `\\d`...) is replaced by the explicit set of ASCII
  characters that Python's `re` itself says it matches under the pattern's flags. That RE2 pattern is run only
  on the texts that are pure ASCII and non-empty (on '' Python 3.11's `\\B` differs), where these sets, `\\b`,
  `^` and the anchors mean the same in both engines; every other text (accents, CJK, emoji) goes through
  Python's `re`, as does every text when the pattern uses something without an RE2 equivalent (lookarounds,
  backreferences, a case-sensitive `(?-i:...)` part, a repeat count over 1000). A regex over a mostly
  non-ASCII corpus is therefore as slow as before, though off the GUI thread: exact first. The regex runs on
  the folded column: for an ASCII text that is just lower-casing, and every character set is closed under
  ASCII case when IGNORECASE is on (a case-sensitive part falls back, as said).

Texts that Arrow cannot hold (lone surrogates, possible in a Python str) are left out of the column and matched
by Python. TextIndex takes the core's `progress` and `cancelled()` callables, checked between chunks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workbench.core.errors import Cancelled
from workbench.core.point_index import sorted_unique
from workbench.core.progress import CancelledFn, ProgressFn

CHUNK = 10_000  # texts per Arrow chunk: a conversion holds the GIL (the GUI thread waits), so each is ~2 ms


def _never() -> bool:
    return False


def compile_search(pattern: str) -> re.Pattern[str]:
    """The regex as the map's search box means it; raises re.error for a bad pattern."""
    return re.compile(pattern, re.IGNORECASE)


def match_rows_plain(texts: Sequence[str], pattern: str, regex: bool) -> np.ndarray:
    """Rows whose text matches, by the plain Python loop: the meaning every faster path must reproduce."""
    if regex:
        compiled = compile_search(pattern)
        rows = [row for row, text in enumerate(texts) if compiled.search(text)]
    else:
        needle = pattern.casefold()
        rows = [row for row, text in enumerate(texts) if needle in text.casefold()]
    return np.array(rows, dtype=np.int64)


class TextIndex:
    """Texts prepared once (folded Arrow column, which rows need Python) so each search is one Arrow call.

    Building it costs ~0.3-0.4 s per million texts (Python's casefold, then Arrow's conversion): do it on a
    worker for large corpora and keep it for as long as the texts stay the same.
    """

    def __init__(
        self,
        texts: Sequence[str],
        progress: ProgressFn | None = None,
        cancelled: CancelledFn = _never,
    ) -> None:
        self.texts = texts
        chunks: list[pa.Array] = []
        unstored: list[int] = []  # rows Arrow cannot hold: matched by Python in both modes
        needs_python: list[np.ndarray] = []  # per chunk: not plain ASCII, or empty; Python's re decides those
        for start in range(0, len(texts), CHUNK):
            if cancelled():
                raise Cancelled("Search preparation cancelled.")
            block = texts[start : start + CHUNK]
            try:
                folded, needs = _fold_in_arrow(block)
            except (pa.ArrowException, UnicodeEncodeError):  # a lone surrogate: fold this chunk text by text
                folded, needs, bad = _fold_in_python(block)
                unstored.extend(start + i for i in bad)
            chunks.append(folded)
            needs_python.append(needs)
            if progress is not None:
                progress(min(start + CHUNK, len(texts)), len(texts))
        self.folded = pa.chunked_array(chunks, type=pa.string())
        self.unstored = np.array(unstored, dtype=np.int64)
        # Every step here is per chunk or in C without the GIL held long: a 1 M-element np.array(list) or numpy's
        # hash-based np.unique (union1d) would hold it for 50-150 ms, and the GUI thread would wait that long.
        self.python_for_regex = np.flatnonzero(np.concatenate(needs_python)) if needs_python else self.unstored
        if len(self.unstored):
            self.python_for_regex = sorted_unique(np.concatenate([self.python_for_regex, self.unstored]))

    def __len__(self) -> int:
        return len(self.texts)

    def match(self, pattern: str, regex: bool, cancelled: CancelledFn = _never) -> np.ndarray:
        """Sorted rows whose text matches; the same rows as `match_rows_plain`. Raises re.error for a bad regex."""
        if regex:
            return self._match_regex(compile_search(pattern), cancelled)
        needle = pattern.casefold()
        if not len(self):
            mask = np.zeros(0, dtype=bool)
        elif _encodable(needle):
            try:  # RE2 finds a literal 2-3x faster than Arrow's match_substring kernel (0.09 vs 0.27 s at 1 M)
                mask = _mask(pc.match_substring_regex(self.folded, _re2_literal(needle)))
            except pa.ArrowInvalid:  # a needle too long for RE2's program limit
                mask = _mask(pc.match_substring(self.folded, needle))
        else:  # a lone surrogate: only texts Arrow could not hold may contain it
            mask = np.zeros(len(self), dtype=bool)
        for row in self.unstored.tolist():
            mask[row] = needle in self.texts[row].casefold()
        return np.flatnonzero(mask).astype(np.int64)

    def _match_regex(self, compiled: re.Pattern[str], cancelled: CancelledFn) -> np.ndarray:
        re2 = to_re2(compiled)
        mask = None
        if re2 is not None and len(self):
            try:
                mask = _mask(pc.match_substring_regex(self.folded, re2))
            except pa.ArrowInvalid:  # RE2 would not take it (too large a program): Python for every row
                mask = None
        if mask is None:
            python_rows = np.arange(len(self))
            mask = np.zeros(len(self), dtype=bool)
        else:
            python_rows = self.python_for_regex
        search, texts = compiled.search, self.texts
        for start in range(0, len(python_rows), CHUNK):  # a chunk at a time: cancel is checked, the GIL let go
            if cancelled():
                raise Cancelled("Search cancelled.")
            rows = python_rows[start : start + CHUNK]
            mask[rows] = False  # RE2's answer for these rows does not count
            mask[[row for row in rows.tolist() if search(texts[row])]] = True
        return np.flatnonzero(mask).astype(np.int64)


def _fold_in_arrow(block: Sequence[str]) -> tuple[pa.Array, np.ndarray]:
    """Python's casefold of each text, and which texts are not plain ASCII or empty (Python's re decides those).

    For an ASCII text casefold is ASCII lower-casing, which Arrow does without the GIL; only the other texts go
    through str.casefold. (Folding every text in Python held the GIL ~0.15 s per million, and on a busy machine
    the GUI thread waited for it.)
    """
    raw = pa.array(block, type=pa.string())
    plain = pc.string_is_ascii(raw).to_numpy(zero_copy_only=False)
    needs = ~plain | (pc.binary_length(raw).to_numpy(zero_copy_only=False) == 0)
    accented = np.flatnonzero(~plain)
    if len(accented) > len(block) // 2:  # mostly accented: one pass of str.casefold is cheaper
        return pa.array([text.casefold() for text in block], type=pa.string()), needs
    folded = pc.ascii_lower(raw)
    if len(accented):
        by_python = pa.array([block[i].casefold() for i in accented.tolist()], type=pa.string())
        folded = pc.replace_with_mask(folded, pa.array(~plain), by_python)
    return folded, needs


def _fold_in_python(block: Sequence[str]) -> tuple[pa.Array, np.ndarray, list[int]]:
    """As _fold_in_arrow, for a block Arrow cannot hold: texts that cannot be UTF-8 are stored empty (`bad`)."""
    folded = [text.casefold() for text in block]
    bad = [i for i, text in enumerate(folded) if not _encodable(text)]
    for i in bad:
        folded[i] = ""
    needs = np.fromiter((not text or not text.isascii() for text in block), bool, len(block))
    return pa.array(folded, type=pa.string()), needs, bad


def _mask(matched: pa.ChunkedArray) -> np.ndarray:
    return matched.to_numpy(zero_copy_only=False).astype(bool, copy=True)


def _re2_literal(text: str) -> str:
    """`text` as an RE2 pattern that matches exactly that sequence of code points (ASCII letters and digits as
    they are, every other character as \\x{hex}, so no character can mean syntax)."""
    return "".join(char if char.isascii() and char.isalnum() else f"\\x{{{ord(char):x}}}" for char in text)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# -- Python regex -> RE2, exact on ASCII text ------------------------------------------------------------------
class _NoEquivalent(Exception):
    """The pattern uses something RE2 cannot say with the same meaning: Python's re matches every row."""


def to_re2(compiled: re.Pattern[str]) -> str | None:
    """An RE2 pattern that matches a non-empty, lower-case ASCII text iff `compiled.search` matches it; else None."""
    try:
        return _translate(compiled.pattern, compiled.flags)
    except _NoEquivalent:
        return None
    except Exception:  # noqa: BLE001 - the private parser changed shape: the plain loop is always right
        return None


@lru_cache(maxsize=64)
def _translate(pattern: str, flags: int) -> str:
    from re import _constants as sre  # private: imported here only, any failure is caught by to_re2
    from re import _parser

    parsed = _parser.parse(pattern, flags)
    known = re.IGNORECASE | re.MULTILINE | re.DOTALL | re.UNICODE | re.ASCII | re.VERBOSE
    if parsed.state.flags & ~known:
        raise _NoEquivalent
    return _sequence(sre, parsed.data, parsed.state.flags, tail=True)


def _sequence(sre, nodes, flags: int, tail: bool) -> str:
    return "".join(_node(sre, op, av, flags, tail and i == len(nodes) - 1) for i, (op, av) in enumerate(nodes))


def _node(sre, op, av, flags: int, tail: bool) -> str:
    """One parsed node as RE2; `tail`: nothing can follow it in a match (where `$` may become `\\n?\\z`)."""
    if op in (sre.LITERAL, sre.NOT_LITERAL, sre.ANY, sre.IN):
        return _re2_class(_ascii_members(_python_char_class(sre, op, av), flags))
    if op == sre.SUBPATTERN:
        _group, add, remove, body = av
        inner = (flags | add) & ~remove
        return f"(?:{_sequence(sre, body.data, inner, tail)})"
    if op == sre.BRANCH:
        return "(?:" + "|".join(_sequence(sre, alt.data, flags, tail) for alt in av[1]) + ")"
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):  # greedy or lazy: whether a match exists is the same
        low, high, body = av
        if low > 1000 or (high != sre.MAXREPEAT and high > 1000):  # RE2's limit
            raise _NoEquivalent
        upper = "" if high == sre.MAXREPEAT else str(high)
        return f"(?:{_sequence(sre, body.data, flags, False)}){{{low},{upper}}}"
    if op == sre.AT:
        multiline = bool(flags & re.MULTILINE)
        if av == sre.AT_BEGINNING:
            return "(?m:^)" if multiline else r"\A"
        if av == sre.AT_BEGINNING_STRING:
            return r"\A"
        if av == sre.AT_END:
            if multiline:
                return "(?m:$)"
            if tail:  # Python's `$`: the end, or before a last '\n'
                return r"(?:\n?\z)"
            raise _NoEquivalent
        if av == sre.AT_END_STRING:
            return r"\z"
        if av == sre.AT_BOUNDARY:  # both engines: between [0-9A-Za-z_] and not, on ASCII text
            return r"\b"
        if av == sre.AT_NON_BOUNDARY:  # the empty text differs (Python 3.11 never matches): empty rows use Python
            return r"\B"
    raise _NoEquivalent  # lookarounds, backreferences, atomic groups, possessive repeats, conditionals


def _python_char_class(sre, op, av) -> str:
    """One single-character node written back as a Python character class (public syntax, exact)."""
    if op == sre.ANY:
        return "."
    if op == sre.LITERAL:
        return "[" + _class_char(av) + "]"
    if op == sre.NOT_LITERAL:
        return "[^" + _class_char(av) + "]"
    categories = {
        sre.CATEGORY_DIGIT: r"\d",
        sre.CATEGORY_NOT_DIGIT: r"\D",
        sre.CATEGORY_SPACE: r"\s",
        sre.CATEGORY_NOT_SPACE: r"\S",
        sre.CATEGORY_WORD: r"\w",
        sre.CATEGORY_NOT_WORD: r"\W",
    }
    parts = []
    for item_op, item_av in av:
        if item_op == sre.NEGATE:
            parts.insert(0, "^")
        elif item_op == sre.LITERAL:
            parts.append(_class_char(item_av))
        elif item_op == sre.RANGE:
            parts.append(_class_char(item_av[0]) + "-" + _class_char(item_av[1]))
        elif item_op == sre.CATEGORY and item_av in categories:
            parts.append(categories[item_av])
        else:
            raise _NoEquivalent
    return "[" + "".join(parts) + "]"


def _class_char(code: int) -> str:
    return f"\\U{code:08x}"


@lru_cache(maxsize=4096)
def _ascii_members(char_class: str, flags: int) -> frozenset[int]:
    """The ASCII characters Python's re matches with this one-character pattern under these flags."""
    if not flags & re.IGNORECASE:  # a case-sensitive part: the folded (lower-case) column would mislead
        raise _NoEquivalent
    single = re.compile(char_class, flags & (re.IGNORECASE | re.DOTALL | re.ASCII | re.UNICODE))
    return frozenset(code for code in range(128) if single.fullmatch(chr(code)))


def _re2_class(members: frozenset[int]) -> str:
    """An RE2 class of exactly these ASCII characters (an empty set: a class nothing matches)."""
    if not members:
        return r"[^\x00-\x{10FFFF}]"
    ranges, codes = [], sorted(members)
    start = previous = codes[0]
    for code in codes[1:]:
        if code != previous + 1:
            ranges.append((start, previous))
            start = code
        previous = code
    ranges.append((start, previous))
    return "[" + "".join(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges) + "]"
