"""Cluster names: class-based TF-IDF over words and two-word phrases, and Gemini's names through the fake server."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fakes.fake_gemini import FakeGemini
from workbench.core.cluster_names import (
    NAME_SEPARATOR,
    NameCache,
    cluster_prompts,
    gemini_generate,
    gemini_names,
    name_clusters,
    tidy_name,
)
from workbench.core.errors import InputError


def corpus() -> tuple[list[str], np.ndarray]:
    """Four clusters of six texts. Every text says "package" (shared by all clusters: it names none), each cluster
    has its own two-word phrase in every text, and one text per cluster holds a word found nowhere else."""
    phrases = ["amateur radio", "truetype font", "email client", "puzzle game"]
    odd = ["soapysdr", "ttfautohint", "mutt", "sokoban"]
    texts, labels = [], []
    for cluster, phrase in enumerate(phrases):
        for i in range(6):
            extra = f" {odd[cluster]}" if i == 0 else ""
            texts.append(f"A package with an {phrase} for the desktop, version {i}{extra}")
            labels.append(cluster)
    return texts, np.array(labels)


def test_names_are_phrases_without_shared_words_or_one_off_words() -> None:
    texts, labels = corpus()
    names = name_clusters(texts, labels)
    expected = ["amateur radio", "truetype font", "email client", "puzzle game"]
    for cluster, phrase in enumerate(expected):
        terms = names[cluster].split(NAME_SEPARATOR)
        assert terms[0] == phrase  # the phrase outranks its own words, which then are not repeated
        assert not set(" ".join(terms[1:]).split()) & set(phrase.split())
        assert "package" not in names[cluster] and "desktop" not in names[cluster]  # used by every cluster
    odd_words = {"soapysdr", "ttfautohint", "mutt", "sokoban"}
    assert not any(word in names[c] for c in range(4) for word in odd_words)  # one text's word names no cluster


def test_noise_keeps_its_name_and_is_a_class_of_its_own() -> None:
    texts, labels = corpus()
    labels = labels.copy()
    labels[[0, 6]] = -1
    names = name_clusters(texts, labels)
    assert names[-1] == "noise" and names[0].startswith("amateur radio")


def test_gemini_names_one_request_per_cluster_cached_with_the_prompt_visible() -> None:
    texts, labels = corpus()
    rng = np.random.default_rng(0)
    vectors = np.eye(4)[labels] + 0.1 * rng.normal(size=(len(labels), 4))
    prompts = cluster_prompts(texts, vectors, labels)
    assert sorted(prompts) == [0, 1, 2, 3]
    assert "amateur radio" in prompts[0] and "puzzle game" not in prompts[0]
    assert "6 similar texts" in prompts[0]
    with FakeGemini() as server:
        generate = gemini_generate("test-key", server.base_url)
        cache = NameCache()
        names = gemini_names(prompts, generate, cache=cache)
        requests = server.generate_requests()
        assert len(requests) == 4 and all(r.path.endswith("gemini-2.5-flash:generateContent") for r in requests)
        sent = [part["text"] for r in requests for c in r.body["contents"] for part in c["parts"]]
        assert sent == [prompts[c] for c in range(4)]  # exactly the prompt a view shows
        assert names[0] == f"Topic of {name_clusters(texts, labels)[0]}"
        again = gemini_names(prompts, generate, cache=NameCache())  # a new cache object reads the same file
        assert again == names and len(server.generate_requests()) == 4  # no new request


def test_gemini_errors_are_sentences_and_answers_are_tidied() -> None:
    with pytest.raises(InputError, match="No Gemini API key"):
        gemini_generate(None)
    with FakeGemini(valid_keys={"good"}) as server:
        generate = gemini_generate("bad", server.base_url)
        with pytest.raises(InputError, match="rejected the API key"):
            gemini_names({0: "name this"}, generate)
    assert tidy_name('**"Amateur radio tools."**\nThese texts are about…') == "Amateur radio tools"
    assert tidy_name("Name: Fonts") == "Fonts"
    assert len(tidy_name("word " * 40)) <= 60
