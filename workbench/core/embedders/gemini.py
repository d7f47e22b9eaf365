"""Google Gemini embeddings through the google-genai SDK, fixing what pymilvus.model's GeminiEmbeddingFunction
gets wrong: one task type per kind (documents RETRIEVAL_DOCUMENT, queries RETRIEVAL_QUERY), at most 100 texts per
request, retries, L2-normalised float32 output, and errors a person can act on.

Retries are our own loop rather than the SDK's HttpRetryOptions: we need to honour Retry-After exactly, retry
dropped connections (httpx transport errors, which HttpRetryOptions does not cover), count attempts for the
message, and keep the delays tiny in tests. Backoff is exponential with full jitter, capped, and a Retry-After
header wins over the computed delay. The key goes to the SDK only; it is never formatted into a message or log.

Time: one request may wait `timeout_s` (default 10 s, WORKBENCH_GEMINI_TIMEOUT_S, the CLI's --timeout) for the
connection and for the answer; a server that keeps failing that way is given up after three times that in all,
retries included, so a dead server fails within ~30 s by default. Each request runs in a daemon thread while the
caller polls `cancelled()`, so a cancel ends the wait within ~0.1 s even when the server never answers (the
abandoned request ends at its own timeout and its answer is dropped).
"""

from __future__ import annotations

import importlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import numpy as np

from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.env import env_number, positive_env_number
from workbench.core.errors import Cancelled, InputError, ServiceError
from workbench.core.progress import CancelledFn, never_cancelled
from workbench.core.secrets import register_secret, register_url_secrets, shown_url

log = logging.getLogger("workbench.core.embedders.gemini")

DEFAULT_MODEL = "gemini-embedding-001"
MODELS = ("gemini-embedding-001", "gemini-embedding-2")
RETIRED_MODELS = ("gemini-embedding-exp-03-07", "models/text-embedding-004", "models/embedding-001")
NATIVE_DIMS = {
    "gemini-embedding-001": 3072,
    "gemini-embedding-2": 3072,
    "gemini-embedding-exp-03-07": 3072,
    "text-embedding-004": 768,
    "embedding-001": 768,
}
TASK_TYPES = (
    "RETRIEVAL_DOCUMENT",
    "RETRIEVAL_QUERY",
    "SEMANTIC_SIMILARITY",
    "CLASSIFICATION",
    "CLUSTERING",
    "QUESTION_ANSWERING",
    "FACT_VERIFICATION",
    "CODE_RETRIEVAL_QUERY",
)
MAX_BATCH = 100  # the API rejects more items per batchEmbedContents call
RETRY_STATUSES = {408, 429, 500, 502, 503, 504}
DEFAULT_TIMEOUT_S = 10.0
MAX_TIMEOUT_S = 3600.0  # an hour: longer than any one embedding request should wait
BUDGET_TIMEOUTS = 3  # a request that keeps timing out or failing to connect is given up after 3 × timeout_s
_POLL_S = 0.05  # how often a wait checks cancelled()


def bare_model_name(model: str) -> str:
    return model.removeprefix("models/")


def prefixed_text(model: str, task: str, text: str) -> str:
    """gemini-embedding-2 ignores task_type; Google documents putting the task into the text instead."""
    if bare_model_name(model) != "gemini-embedding-2":
        return text
    if task == "RETRIEVAL_QUERY":
        return f"task: search result | query: {text}"
    if task == "RETRIEVAL_DOCUMENT":
        return f"title: none | text: {text}"
    return f"task: {task.lower().replace('_', ' ')} | query: {text}"


def checked_timeout_s(timeout_s: float | None, what: str = "The Gemini timeout") -> float | None:
    """`timeout_s` when it is a usable request timeout (None: the default); the one rule, also for the CLI's
    --timeout, which names itself as `what` and is checked before any work."""
    if timeout_s is not None and not 0 < timeout_s <= MAX_TIMEOUT_S:
        raise InputError(f"{what} must be a number of seconds between 0 and {MAX_TIMEOUT_S:g}, not {timeout_s:g}.")
    return timeout_s


def default_timeout_s() -> float:
    """WORKBENCH_GEMINI_TIMEOUT_S when it is a positive number, else DEFAULT_TIMEOUT_S."""
    return positive_env_number("WORKBENCH_GEMINI_TIMEOUT_S", DEFAULT_TIMEOUT_S)


@dataclass
class RetryPolicy:
    """Attempts and backoff; WORKBENCH_GEMINI_ATTEMPTS / WORKBENCH_GEMINI_BACKOFF_S override the defaults."""

    attempts: int = field(default_factory=lambda: max(1, int(env_number("WORKBENCH_GEMINI_ATTEMPTS", 5.0))))
    base_delay: float = field(default_factory=lambda: env_number("WORKBENCH_GEMINI_BACKOFF_S", 1.0))
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


class GeminiEmbedder:
    """Gemini embeddings with the Embedder protocol (and pymilvus.model's encode_documents/encode_queries/dim)."""

    batch_size = MAX_BATCH

    def __init__(
        self,
        model_name: str = DEFAULT_MODEL,
        api_key: str | None = None,
        dim: int | None = None,
        document_task: str = "RETRIEVAL_DOCUMENT",
        query_task: str = "RETRIEVAL_QUERY",
        base_url: str | None = None,
        max_concurrency: int = 4,
        retry: RetryPolicy | None = None,
        timeout_s: float | None = None,
    ) -> None:
        if not api_key or not api_key.strip():
            raise InputError(
                "No Gemini API key: paste one in the Model & key panel (app) or set GEMINI_API_KEY (app and CLI)."
            )
        api_key = api_key.strip()
        if not api_key.isascii() or not all(c.isprintable() and not c.isspace() for c in api_key):
            raise InputError(
                "The Gemini API key holds characters no API key has (accented letters, spaces or control "
                "characters); copy it again from Google AI Studio."
            )
        for task in (document_task, query_task):
            if task not in TASK_TYPES:
                raise InputError(f"Unknown Gemini task type '{task}': use one of {', '.join(TASK_TYPES)}.")
        if dim is not None and not 1 <= dim <= 3072:
            raise InputError(f"Gemini output dimensionality must be between 1 and 3072 (128–3072 advised), not {dim}.")
        checked_timeout_s(timeout_s)
        self.spec = EmbeddingSpec("gemini", model_name, dim, document_task, query_task)
        self.max_concurrency = max(1, max_concurrency)
        self.retry = retry or RetryPolicy()
        self._base_url = base_url
        self.timeout_s = float(timeout_s) if timeout_s is not None else default_timeout_s()
        self._api_key = api_key
        register_secret(api_key)  # a server may echo it in an error message; scrubbed wherever that is shown
        register_url_secrets(base_url)  # a proxy's user:password (the SDK also reads GOOGLE_GEMINI_BASE_URL)
        register_url_secrets(os.environ.get("GOOGLE_GEMINI_BASE_URL"))
        self._client = None
        self._client_lock = threading.Lock()

    @classmethod
    def from_spec(
        cls,
        spec: EmbeddingSpec,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout_s: float | None = None,
    ) -> GeminiEmbedder:
        return cls(spec.model, api_key, spec.dim, spec.document_task, spec.query_task, base_url, timeout_s=timeout_s)

    @property
    def dim(self) -> int:
        return int(self.spec.dim or NATIVE_DIMS.get(bare_model_name(self.spec.model), 3072))

    def _sdk(self):
        # One client for every thread: a second one, dropped, would close the connection pool under the first.
        with self._client_lock:
            if self._client is None:
                from google import genai
                from google.genai import types

                timeout_ms = max(1, int(self.timeout_s * 1000))  # connect, read, write: each at most this
                options = types.HttpOptions(timeout=timeout_ms, base_url=self._base_url or None)
                self._client = genai.Client(api_key=self._api_key, http_options=options)
            return self._client

    def client(self):
        """The SDK client this embedder uses, for calls beyond embed_content (Batch mode: core/gemini_batch.py)."""
        return self._sdk()

    def explain(self, error, texts: list[str], offset: int = 0) -> Exception:
        """The sentence a person can act on for an SDK APIError (a rejected key, an unknown model, …)."""
        return self._explain(error, texts, offset)

    def endpoint_host(self) -> str:
        """host[:port] of the endpoint, for messages: never the `user:password@` a proxy URL may carry."""
        url = self._base_url or os.environ.get("GOOGLE_GEMINI_BASE_URL") or "https://generativelanguage.googleapis.com"
        return urlsplit(url).netloc.rpartition("@")[2] or shown_url(url)

    # -- the protocol ------------------------------------------------------------------------------------------
    # `cancelled` is ours beyond pymilvus.model's shape: embed_items passes it so a cancel ends a hung request.
    def encode_documents(self, documents: list[str], cancelled: CancelledFn = never_cancelled) -> list[np.ndarray]:
        return self._encode(list(documents), self.spec.document_task, cancelled)

    def encode_queries(self, queries: list[str], cancelled: CancelledFn = never_cancelled) -> list[np.ndarray]:
        return self._encode(list(queries), self.spec.query_task, cancelled)

    def _encode(self, texts: list[str], task: str, cancelled: CancelledFn) -> list[np.ndarray]:
        vectors: list[np.ndarray] = []
        for start in range(0, len(texts), MAX_BATCH):
            vectors += self._request(texts[start : start + MAX_BATCH], task, start, cancelled)
        return vectors

    def _waited(self, call: Callable[[], object], limit_s: float, cancelled: CancelledFn) -> object:
        """`call()` run in a daemon thread, its result or its exception; Cancelled as soon as `cancelled()` says
        so, TimeoutError once `limit_s` has passed (the SDK's own timeout should have fired first)."""
        outcome: dict[str, object] = {}
        finished = threading.Event()

        def run() -> None:
            try:
                outcome["value"] = call()
            except BaseException as error:  # noqa: BLE001 - handed to the waiting thread
                outcome["error"] = error
            finished.set()

        threading.Thread(target=run, name="gemini-request", daemon=True).start()
        deadline = time.monotonic() + limit_s + 0.5
        while not finished.wait(_POLL_S):
            if cancelled():
                raise Cancelled()
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer within {limit_s:g} s")
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        return outcome["value"]

    def _pause(self, seconds: float, cancelled: CancelledFn) -> None:
        """The backoff between attempts, cut short by a cancel."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if cancelled():
                raise Cancelled()
            time.sleep(min(left, _POLL_S))

    def _request(
        self, texts: list[str], task: str, offset: int, cancelled: CancelledFn = never_cancelled
    ) -> list[np.ndarray]:
        from google.genai import errors, types

        model = self.spec.model
        is_v2 = bare_model_name(model) == "gemini-embedding-2"
        config = types.EmbedContentConfig(task_type=None if is_v2 else task, output_dimensionality=self.spec.dim)
        # One Content per text: the SDK merges a list of plain strings into ONE content for gemini-embedding-2 (its
        # multimodal path), which gives one vector for the whole batch.
        contents = [types.Content(role="user", parts=[types.Part(text=prefixed_text(model, task, t))]) for t in texts]
        sdk = self._sdk()
        started, budget = time.monotonic(), self.timeout_s * BUDGET_TIMEOUTS
        attempts = 0
        for attempt in range(self.retry.attempts):
            retry_after = None
            if cancelled():
                raise Cancelled()
            attempts += 1
            limit = min(self.timeout_s, max(budget - (time.monotonic() - started), _POLL_S))
            try:
                response = self._waited(
                    lambda: sdk.models.embed_content(model=model, contents=contents, config=config), limit, cancelled
                )
                if response.embeddings is None:
                    raise ServiceError(self._not_the_api("no embeddings in the answer"))
                values = [e.values or [] for e in response.embeddings]
                if len(values) != len(texts):
                    raise ServiceError(f"Gemini returned {len(values)} embeddings for {len(texts)} texts.")
                lengths = {len(v) for v in values}
                if lengths != {self.dim}:
                    found = ", ".join(str(n) for n in sorted(lengths))
                    raise ServiceError(f"Gemini returned {found}-d vectors where {self.dim}-d were expected.")
                return list(l2_normalise(np.asarray(values, dtype=np.float32)))
            except errors.APIError as error:
                if error.code not in RETRY_STATUSES:
                    raise self._explain(error, texts, offset) from None
                retry_after = retry_after_seconds(error)
                last: Exception = error
            except Exception as error:  # noqa: BLE001 - _worth_retrying re-raises all it does not retry
                last = self._worth_retrying(error)
            if attempt + 1 < self.retry.attempts:
                wait = self.retry.delay(attempt, retry_after)
                if not isinstance(last, errors.APIError) and time.monotonic() - started + wait >= budget:
                    break  # a dead or unreachable server: the time budget is spent
                log.info("Gemini request failed (%s); retry %d in %.2f s", _short(last), attempt + 1, wait)
                self._pause(wait, cancelled)
        if isinstance(last, errors.APIError) and last.code == 429:
            raise ServiceError(
                f"Gemini quota exhausted (429) after {self.retry.attempts} attempts; the texts embedded before "
                f"this batch are cached, so a later run pays only for the rest."
            )
        if isinstance(last, errors.APIError):
            raise ServiceError(f"Gemini kept failing ({last.code} {last.status}) after {self.retry.attempts} attempts.")
        if _is_timeout(last):
            raise ServiceError(
                f"Gemini at {self.endpoint_host()} did not answer within {self.timeout_s:g} s ({attempts} "
                f"attempt{'s' if attempts != 1 else ''} in {time.monotonic() - started:.0f} s); check the network, or "
                f"allow more time with --timeout (WORKBENCH_GEMINI_TIMEOUT_S in the app)."
            )
        raise ServiceError(f"Cannot reach Gemini at {self.endpoint_host()} ({type(last).__name__}); check the network.")

    def _worth_retrying(self, error: Exception) -> Exception:
        """`error` (not an API error) when another attempt may help: a dropped or refused connection, a timeout.
        Raises what asking again cannot fix: our own errors as they are, an answer the SDK cannot read (HTML from a
        captive proxy, broken JSON, a shape it does not know) as a ServiceError, anything else unchanged."""
        if isinstance(error, ServiceError | InputError | Cancelled):
            raise error
        if isinstance(error, ValueError | TypeError | AttributeError | KeyError):
            raise ServiceError(self._not_the_api(type(error).__name__)) from None
        if not is_transport_error(error):
            raise error
        return error

    def _not_the_api(self, detail: str) -> str:
        return (
            f"Gemini at {self.endpoint_host()} sent something that is not an answer from the Gemini API ({detail}); "
            f"check the endpoint (--base-url, GOOGLE_GEMINI_BASE_URL) and any proxy in between."
        )

    def _explain(self, error, texts: list[str], offset: int) -> Exception:
        """One sentence per API error a person can act on (never the key)."""
        message = (error.message or "").lower()
        details = str(getattr(error, "details", "")).lower()
        if "api_key_invalid" in details or "api key not valid" in message or error.code in (401, 403):
            return InputError(f"Gemini rejected the API key ({error.code} {error.status}); check it and try again.")
        if error.code == 404:
            name = bare_model_name(self.spec.model)
            if self.spec.model in RETIRED_MODELS or name in {bare_model_name(m) for m in RETIRED_MODELS}:
                return InputError(f"{self.spec.model} was retired by Google; use {DEFAULT_MODEL}.")
            return InputError(f"Gemini has no model '{self.spec.model}' (404); pick one from the model list.")
        if error.code == 400 and ("token" in message or "too long" in message or "exceeds" in message):
            longest = max(range(len(texts)), key=lambda i: len(texts[i]))
            return InputError(
                f"Text {offset + longest + 1} of this run is too long for {self.spec.model} "
                f"(“{texts[longest][:40]}…”); shorten or split it."
            )
        return ServiceError(f"Gemini refused the request ({error.code} {error.status}): {error.message}")

    def count_tokens(self, contents: list[str], cancelled: CancelledFn = never_cancelled) -> int:
        """Tokens in `contents` together, as Gemini's countTokens counts them (free of charge; no embedding).

        The texts are counted as they are sent (`prefixed_text` for gemini-embedding-2 is the caller's to apply).
        Retries like an embedding request: 408/429/5xx and dropped connections, with the same backoff.
        """
        from google.genai import errors

        sdk, model = self._sdk(), self.spec.model
        last: Exception | None = None
        for attempt in range(self.retry.attempts):
            retry_after = None
            try:
                response = self._waited(
                    lambda: sdk.models.count_tokens(model=model, contents=contents), self.timeout_s, cancelled
                )
                if response.total_tokens is None:
                    raise ServiceError(self._not_the_api("no totalTokens in the answer"))
                return int(response.total_tokens)
            except errors.APIError as error:
                if error.code not in RETRY_STATUSES:
                    raise self._explain(error, contents, 0) from None
                retry_after, last = retry_after_seconds(error), error
            except Exception as error:  # noqa: BLE001 - _worth_retrying re-raises all it does not retry
                last = self._worth_retrying(error)
            if attempt + 1 < self.retry.attempts:
                self._pause(self.retry.delay(attempt, retry_after), cancelled)
        raise ServiceError(f"Gemini could not count tokens ({_short(last)}) after {self.retry.attempts} attempts.")

    def list_embedding_models(self) -> list[str]:
        """Model names (without 'models/') that support embedContent, from the API's model list."""
        from google.genai import errors

        sdk = self._sdk()
        try:
            models = self._waited(lambda: list(sdk.models.list()), self.timeout_s, never_cancelled)
        except errors.APIError as error:
            raise self._explain(error, [""], 0) from None
        except Exception as error:
            if is_transport_error(error):
                raise ServiceError(f"Cannot reach Gemini at {self.endpoint_host()}; check the network.") from None
            raise
        return [
            bare_model_name(m.name or "")
            for m in models
            if "embedContent" in (m.supported_actions or []) or "batchEmbedContents" in (m.supported_actions or [])
        ]


def retry_after_seconds(error) -> float | None:
    """The seconds an error answer's Retry-After header asks us to wait, or None."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def http_errors(*names: str) -> tuple[type[BaseException], ...]:
    """The exception classes `names` (TransportError, ConnectTimeout, …) of each httpx flavour installed: the SDK
    uses httpx or httpx2, whichever it finds, so an error may come from either."""
    kinds: list[type[BaseException]] = []
    for module_name in ("httpx", "httpx2"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        kinds.extend(getattr(module, name) for name in names)
    return tuple(kinds)


def is_transport_error(error: Exception) -> bool:
    """A dropped or refused connection or a timeout, ours or the HTTP library's."""
    return isinstance(error, (ConnectionError, TimeoutError, *http_errors("TransportError")))


def _is_timeout(error: Exception) -> bool:
    """A connect or read timeout, ours or the HTTP library's."""
    return isinstance(error, (TimeoutError, *http_errors("TimeoutException")))


def _short(error: Exception) -> str:
    code = getattr(error, "code", None)
    return f"{code} {getattr(error, 'status', '')}".strip() if code else type(error).__name__
