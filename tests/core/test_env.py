"""The one rule for numbers read from the environment (timeouts, intervals, limits, retry counts)."""

from __future__ import annotations

import pytest

from workbench.core.embedders.gemini import RetryPolicy, default_timeout_s
from workbench.core.embedding import DEFAULT_MAX_TEXT_CHARS, max_text_chars_from_env
from workbench.core.env import env_number, positive_env_number
from workbench.core.gemini_batch import DEFAULT_POLL_S, poll_interval_s

NAME = "WORKBENCH_TEST_NUMBER"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, 7.0), ("2.5", 2.5), (" 3 ", 3.0), ("0", 0.0), ("-1", -1.0), ("", 7.0), ("ten", 7.0), ("nan", 7.0),
     ("inf", 7.0), ("-inf", 7.0)],
)  # fmt: skip
def test_a_finite_number_or_the_default(monkeypatch: pytest.MonkeyPatch, raw: str | None, expected: float) -> None:
    if raw is not None:
        monkeypatch.setenv(NAME, raw)
    assert env_number(NAME, 7.0) == expected


@pytest.mark.parametrize(("raw", "expected"), [("2.5", 2.5), ("0", 7.0), ("-1", 7.0), ("nan", 7.0)])
def test_positive_where_the_knob_needs_it(monkeypatch: pytest.MonkeyPatch, raw: str, expected: float) -> None:
    monkeypatch.setenv(NAME, raw)
    assert positive_env_number(NAME, 7.0) == expected


def test_a_count_is_read_as_a_whole_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NAME, "12")
    assert positive_env_number(NAME, 5, int) == 12
    monkeypatch.setenv(NAME, "1.5")  # not a whole number: the default, not 1
    assert positive_env_number(NAME, 5, int) == 5


def test_every_knob_reads_through_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_GEMINI_TIMEOUT_S", "2.5")
    monkeypatch.setenv("WORKBENCH_GEMINI_BATCH_POLL_S", "-3")
    monkeypatch.setenv("WORKBENCH_MAX_TEXT_CHARS", "1e6")
    monkeypatch.setenv("WORKBENCH_GEMINI_ATTEMPTS", "nan")  # int(nan) raised ValueError at RetryPolicy()
    monkeypatch.setenv("WORKBENCH_GEMINI_BACKOFF_S", "0")
    policy = RetryPolicy()
    assert default_timeout_s() == 2.5 and poll_interval_s() == DEFAULT_POLL_S
    assert max_text_chars_from_env() == DEFAULT_MAX_TEXT_CHARS and (policy.attempts, policy.base_delay) == (5, 0.0)
