"""Core messages reach both the app and the CLI, so advice names both ways (or neither): a new user of the app was
told to "choose --long-texts", and a CLI user to "paste one in the Model & key panel"."""

from __future__ import annotations

import pytest

from tests.fakes.fake_gemini import FakeGemini
from workbench.core.embedders.gemini import GeminiEmbedder, RetryPolicy
from workbench.core.errors import InputError
from workbench.core.items import Item
from workbench.core.long_texts import prepare_items


def test_refusing_long_texts_names_the_app_setting_and_the_cli_option() -> None:
    with FakeGemini() as server:
        retry = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.01)
        embedder = GeminiEmbedder(
            "gemini-embedding-001", "AIzaFAKE-key-0123", 768, base_url=server.base_url, retry=retry
        )
        items = [Item.create(" ".join(["word"] * 5000), item_id="big")]
        with pytest.raises(InputError) as refused:
            prepare_items(items, embedder, "refuse")
    message = str(refused.value)
    assert "Long texts in the Model & key panel" in message and "--long-texts in the CLI" in message


@pytest.mark.parametrize("key", [None, "   "])
def test_a_missing_gemini_key_names_the_panel_and_the_environment_variable(key: str | None) -> None:
    with pytest.raises(InputError) as missing:
        GeminiEmbedder(api_key=key)
    message = str(missing.value)
    assert "Model & key panel (app)" in message and "GEMINI_API_KEY (app and CLI)" in message


def test_a_chunk_overlap_over_half_the_window_is_refused_not_cut_quietly() -> None:
    with FakeGemini() as server:
        retry = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.01)
        embedder = GeminiEmbedder(
            "gemini-embedding-001", "AIzaFAKE-key-0123", 768, base_url=server.base_url, retry=retry
        )
        items = [Item.create("short", item_id="a")]
        with pytest.raises(InputError, match="more than half the 2,048-token window"):
            prepare_items(items, embedder, "chunk", overlap_tokens=1025)
        assert prepare_items(items, embedder, "chunk", overlap_tokens=1024).items[0].text == "short"
        assert prepare_items(items, embedder, "truncate", overlap_tokens=5000).items[0].text == "short"
