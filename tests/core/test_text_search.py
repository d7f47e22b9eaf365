"""The map's search: the Arrow path (TextIndex) gives exactly the rows of the plain Python loop, in both modes."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from workbench.core.errors import Cancelled
from workbench.core.text_search import TextIndex, match_rows_plain, to_re2

TEXTS = [
    "Straße und STRASSE",
    "strasse",
    "ẞ capital sharp s",
    "the Kelvin sign: \u212a, and a long s: \u017f",
    "plain kelvin k and s",
    "ΣΊΣΥΦΟΣ and σίσυφος and final ς",
    "İstanbul, Iğdır, ıspanak",
    "ﬁle with a ligature",
    "regex specials: .*+?()[]{}|\\^$",
    "fact 1: ends with a newline\n",
    "fact 2 has\nthe line break inside",
    "fact 12",
    "FACT 3\x1c with an information separator",
    "tab\there, vertical\x0btab",
    "",
    "   ",
    "日本語のテキスト and English",
    "emoji 🙂 smile",
    "lone surrogate \ud800 in a str",
    "colour and color",
    "a" * 40,
    "abcabc",
    "café CAFÉ cafe\u0301",
]

SUBSTRINGS = ["STRASSE", "ß", "ss", "s", "ſ", "\u212a", "k", "σ", "ς", "ΣΊΣ", "i̇", "İ", "ı", "fi", "ﬁ", ".", "(",
              "[]", "\\", "*", "$", "\n", " ", "FACT", "🙂", "\ud800", "é", "e\u0301", "日本", "aaaa"]  # fmt: skip
PATTERNS = [
    r"fact (1|2)\b", r"fact \d+$", r"^fact", r"(?m)^the", r"(?m)line$", r"newline$", r"\s", r"\S+\s\S+", r"\w+",
    r"\W", r"\d{2}", r"x{,2}y", r"colou?r", r"[[:alpha:]]", r"(?-i:FACT)", r"(?i:fact)", r"(?s)has.the",
    r"has.the", "ſ", "\u212a", "k", "K", r"\Bb", r"\b", r"\B", r"", r"ß", r"straße", r"STRASSE", r"\Z", r"c\Z",
    r"(\w)\1", r"fact(?= 1)", r"(?<!\d)2", r"(?>a+)b", r"a++", r"(a)?(?(1)b|c)", r"a{1001}", r"a{2,}?c",
    r"[^a-z ]", r"[\u0100-\uffff]", r"\xe9", r"caf\w", r"(?a)caf\w", r"(?x) f a c t", r"[\d\s]", r"\A\s*\Z",
    r"^$", r"(?m)^$", r"ab|cd|", r"(abc){2}", r"[A-Z_]+\b", r"\.\*\+",
]  # fmt: skip


@pytest.fixture(scope="module")
def index() -> TextIndex:
    return TextIndex(TEXTS)


@pytest.mark.parametrize("needle", SUBSTRINGS)
def test_substring_rows_are_the_plain_loops(index: TextIndex, needle: str) -> None:
    assert index.match(needle, regex=False).tolist() == match_rows_plain(TEXTS, needle, False).tolist()


@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")  # Python's own warning for [[:alpha:]]
@pytest.mark.parametrize("pattern", PATTERNS)
def test_regex_rows_are_the_plain_loops(index: TextIndex, pattern: str) -> None:
    assert index.match(pattern, regex=True).tolist() == match_rows_plain(TEXTS, pattern, True).tolist()


def test_casefold_not_simple_folding() -> None:
    """Arrow's ignore_case (RE2 simple folding) would miss 'Straße' for 'STRASSE'; ours folds as Python does."""
    assert TextIndex(["Straße"]).match("STRASSE", regex=False).tolist() == [0]


def test_simple_patterns_run_in_re2_and_unsupported_ones_fall_back() -> None:
    for pattern in (r"fact (1|2)\b", r"x{,2}y", r"colou?r$", r"(?m)^the", r"[^a-z ]\d"):
        assert to_re2(re.compile(pattern, re.IGNORECASE)) is not None, pattern
    for pattern in (r"(\w)\1", r"fact(?= 1)", r"(?<!\d)2", r"a++", r"a{1001}", r"(?-i:FACT)", r"a$b"):
        assert to_re2(re.compile(pattern, re.IGNORECASE)) is None, pattern


def test_bad_regex_raises_the_same_error() -> None:
    with pytest.raises(re.error):
        TextIndex(TEXTS).match("(unclosed", regex=True)


def test_random_patterns_on_random_texts_match_the_plain_loop() -> None:
    """Seeded differential check over a few hundred generated patterns: anchors, classes, folds, repeats."""
    rng = random.Random(7)
    alphabet = "aAbBkKsS _-.\n\t\x0b\x1c9" + "ßſ\u212aıİéσς日"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))) for _ in range(1500)]
    texts += [t + "\n" for t in texts[:200]]  # Python's `$` also matches before a last newline
    atoms = ["a", "b", "k", "S", ".", r"\d", r"\w", r"\s", r"\W", "[a-c]", "[^a]", "[A-Z_]", r"\n", "ß", "ſ", "ı",
             r"\xe9", "(?s:.)", r"\b", r"\B", "^", "$", r"\A", r"\Z"]  # fmt: skip

    def pattern(depth: int = 0) -> str:
        parts = []
        for _ in range(rng.randint(1, 4)):
            roll = rng.random()
            atom = rng.choice(atoms) if roll < 0.6 or depth > 2 else f"(?:{pattern(depth + 1)}|{pattern(depth + 1)})"
            if atom not in ("^", "$", r"\b", r"\B", r"\A", r"\Z") and rng.random() < 0.3:
                atom += rng.choice(["*", "+", "?", "{,2}", "{1,3}", "*?"])
            parts.append(atom)
        flags = rng.choice(["", "", "", "(?m)", "(?s)"]) if depth == 0 else ""
        return flags + "".join(parts)

    index = TextIndex(texts)
    translated = 0
    for _ in range(300):
        text = pattern()
        translated += to_re2(re.compile(text, re.IGNORECASE)) is not None
        assert index.match(text, regex=True).tolist() == match_rows_plain(texts, text, True).tolist(), text
    assert translated > 150  # most of them really went through RE2


def test_large_index_spans_chunks_and_cancels() -> None:
    texts = [f"item {i} {'Straße' if i % 7 == 0 else 'road'}" for i in range(120_000)]
    index = TextIndex(texts)
    assert np.array_equal(index.match("STRASSE", regex=False), np.arange(0, 120_000, 7))
    assert np.array_equal(index.match(r"item 11\d* ", regex=True), match_rows_plain(texts, r"item 11\d* ", True))
    with pytest.raises(Cancelled):
        TextIndex(texts, cancelled=lambda: True)


def test_a_needle_too_long_for_re2_still_matches_exactly() -> None:
    """RE2 refuses a literal of a million characters; the Arrow substring kernel takes over."""
    needle = "é" * 1_000_000
    texts = ["x", "É" * 1_000_001, "é" * 999_999]
    assert TextIndex(texts).match(needle, regex=False).tolist() == [1]


def test_match_rows_need_no_sort_to_highlight() -> None:
    """The map's highlight takes search rows as they come (already sorted, unique): they pass through unsorted."""
    from workbench.core.point_index import sorted_unique

    rows = TextIndex(TEXTS).match("a", regex=False)
    assert np.shares_memory(sorted_unique(rows), rows)  # no sorted copy was made
    assert sorted_unique(np.array([5, 1, 5, 3])).tolist() == [1, 3, 5]
    assert sorted_unique(np.array([1, 1, 2])).tolist() == [1, 2]


@pytest.mark.parametrize(
    "texts",
    [
        [f"Item {i}: STAR, Bread & River\n" if i % 3 else f"item {i}: star" for i in range(2_000)],  # all ASCII
        [f"Item {i}: Straße" if i % 3 else f"ITEM {i}: STRASSE" for i in range(2_000)],  # mostly accented
        [f"Item {i}: Straße" if i % 5 == 0 else f"ITEM {i}: STAR" for i in range(2_000)],  # a few accented
    ],
    ids=["ascii", "mostly-accented", "few-accented"],
)
def test_every_way_of_folding_a_chunk_gives_the_plain_rows(texts: list[str]) -> None:
    index = TextIndex(texts)
    for needle in ("star", "STRASSE", "ß", "item 1", ": s", "\n"):
        assert index.match(needle, regex=False).tolist() == match_rows_plain(texts, needle, False).tolist(), needle
    for pattern in (r"^item \d*7: s", r"river$", r"stra(ss|ß)e"):
        assert index.match(pattern, regex=True).tolist() == match_rows_plain(texts, pattern, True).tolist(), pattern
