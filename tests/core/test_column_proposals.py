"""The import dialog's proposals (records.propose_id_column / propose_text_column): examples and properties."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.records import (
    ImportOptions,
    _hint_rank,
    propose_id_column,
    propose_text_column,
    records_to_items,
    survey_columns,
)


def _proposal(records: list[dict[str, Any]], text: str | None = "text", complete: bool = True):
    survey = survey_columns(records)
    survey.complete = complete
    return propose_id_column(survey, text)


def test_the_first_unique_non_empty_column_is_proposed_and_the_reason_says_so() -> None:
    records = [{"text": f"t{n}", "licence": "MIT", "package": f"p{n}", "version": f"1.{n}"} for n in range(3)]
    proposal = _proposal(records)
    assert proposal.column == "package"  # licence repeats; version is unique too, but later
    assert proposal.reason == "'package' is unique and non-empty in all 3 rows read."
    assert "the first 3 rows" in _proposal(records, complete=False).reason


def test_a_column_named_like_an_id_wins_over_an_earlier_unique_one() -> None:
    records = [{"title": f"T{n}", "text": f"t{n}", "paperId": n, "slug": f"s{n}"} for n in range(3)]
    proposal = _proposal(records)
    assert proposal.column == "paperId"  # "id" ranks above "slug"; camelCase words count
    assert proposal.reason.endswith("; preferred to 'title' for its name.")
    assert _proposal([{k: v for k, v in r.items() if k != "paperId"} for r in records]).column == "slug"
    assert _proposal([{"text": "a", "ID": "1"}, {"text": "b", "ID": "2"}]).column == "ID"


def test_no_proposal_without_a_unique_non_empty_id_like_column() -> None:
    cases = [
        [{"text": "a", "id": "1"}, {"text": "b", "id": "1"}],  # repeated
        [{"text": "a", "id": "1"}, {"text": "b", "id": " "}],  # blank
        [{"text": "a", "id": "1"}, {"text": "b"}],  # missing
        [{"text": "a", "score": 0.5}, {"text": "b", "score": 0.25}],  # floats
        [{"text": "a", "ok": True}, {"text": "b", "ok": False}],  # booleans
        [{"text": "a", "note": "x\ny"}, {"text": "b", "note": "z"}],  # a line break
        [{"text": "a", "tags": ["x"]}, {"text": "b", "tags": ["y"]}],  # lists
        [{"text": "a", "key": 1}, {"text": "b", "key": "1"}],  # the same id once made a string
    ]
    for records in cases:
        proposal = _proposal(records)
        assert proposal.column is None, records
        assert proposal.reason.startswith("No column is unique and non-empty in all 2 rows read: ids will be a hash")


def test_one_row_proves_nothing_and_the_text_column_is_never_the_id() -> None:
    assert _proposal([{"text": "a", "id": "1"}]).column is None
    assert "Too few rows" in _proposal([]).reason
    assert _proposal([{"text": "a"}, {"text": "b"}]).column is None
    # A key first seen after the first row was missing before it.
    assert _proposal([{"text": "a"}, {"text": "b", "id": "2"}]).column is None


def test_the_text_proposal_keeps_the_cli_guess_else_takes_the_column_with_most_text() -> None:
    assert propose_text_column(survey_columns([{"n": 1, "Body": "x"}])) == "Body"
    assert propose_text_column(survey_columns([{"id": "1", "abstract": "a long text", "tag": "ab"}])) == "abstract"
    assert propose_text_column(survey_columns([{"n": 1, "m": 2}])) is None


_names = st.sampled_from(["a", "b", "id", "doc_key", "title", "slug"])
_values = st.one_of(
    st.none(),
    st.integers(-3, 3),
    st.booleans(),
    st.floats(allow_nan=False),
    st.sampled_from(["", " ", "x", "y", "z", "line\nbreak", "1", "2"]),
    st.text(max_size=4),
)


def _is_id_like(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return False
    return bool(str(value).strip()) and "\n" not in str(value)


def _qualifies(records: list[dict[str, Any]], name: str) -> bool:
    values = [record.get(name) for record in records]
    return all(_is_id_like(v) for v in values) and len({str(v) for v in values}) == len(values)


@settings(max_examples=200, deadline=None)
@given(
    columns=st.lists(_names, min_size=1, max_size=4, unique=True),
    data=st.data(),
    n_rows=st.integers(0, 8),
)
def test_a_proposed_id_imports_without_a_repeat_and_none_means_no_column_qualified(
    columns: list[str], data: st.DataObject, n_rows: int
) -> None:
    records = [
        {"text": f"text {row}", **{name: data.draw(_values) for name in columns if data.draw(st.booleans())}}
        for row in range(n_rows)
    ]
    proposal = _proposal(records)
    qualifying = [name for name in columns if _qualifies(records, name)] if n_rows >= 2 else []
    if proposal.column is None:
        assert qualifying == []
    else:
        assert proposal.column in qualifying and proposal.column != "text"
        items, _ = records_to_items(
            enumerate(records, 1), Path("t.jsonl"), ImportOptions(column="text", id_column=proposal.column)
        )
        assert [item.id for item in items] == [str(record[proposal.column]) for record in records]
        assert proposal.column == min(qualifying, key=_hint_rank)  # an id-like name first, else the first column
