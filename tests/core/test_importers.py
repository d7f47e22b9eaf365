"""Importers: every format, every bad input of issue 7 as a test, and hypothesis round trips for CSV and JSONL."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.embedders.base import EmbeddingSpec
from workbench.core.errors import Cancelled, InputError
from workbench.core.exports import export_vectors
from workbench.core.importers import (
    ImportOptions,
    InvalidEncoding,
    preview_table,
    read_items,
    sniff_delimiter,
)
from workbench.core.items import Item


def write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


# -- csv / tsv ------------------------------------------------------------------------------------------------
def test_csv_with_bom_crlf_quotes_and_an_id_column(tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.csv",
        b'\xef\xbb\xbfid,text,topic\r\n1,"Hello, world",greeting\r\n2,"She said ""hi""\r\nthen left",story\r\n',
    )
    items, report = read_items(path)
    assert [i.id for i in items] == ["1", "2"]  # a column named id is the id
    assert items[0].text == "Hello, world"
    assert items[1].text == 'She said "hi"\nthen left'  # quotes undone, CRLF inside a field normalised
    assert items[0].metadata == {"topic": "greeting"}  # the BOM did not stick to the first header name
    assert report.summary() == "2 items"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed_even_when_texts_contain_other_delimiters(tmp_path: Path, delimiter: str) -> None:
    rows = [["text", "label", "score"], ["a, b; c | d", "x", "1"], ["e;f,g", "y", "2"], ["plain", "z", "3"]]
    body = "\n".join(delimiter.join(f'"{v}"' if i == 0 else v for i, v in enumerate(r)) for r in rows) + "\n"
    items, _ = read_items(write(tmp_path / "d.csv", body))
    assert [i.text for i in items] == ["a, b; c | d", "e;f,g", "plain"]
    assert items[1].metadata == {"label": "y", "score": "2"}


def test_tsv_and_a_one_column_csv_need_no_sniffing_luck(tmp_path: Path) -> None:
    items, _ = read_items(write(tmp_path / "t.tsv", "sentence\tlang\nbonjour, le monde\tfr\n"))
    assert items[0].text == "bonjour, le monde" and items[0].metadata == {"lang": "fr"}
    items, _ = read_items(write(tmp_path / "one.csv", "headline\nMarkets rally; bonds fall\n"))
    assert items[0].text == "Markets rally; bonds fall"
    assert sniff_delimiter("a\tb\n1\t2\n", preferred=",") == "\t"


def test_choose_text_id_and_metadata_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "key,body,author,year,notes\nk1,First body,ann,2020,x\nk2,Second,bob,2021,y\n")
    options = ImportOptions(kind="query", column="body", id_column="key", metadata_columns=["author", "year"])
    items, _ = read_items(path, options)
    assert [(i.id, i.text, i.kind) for i in items] == [("k1", "First body", "query"), ("k2", "Second", "query")]
    assert items[1].metadata == {"author": "bob", "year": "2021"}
    items, _ = read_items(path, ImportOptions(column="body", metadata_columns=[]))
    assert items[0].metadata == {}


def test_mixed_newlines_in_one_csv_file(tmp_path: Path) -> None:
    path = write(tmp_path / "m.csv", 'text,n\r\none,1\ntwo,2\rthree,3\r\n"four\rstill four",4\n')
    items, _ = read_items(path)
    assert [i.text for i in items] == ["one", "two", "three", "four\nstill four"]
    assert [i.metadata["n"] for i in items] == ["1", "2", "3", "4"]


def test_mixed_newlines_in_txt_and_jsonl(tmp_path: Path) -> None:
    items, _ = read_items(write(tmp_path / "m.txt", "a\r\nb\nc\rd"))
    assert [i.text for i in items] == ["a", "b", "c", "d"]
    jsonl = '{"text": "x"}\r\n{"text": "y"}\r{"text": "z"}\n'
    items, _ = read_items(write(tmp_path / "m.jsonl", jsonl))
    assert [i.text for i in items] == ["x", "y", "z"]


def test_a_10_mb_single_field(tmp_path: Path) -> None:
    big = "word " * (2 * 1024 * 1024)  # 10 MiB in one field, far over csv's default field limit
    path = write(tmp_path / "big.csv", f'id,text\n1,"{big}"\n2,small\n')
    items, _ = read_items(path)
    assert len(items[0].text) == len(big.strip()) and items[1].text == "small"
    items, _ = read_items(write(tmp_path / "big.jsonl", json.dumps({"text": big}) + "\n"))
    assert len(items[0].text) == len(big.strip())


# -- bad input ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".txt", ".parquet"])
def test_an_empty_file_is_a_clear_error(tmp_path: Path, suffix: str) -> None:
    path = write(tmp_path / f"empty{suffix}", b"")
    with pytest.raises(InputError, match=r"empty\.\w+: the file is empty"):
        read_items(path)


def test_a_header_only_file_has_no_items(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"h\.csv: no items with text found \(0 items\)"):
        read_items(write(tmp_path / "h.csv", "text,topic\n"))


@pytest.mark.parametrize(
    ("name", "body", "options", "message"),
    [
        ("a.csv", "title,topic\nx,y\n", {}, r"a\.csv: header: no text column found .*Columns here: title, topic"),
        ("b.csv", "text,topic\nx,y\n", {"column": "body"}, r"b\.csv: header: no column 'body'\. Columns here"),
        ("c.csv", "text,topic\nx,y\n", {"id_column": "key"}, r"c\.csv: header: no id column 'key'"),
        ("d.csv", "text,topic\nx,y\n", {"metadata_columns": ["lang"]}, r"d\.csv: header: no metadata column 'lang'"),
        ("e.jsonl", '{"text": "a"}\n{"body": "b"}\n', {}, r"e\.jsonl: line 2: field 'text' is missing"),
        ("f.jsonl", '{"title": "a", "n": 1}\n', {}, r"f\.jsonl: line 1: no text column found"),
    ],
)
def test_a_missing_column_names_file_row_and_field(tmp_path: Path, name, body, options, message) -> None:
    with pytest.raises(InputError, match=message):
        read_items(write(tmp_path / name, body), ImportOptions(**options))


def test_rows_with_no_text_are_dropped_and_counted(tmp_path: Path) -> None:
    path = write(tmp_path / "gaps.csv", "text,topic\nkept,a\n,b\n   ,c\nalso kept,d\n")
    items, report = read_items(path)
    assert [i.text for i in items] == ["kept", "also kept"]
    assert report.summary() == "2 items; 2 empty dropped"
    with pytest.raises(InputError, match=r"none\.csv: no items with text found \(0 items; 2 empty dropped\)"):
        read_items(write(tmp_path / "none.csv", 'text\n""\n" "\n'))


def test_invalid_utf8_says_where_and_replace_loads_it(tmp_path: Path) -> None:
    for name, body in (
        ("bad.csv", b"text\nfine\ncaf\xe9 au lait\n"),
        ("bad.jsonl", b'{"text": "fine"}\n{"text": "caf\xe9"}\n'),
        ("bad.txt", b"fine\ncaf\xe9\n"),
    ):
        path = write(tmp_path / name, body)
        with pytest.raises(InvalidEncoding, match=rf"{name}: line \d, byte \d+: not valid UTF-8.*replaced") as info:
            read_items(path)
        assert info.value.line == body[: info.value.byte].count(b"\n") + 1
        assert body[info.value.byte] == 0xE9
        items, _ = read_items(path, ImportOptions(encoding_errors="replace"))
        assert items[-1].text.startswith("caf\ufffd")


def test_invalid_utf8_far_into_a_large_csv_is_located_exactly(tmp_path: Path) -> None:
    lines = [b"text"] + [f"row {i}".encode() for i in range(50_000)]
    lines[40_000] = b"bad \xff byte"
    body = b"\n".join(lines) + b"\n"
    with pytest.raises(InvalidEncoding, match=r"line 40001, byte") as info:
        read_items(write(tmp_path / "late.csv", body))
    assert body[info.value.byte] == 0xFF


def test_a_row_with_the_wrong_number_of_fields_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "w.csv", "text,topic\nok,a\nnot ok,b,extra\n")
    with pytest.raises(InputError, match=r"w\.csv: line 3: 3 fields where the header has 2"):
        read_items(path)


def test_an_unclosed_quote_is_an_error_not_a_swallowed_file(tmp_path: Path) -> None:
    path = write(tmp_path / "q.csv", 'id,text\n1,"never closed\n2,other\n3,more\n')
    with pytest.raises(InputError, match=r"q\.csv: line 2: .*quote"):
        read_items(path)


def test_a_duplicate_header_and_duplicate_ids_are_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"line 1: the header names column 'text' twice"):
        read_items(write(tmp_path / "h.csv", "text,text\na,b\n"))
    with pytest.raises(InputError, match=r"ids\.csv: line 3, field 'id': id '7' repeats line 2"):
        read_items(write(tmp_path / "ids.csv", "id,text\n7,a\n7,b\n"))


def test_a_parquet_column_of_the_wrong_type_names_file_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "typed.parquet"
    pq.write_table(pa.table({"text": pa.array([None, None, 42, 43], pa.int64()), "label": ["a", "b", "c", "d"]}), path)
    with pytest.raises(InputError, match=r"typed\.parquet: row 3, field 'text': expected text, found int64"):
        read_items(path)
    items, _ = read_items(path, ImportOptions(column="label"))
    assert [i.text for i in items] == ["a", "b", "c", "d"]
    assert items[2].metadata == {"text": 42}  # other columns keep their types


def test_parquet_choose_the_column_and_keep_typed_metadata(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    table = pa.table({"doc_id": [10, 11], "body": ["alpha", None], "score": [0.5, 0.25], "tags": [["a"], ["b", "c"]]})
    pq.write_table(table, path)
    items, report = read_items(path, ImportOptions(column="body", id_column="doc_id"))
    assert [(i.id, i.text) for i in items] == [("10", "alpha")]
    assert items[0].metadata == {"score": 0.5, "tags": ["a"]}
    assert report.dropped_empty == 1
    with pytest.raises(InputError, match=r"notparquet\.parquet: not a readable Parquet file"):
        read_items(write(tmp_path / "notparquet.parquet", "text\nhello\n"))


def test_jsonl_errors_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"j\.jsonl: line 2: not valid JSON"):
        read_items(write(tmp_path / "j.jsonl", '{"text": "a"}\n{"text": \n'))
    with pytest.raises(InputError, match=r"k\.jsonl: line 1: expected a JSON object, found list"):
        read_items(write(tmp_path / "k.jsonl", '["a"]\n'))
    with pytest.raises(InputError, match=r"l\.jsonl: line 1, field 'text': expected text, found int"):
        read_items(write(tmp_path / "l.jsonl", '{"text": 5}\n'))


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"x\.xlsx: unsupported file type '\.xlsx'"):
        read_items(write(tmp_path / "x.xlsx", "PK"))
    with pytest.raises(InputError, match=r"nope\.csv: no such file"):
        read_items(tmp_path / "nope.csv")
    with pytest.raises(InputError, match=r"nope: no such file\.$"):  # missing: not "unsupported file type ''"
        read_items(tmp_path / "nope")


# -- large files: progress and cancel -------------------------------------------------------------------------
def test_large_csv_reports_progress_and_can_be_cancelled(tmp_path: Path) -> None:
    path = write(tmp_path / "large.csv", "text,n\n" + "".join(f"sentence number {i},{i}\n" for i in range(30_000)))
    reports: list[tuple[int, int]] = []
    items, _ = read_items(path, progress=lambda done, total: reports.append((done, total)))
    assert len(items) == 30_000
    assert len(reports) > 5 and reports[-1][0] == reports[-1][1] == path.stat().st_size
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(reports))
    calls = {"n": 0}

    def cancel_on_third_check() -> bool:
        calls["n"] += 1
        return calls["n"] >= 3

    with pytest.raises(Cancelled):
        read_items(path, cancelled=cancel_on_third_check)
    assert calls["n"] == 3  # stopped at the third chunk, not at the end of the file


def test_large_parquet_reports_progress_and_can_be_cancelled(tmp_path: Path) -> None:
    path = tmp_path / "large.parquet"
    pq.write_table(pa.table({"text": [f"t{i}" for i in range(25_000)]}), path)
    reports: list[tuple[int, int]] = []
    items, _ = read_items(path, progress=lambda d, t: reports.append((d, t)))
    assert len(items) == 25_000 and reports[-1] == (25_000, 25_000) and len(reports) >= 3
    with pytest.raises(Cancelled):
        read_items(path, cancelled=lambda: True)


# -- the import dialog's preview ------------------------------------------------------------------------------
def test_preview_lists_columns_rows_and_guesses(tmp_path: Path) -> None:
    preview = preview_table(write(tmp_path / "p.csv", "id;Content;lang\n1;hello;en\n2;salut;fr\n"))
    assert preview.columns == ["id", "Content", "lang"]
    assert (preview.text_column, preview.id_column, preview.delimiter) == ("Content", "id", ";")
    assert preview.rows[1] == {"id": "2", "Content": "salut", "lang": "fr"}
    preview = preview_table(write(tmp_path / "p.jsonl", '{"q": "a", "x": 1}\n{"q": "b", "y": 2}\n'))
    assert preview.columns == ["q", "x", "y"] and preview.text_column == "q"  # no text-like name: the most text
    assert preview.id_column is None  # x and y each miss a row
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"body": ["a"], "n": [1]}), path)
    preview = preview_table(path)
    assert preview.column_types == {"body": "string", "n": "int64"} and preview.text_column == "body"


def test_preview_proposes_a_unique_column_as_id_from_more_rows_than_it_shows(tmp_path: Path) -> None:
    lines = ["package,summary,licence"] + [f"pkg{n},does thing {n},MIT" for n in range(50)]
    preview = preview_table(write(tmp_path / "pkgs.csv", "\n".join(lines) + "\n"))
    assert (preview.text_column, preview.id_column, len(preview.rows)) == ("summary", "package", 20)
    assert preview.id_reason == "'package' is unique and non-empty in all 50 rows read."
    lines.append("pkg7,a second pkg7,MIT")  # a repeat past the rows shown still counts
    preview = preview_table(write(tmp_path / "pkgs.csv", "\n".join(lines) + "\n"))
    assert preview.id_column is None and "hash" in preview.id_reason
    preview = preview_table(write(tmp_path / "pkgs.csv", "\n".join(lines) + "\n"), survey_rows=30)
    assert preview.id_column == "package" and "the first 30 rows" in preview.id_reason


def test_preview_proposes_ids_in_jsonl_and_parquet(tmp_path: Path) -> None:
    body = "".join(json.dumps({"text": f"t{n}", "score": n / 3, "uuid": f"u-{n}"}) + "\n" for n in range(5))
    preview = preview_table(write(tmp_path / "a.jsonl", body + '{"text": "late", "score": 1.5, "extra": 1}\n'))
    assert preview.id_column is None and "extra" in preview.columns  # the last row has no uuid
    preview = preview_table(write(tmp_path / "b.jsonl", body))
    assert preview.id_column == "uuid"  # floats are never ids
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"rank": [3, 1, 2], "body": ["a", "b", "c"], "name": ["x", "y", "z"]}), path)
    preview = preview_table(path)
    assert (preview.text_column, preview.id_column) == ("body", "name")  # the named one over the first, rank
    assert "preferred to 'rank'" in preview.id_reason


def test_the_cli_keeps_its_id_rule_whatever_the_dialog_proposes(tmp_path: Path) -> None:
    """`embed` without --id-column uses a column named `id`, else a content hash: the headless contract."""
    path = write(tmp_path / "pkgs.csv", "package,text\npkg1,one\npkg2,two\n")
    items, _ = read_items(path)
    hashed = [Item.create("one", metadata={"package": "pkg1"}), Item.create("two", metadata={"package": "pkg2"})]
    assert [(i.id, dict(i.metadata)) for i in items] == [(i.id, dict(i.metadata)) for i in hashed]


# -- round trips ----------------------------------------------------------------------------------------------
def test_an_export_imports_back_with_its_ids_and_metadata(tmp_path: Path) -> None:
    items = [Item.create("alpha", metadata={"topic": "a"}), Item.create("beta", metadata={"topic": "b"})]
    vectors = np.eye(2, 3, dtype=np.float32)
    for suffix in (".parquet", ".csv", ".npy"):
        path = export_vectors(tmp_path / f"out{suffix}", items, vectors, EmbeddingSpec())[-1]
        back, _ = read_items(path)
        assert [(i.id, i.text, dict(i.metadata)) for i in back] == [(i.id, i.text, dict(i.metadata)) for i in items]


# Texts as items hold them: stripped, non-empty, "\n" line ends; with tabs, quotes, commas and any unicode.
texts = (
    st.text(
        alphabet=st.one_of(st.sampled_from(list("\t\n\r\",;|'\\ \u2028\x85\ufeff")), st.characters(codec="utf-8")),
        min_size=1,
        max_size=40,
    )
    .map(lambda s: s.replace("\r\n", "\n").replace("\r", "\n").strip())
    .filter(bool)
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(texts, texts), min_size=1, max_size=8, unique_by=lambda r: r[0]))
def test_random_text_survives_csv_and_jsonl_round_trips(tmp_path: Path, rows: list[tuple[str, str]]) -> None:
    items = [Item.create(text, metadata={"note": note}) for text, note in rows]
    vectors = np.zeros((len(items), 2), np.float32)
    for suffix in (".csv", ".npy"):  # the .npy export's sidecar is JSONL
        written = export_vectors(tmp_path / f"rt{suffix}", items, vectors, EmbeddingSpec())
        back, _ = read_items(written[-1])
        assert [(i.id, i.text, dict(i.metadata)) for i in back] == [(i.id, i.text, dict(i.metadata)) for i in items]
