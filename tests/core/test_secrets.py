"""The one place the Gemini key is read from the environment (CLI, the app's Model & key panel, cluster names)."""

from __future__ import annotations

import pytest

from workbench.core.secrets import gemini_key_from_env, scrub

GEMINI_KEY = "AIzaFAKE-GEMINI-ENV-KEY-11"
GOOGLE_KEY = "AIzaFAKE-GOOGLE-ENV-KEY-22"


def test_gemini_api_key_wins_over_google_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", GOOGLE_KEY)
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    assert gemini_key_from_env() == GEMINI_KEY


def test_an_empty_gemini_api_key_falls_back_to_google_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "")
    monkeypatch.setenv("GOOGLE_API_KEY", GOOGLE_KEY)
    assert gemini_key_from_env() == GOOGLE_KEY


def test_no_key_in_the_environment_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "")  # conftest removed both; an empty one is no key either
    assert gemini_key_from_env() is None


def test_a_key_read_from_the_environment_is_scrubbed_from_then_on(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "AIzaFAKE-READ-ONCE-KEY-33"
    assert scrub(f"request failed for key={key}") == f"request failed for key={key}"  # not seen yet
    monkeypatch.setenv("GEMINI_API_KEY", key)
    gemini_key_from_env()
    assert scrub(f"request failed for key={key}") == "request failed for key=***"
