"""The result tables' metadata columns: a view setting a workspace saves, read back safely, shown where present."""

from __future__ import annotations

import json

from workbench.core.session import without_secrets
from workbench.core.view_settings import ViewSettings


def test_chosen_columns_survive_a_json_round_trip_as_a_tuple() -> None:
    chosen = ViewSettings(result_columns=("topic", "source"))
    saved = json.loads(json.dumps(chosen.to_dict()))  # what a workspace writes and reads
    assert saved["result_columns"] == ["topic", "source"] and without_secrets(saved) == saved
    assert ViewSettings.from_dict(saved) == chosen
    assert ViewSettings.from_dict(ViewSettings().to_dict()).result_columns is None  # nothing chosen yet


def test_a_malformed_choice_keeps_the_default_and_repeats_are_dropped() -> None:
    for bad in ("topic", ["topic", 3], {"topic": 1}, 7):
        assert ViewSettings.from_dict({"result_columns": bad}).result_columns is None, bad
    assert ViewSettings.from_dict({"result_columns": []}).result_columns == ()  # chosen: no column at all
    assert ViewSettings.from_dict({"result_columns": ["a", "b", "a"]}).result_columns == ("a", "b")


def test_shown_columns_default_to_the_first_available_and_follow_the_chosen_order() -> None:
    assert ViewSettings().shown_result_columns(["topic", "year"]) == ("topic",)
    assert ViewSettings().shown_result_columns([]) == ()
    chosen = ViewSettings(result_columns=("year", "missing", "topic"))
    assert chosen.shown_result_columns(["topic", "year"]) == ("year", "topic")  # absent ones are skipped
    assert ViewSettings(result_columns=()).shown_result_columns(["topic"]) == ()
