from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from workbench.core.corpus import Corpus, items_from_pasted_text, split_pasted_text
from workbench.core.items import Item, content_id


def test_lines_mode_drops_empty_and_whitespace_lines_and_counts_them() -> None:
    texts, dropped = split_pasted_text("alpha\n\n   \nbeta\r\ngamma\n")
    assert texts == ["alpha", "beta", "gamma"]
    assert dropped == 2


def test_blank_line_mode_keeps_multi_line_documents() -> None:
    texts, dropped = split_pasted_text("first line\nsecond line\n\n\nnext doc\n  \t\nlast", "blank_line")
    assert texts == ["first line\nsecond line", "next doc", "last"]
    assert dropped == 0


def test_pasted_exact_duplicates_collapse_and_are_counted() -> None:
    items, report = items_from_pasted_text("a\nb\na\na\n", "document")
    assert [i.text for i in items] == ["a", "b"]
    assert report.collapsed_duplicates == 2
    assert report.kept == 2
    assert "2 duplicates collapsed" in report.summary()


def test_same_text_different_metadata_stays_two_items() -> None:
    one = Item.create("same", "document", {"source": "a"})
    two = Item.create("same", "document", {"source": "b"})
    corpus = Corpus()
    report = corpus.add([one, two])
    assert len(corpus) == 2 and report.collapsed_duplicates == 0


def test_ids_are_stable_across_runs_and_depend_on_metadata_and_kind() -> None:
    # The literal pins the hash scheme: changing it would re-key every cache and Milvus collection.
    assert content_id("hello", "document", {}) == content_id("hello", "document", {})
    assert content_id("hello", "document", {"a": 1, "b": 2}) == content_id("hello", "document", {"b": 2, "a": 1})
    assert content_id("hello", "document") != content_id("hello", "query")
    assert content_id("hello", "document", {"a": 1}) != content_id("hello", "document", {"a": 2})
    assert Item.create("hello").id == "3387a677547b831f"


def test_unicode_and_one_megabyte_of_text() -> None:
    text = "\n".join(f"ligne {i} — 日本語 🙂 {'x' * 90}" for i in range(10_000))
    assert len(text.encode()) > 1_000_000
    items, report = items_from_pasted_text(text, "query")
    assert report.kept == 10_000 and all(i.kind == "query" for i in items)
    assert items[0].text.startswith("ligne 0 — 日本語 🙂")


def test_replace_kind_keeps_the_other_kind() -> None:
    corpus = Corpus()
    corpus.add(items_from_pasted_text("d1\nd2", "document")[0])
    corpus.add(items_from_pasted_text("q1", "query")[0])
    corpus.replace_kind("document", items_from_pasted_text("d3", "document")[0])
    assert [i.text for i in corpus.documents] == ["d3"]
    assert [i.text for i in corpus.queries] == ["q1"]


@given(st.lists(st.text(min_size=1).filter(lambda s: s.strip() and "\n" not in s and "\r" not in s), max_size=30))
def test_lines_mode_keeps_every_non_empty_line(lines: list[str]) -> None:
    texts, _ = split_pasted_text("\n".join(lines))
    assert texts == [line.strip() for line in lines if line.strip()]


def test_the_lists_of_a_kind_and_the_metadata_keys_are_kept_until_the_items_change() -> None:
    from workbench.core.corpus import Corpus
    from workbench.core.items import Item

    corpus = Corpus([Item.create("a", metadata={"topic": "x"}), Item.create("q", "query")]).warm()
    documents = corpus.documents
    assert corpus.of_kind("document") is documents  # kept: the views ask on every corpus change
    assert corpus.metadata_keys() == ["topic"] and corpus.metadata_keys("query") == []
    corpus.replace_kind("document", [Item.create("b", metadata={"lang": "en"})])
    assert [i.text for i in corpus.documents] == ["b"] and corpus.metadata_keys() == ["lang"]
    corpus.add([Item.create("c")])  # extends the same list: the length tells
    assert [i.text for i in corpus.documents] == ["b", "c"]
    assert [i.text for i in corpus.queries] == ["q"]
