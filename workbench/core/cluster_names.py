"""Names for clusters: their most distinctive words and two-word phrases offline, or a Gemini text model's.

Offline names are class-based TF-IDF (as in BERTopic): each cluster's texts are one document; a term (a word or a
two-word phrase of adjacent words, counted by scikit-learn's CountVectorizer, English stop words left out) scores
tf(term, cluster) · log(1 + mean terms per cluster / frequency of the term over all clusters). Two rules make the
names read better than the plain formula: a term that most clusters use (in a tenth of their texts or more)
("package", "data", "support" in software descriptions) names none of them, nor does a phrase holding one; a term
must come from at least two of a cluster's texts, so one odd word ("soapysdr") does not name a cluster of fifty; and
a term scoring under a fifth of the cluster's best is left out (word pairs that met by chance), so a name may hold
fewer than three terms. The top terms that do not repeat a word already chosen make the name, and a two-word phrase
scoring at least half as much as a chosen word it contains takes that word's place ("amateur radio" rather than
"amateur · radio"). Hand-written because it is a few lines over CountVectorizer, and BERTopic would bring models and
UMAP settings of its own.

Gemini names: one `generate_content` request per cluster with the cluster's most central texts (nearest its mean
vector) and its offline name as a hint; the prompt is built by `gemini_prompt` so a view can show it, and each
answer is cached on disk by model and prompt, so asking again costs nothing. Names stay editable either way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from workbench.core.clusters import NOISE, NOISE_NAME
from workbench.core.errors import InputError, ServiceError
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress, raise_if_cancelled

log = logging.getLogger("workbench.core.cluster_names")

NAME_SEPARATOR = " · "
# Words of two or more letters in any script; digits, ids and underscores are not topics.
TOKEN_PATTERN = r"(?u)\b[^\W\d_]{2,}\b"
PHRASE_SCAN = 60  # top terms looked at per cluster: the name's words, and phrases that may replace them
WEAKEST = 0.2  # a term scoring under this share of the cluster's best is left out: chance, not the topic
SHARED_BY = 0.5  # a term used by more than this share of the clusters names none
USED_SHARE = 0.1  # a cluster uses a term when at least this share of its texts hold it
CENTRAL_TEXTS = 8  # texts per Gemini request
TEXT_CHARS = 300  # each text cut to this many characters in the prompt
NAME_CHARS = 60  # a Gemini answer longer than this is cut: a name, not a paragraph
GEMINI_NAME_MODEL = "gemini-2.5-flash"


def terms_of(text: str) -> list[str]:
    """A text's words and two-word phrases, lowercased, without English stop words.

    Phrases join words that stand next to each other in the text: scikit-learn's own ngram_range drops the stop
    words first and would make "font desktop" out of "font for the desktop".
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    words = re.findall(TOKEN_PATTERN, text.lower())
    kept = [w not in ENGLISH_STOP_WORDS for w in words]
    adjacent = zip(words, words[1:], kept, kept[1:], strict=False)
    pairs = [f"{a} {b}" for a, b, keep_a, keep_b in adjacent if keep_a and keep_b]
    return [w for w, keep in zip(words, kept, strict=True) if keep] + pairs


def name_clusters(texts: Sequence[str], labels: np.ndarray, words: int = 3) -> dict[int, str]:
    """Cluster id -> its `words` most distinctive terms joined with ' · '; -1 -> 'noise'.

    A cluster whose texts hold no usable term is called 'cluster N'.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    labels = np.asarray(labels)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    classes = [int(c) for c in np.unique(labels)]
    names: dict[int, str] = {NOISE: NOISE_NAME} if NOISE in classes else {}
    clusters = [c for c in classes if c != NOISE]
    if not clusters:
        return names
    fallback = {c: f"cluster {c}" for c in clusters}
    vectorizer = CountVectorizer(analyzer=terms_of)
    try:
        per_text = vectorizer.fit_transform([str(t) for t in texts]).tocsr()
    except ValueError:  # only stop words, or no words at all
        return {**names, **fallback}
    vocabulary = vectorizer.get_feature_names_out()
    membership = (labels[None, :] == np.array(classes)[:, None]).astype(np.float64)  # classes × texts
    counts = np.asarray((per_text.T @ membership.T).T)  # classes × terms
    texts_with = np.asarray((per_text > 0).astype(np.float64).T @ membership.T).T  # texts of a class using a term
    sizes = membership.sum(axis=1, keepdims=True)
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    idf = np.log(1 + counts.sum() / len(classes) / np.maximum(counts.sum(axis=0), 1))
    scores = tf * idf
    cluster_rows = np.array([classes.index(c) for c in clusters])
    if len(clusters) >= 2:
        # a cluster uses a term that at least USED_SHARE of its texts hold: one mention elsewhere is not sharing
        used_by = (texts_with[cluster_rows] >= np.maximum(1, USED_SHARE * sizes[cluster_rows])).sum(axis=0)
        shared = used_by > SHARED_BY * len(clusters)
        shared_words = {str(t) for t in vocabulary[shared] if " " not in t}
        with_shared_word = np.array([" " in t and bool(set(t.split()) & shared_words) for t in vocabulary], dtype=bool)
        scores[:, shared | with_shared_word] = 0.0  # "eruption number" says no more than "eruption"
    scores[(texts_with < 2) & (sizes >= 2)] = 0.0  # from one text only: says nothing about the cluster
    for row, cluster in zip(cluster_rows.tolist(), clusters, strict=True):
        order = np.lexsort((np.arange(len(vocabulary)), -scores[row]))[:PHRASE_SCAN]  # ties: alphabetical
        chosen: dict[str, float] = {}  # term -> score, in the order chosen
        for index in order:
            score = float(scores[row, index])
            if score <= 0 or score < WEAKEST * scores[row, order[0]]:
                break
            term = str(vocabulary[index])
            overlap = [c for c in chosen if set(c.split()) & set(term.split())]
            if any(term in (c + "s", c + "es") or c in (term + "s", term + "es") for c in chosen):
                continue  # "fonts" beside "font" says nothing new
            if not overlap and len(chosen) < words:
                chosen[term] = score
            elif overlap and " " in term and all(" " not in c and chosen[c] <= 2 * score for c in overlap):
                # "amateur radio" says what "amateur" and "radio" say, better: it takes the first one's place
                chosen = {(term if c == overlap[0] else c): (score if c == overlap[0] else v)
                          for c, v in chosen.items() if c not in overlap[1:]}  # fmt: skip
        names[cluster] = NAME_SEPARATOR.join(chosen) if chosen else fallback[cluster]
    return names


def central_rows(vectors: np.ndarray, labels: np.ndarray, cluster: int, count: int = CENTRAL_TEXTS) -> np.ndarray:
    """Rows of `cluster` nearest its mean direction (cosine), most central first."""
    rows = np.flatnonzero(labels == cluster)
    unit = vectors[rows] / np.maximum(np.linalg.norm(vectors[rows], axis=1, keepdims=True), 1e-12)
    centre = unit.mean(axis=0)
    order = np.argsort(-(unit @ centre), kind="stable")
    return rows[order[:count]]


def gemini_prompt(central_texts: Sequence[str], words: str, total: int) -> str:
    """What one cluster's Gemini request says: shown to the person as it is sent."""
    listing = "\n".join(f"- {' '.join(str(t).split())[:TEXT_CHARS]}" for t in central_texts)
    return (
        f"These are the most typical texts of one cluster of {total} similar texts, found by clustering their "
        f"embeddings. Its most distinctive words are: {words}.\n\n{listing}\n\n"
        "Write a name for the topic these texts share: two to five words, plain, specific, no quotes. "
        "Answer with the name only."
    )


def cluster_prompts(
    texts: Sequence[str], vectors: np.ndarray, labels: np.ndarray, word_names: dict[int, str] | None = None
) -> dict[int, str]:
    """Cluster id -> its Gemini prompt (noise has none)."""
    labels = np.asarray(labels)
    word_names = word_names or name_clusters(texts, labels)
    prompts = {}
    for cluster in sorted(set(labels.tolist()) - {NOISE}):
        rows = central_rows(np.asarray(vectors, dtype=np.float64), labels, cluster)
        prompts[cluster] = gemini_prompt([texts[r] for r in rows], word_names.get(cluster, ""),
                                         int((labels == cluster).sum()))  # fmt: skip
    return prompts


class NameCache:
    """Gemini's answers by (model, prompt), in one JSON file in the user's cache dir (written whole or not at all)."""

    def __init__(self, path: Path | None = None) -> None:
        from workbench.core.paths import cache_dir

        self.path = Path(path) if path else cache_dir() / "cluster_names.json"
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            self._names: dict[str, str] = {k: v for k, v in loaded.items() if isinstance(v, str)}
        except (OSError, ValueError, AttributeError):
            self._names = {}

    @staticmethod
    def key(model: str, prompt: str) -> str:
        return hashlib.sha256(f"{model}\n{prompt}".encode()).hexdigest()

    def get(self, model: str, prompt: str) -> str | None:
        return self._names.get(self.key(model, prompt))

    def put(self, model: str, prompt: str, name: str) -> None:
        from workbench.core.atomic import atomic_path

        self._names[self.key(model, prompt)] = name
        try:
            with atomic_path(self.path) as temporary:
                temporary.write_text(json.dumps(self._names), encoding="utf-8")
        except OSError as error:  # a cache that cannot be written costs a request next time, nothing else
            log.warning("cannot write %s: %s", self.path, error)


Generate = Callable[[str], str]  # prompt -> the model's answer


def gemini_generate(api_key: str | None, base_url: str | None = None, model: str = GEMINI_NAME_MODEL,
                    timeout_s: float = 30.0) -> Generate:  # fmt: skip
    """A prompt -> answer function over google-genai's `generate_content` (errors a person can act on)."""
    if not api_key or not api_key.strip():
        raise InputError(
            "No Gemini API key: Gemini names need one (GEMINI_API_KEY, or in the app the Model & key panel)."
        )
    from google import genai
    from google.genai import errors, types

    from workbench.core.secrets import register_secret

    register_secret(api_key)
    client = genai.Client(api_key=api_key.strip(), http_options=types.HttpOptions(
        timeout=int(timeout_s * 1000), base_url=base_url or None))  # fmt: skip
    config = types.GenerateContentConfig(temperature=0.0, max_output_tokens=64)

    def generate(prompt: str) -> str:
        try:
            response = client.models.generate_content(model=model, contents=prompt, config=config)
        except errors.APIError as error:
            if error.code in (400, 401, 403) and "key" in (error.message or "").lower():
                raise InputError(f"Gemini rejected the API key ({error.code}); check it and try again.") from None
            if error.code == 404:
                raise InputError(f"Gemini has no text model '{model}' (404).") from None
            raise ServiceError(f"Gemini could not name a cluster ({error.code} {error.status}).") from None
        except Exception as error:  # transport errors: the network, a proxy, a dead endpoint
            if isinstance(error, InputError | ServiceError):
                raise
            raise ServiceError(f"Cannot reach Gemini to name clusters ({type(error).__name__}).") from None
        return response.text or ""

    return generate


def gemini_names(
    prompts: dict[int, str],
    generate: Generate,
    model: str = GEMINI_NAME_MODEL,
    cache: NameCache | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> dict[int, str]:
    """Cluster id -> Gemini's name for it: one request per cluster not already in the cache."""
    cache = cache if cache is not None else NameCache()
    names = {}
    for done, (cluster, prompt) in enumerate(sorted(prompts.items())):
        raise_if_cancelled(cancelled)
        name = cache.get(model, prompt)
        if name is None:
            name = tidy_name(generate(prompt))
            if name:
                cache.put(model, prompt, name)
        names[cluster] = name or f"cluster {cluster}"
        progress(done + 1, len(prompts))
    return names


def tidy_name(answer: str) -> str:
    """The first line of an answer without quotes, markdown or a trailing full stop, at most NAME_CHARS long."""
    line = next((s.strip() for s in answer.splitlines() if s.strip()), "")
    line = line.strip("*#`\"'“”‘’ ").removeprefix("Name:").strip().rstrip(".").strip()
    return line if len(line) <= NAME_CHARS else line[: NAME_CHARS - 1].rstrip() + "…"
