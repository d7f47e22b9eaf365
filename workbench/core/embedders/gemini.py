"""Google Gemini embeddings through the google-genai SDK, fixing what pymilvus.model's GeminiEmbeddingFunction
gets wrong: one task type per kind (documents RETRIEVAL_DOCUMENT, queries RETRIEVAL_QUERY), at most 100 texts per
request, retries, L2-normalised float32 output, and errors a person can act on.

Retries are our own loop rather than the SDK's HttpRetryOptions: we need to honour Retry-After exactly, retry
dropped connections (httpx transport errors, which HttpRetryOptions does not cover), count attempts for the
message, and keep the delays tiny in tests. Backoff is exponential with full jitter, capped, and a Retry-After
header wins over the computed delay. The key goes to the SDK only; it is never formatted into a message or log.
"""

from __future__ import annotations

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
from workbench.core.errors import InputError, ServiceError
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


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass
class RetryPolicy:
    """Attempts and backoff; WORKBENCH_GEMINI_ATTEMPTS / WORKBENCH_GEMINI_BACKOFF_S override the defaults."""

    attempts: int = field(default_factory=lambda: max(1, int(_env_number("WORKBENCH_GEMINI_ATTEMPTS", 5))))
    base_delay: float = field(default_factory=lambda: _env_number("WORKBENCH_GEMINI_BACKOFF_S", 1.0))
    max_delay: float = 30.0
    sleep: Callable[[float], None] = time.sleep

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
        timeout_s: float = 60.0,
    ) -> None:
        if not api_key:
            raise InputError("No Gemini API key: paste one in the Model & key panel or set GEMINI_API_KEY.")
        for task in (document_task, query_task):
            if task not in TASK_TYPES:
                raise InputError(f"Unknown Gemini task type '{task}': use one of {', '.join(TASK_TYPES)}.")
        if dim is not None and not 1 <= dim <= 3072:
            raise InputError(f"Gemini output dimensionality must be between 1 and 3072 (128–3072 advised), not {dim}.")
        self.spec = EmbeddingSpec("gemini", model_name, dim, document_task, query_task)
        self.max_concurrency = max(1, max_concurrency)
        self.retry = retry or RetryPolicy()
        self._base_url = base_url
        self._timeout_ms = int(timeout_s * 1000)
        self._api_key = api_key
        register_secret(api_key)  # a server may echo it in an error message; scrubbed wherever that is shown
        register_url_secrets(base_url)  # a proxy's user:password (the SDK also reads GOOGLE_GEMINI_BASE_URL)
        register_url_secrets(os.environ.get("GOOGLE_GEMINI_BASE_URL"))
        self._client = None
        self._client_lock = threading.Lock()

    @classmethod
    def from_spec(cls, spec: EmbeddingSpec, api_key: str | None = None, base_url: str | None = None) -> GeminiEmbedder:
        return cls(spec.model, api_key, spec.dim, spec.document_task, spec.query_task, base_url)

    @property
    def dim(self) -> int:
        return int(self.spec.dim or NATIVE_DIMS.get(bare_model_name(self.spec.model), 3072))

    def _sdk(self):
        # One client for every thread: a second one, dropped, would close the connection pool under the first.
        with self._client_lock:
            if self._client is None:
                from google import genai
                from google.genai import types

                options = types.HttpOptions(timeout=self._timeout_ms, base_url=self._base_url or None)
                self._client = genai.Client(api_key=self._api_key, http_options=options)
            return self._client

    def endpoint_host(self) -> str:
        """host[:port] of the endpoint, for messages: never the `user:password@` a proxy URL may carry."""
        url = self._base_url or os.environ.get("GOOGLE_GEMINI_BASE_URL") or "https://generativelanguage.googleapis.com"
        return urlsplit(url).netloc.rpartition("@")[2] or shown_url(url)

    # -- the protocol ------------------------------------------------------------------------------------------
    def encode_documents(self, documents: list[str]) -> list[np.ndarray]:
        return self._encode(list(documents), self.spec.document_task)

    def encode_queries(self, queries: list[str]) -> list[np.ndarray]:
        return self._encode(list(queries), self.spec.query_task)

    def _encode(self, texts: list[str], task: str) -> list[np.ndarray]:
        vectors: list[np.ndarray] = []
        for start in range(0, len(texts), MAX_BATCH):
            vectors += self._request(texts[start : start + MAX_BATCH], task, start)
        return vectors

    def _request(self, texts: list[str], task: str, offset: int) -> list[np.ndarray]:
        from google.genai import errors, types

        model = self.spec.model
        is_v2 = bare_model_name(model) == "gemini-embedding-2"
        config = types.EmbedContentConfig(task_type=None if is_v2 else task, output_dimensionality=self.spec.dim)
        contents = [prefixed_text(model, task, t) for t in texts]
        for attempt in range(self.retry.attempts):
            retry_after = None
            try:
                response = self._sdk().models.embed_content(model=model, contents=contents, config=config)
                values = [e.values or [] for e in (response.embeddings or [])]
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
                retry_after = _retry_after(error)
                last: Exception = error
            except Exception as error:
                if isinstance(error, ServiceError | InputError) or not _is_transport_error(error):
                    raise
                last = error
            if attempt + 1 < self.retry.attempts:
                wait = self.retry.delay(attempt, retry_after)
                log.info("Gemini request failed (%s); retry %d in %.2f s", _short(last), attempt + 1, wait)
                self.retry.sleep(wait)
        if isinstance(last, errors.APIError) and last.code == 429:
            raise ServiceError(
                f"Gemini quota exhausted (429) after {self.retry.attempts} attempts; the texts embedded before "
                f"this batch are cached, so a later run pays only for the rest."
            )
        if isinstance(last, errors.APIError):
            raise ServiceError(f"Gemini kept failing ({last.code} {last.status}) after {self.retry.attempts} attempts.")
        raise ServiceError(f"Cannot reach Gemini at {self.endpoint_host()} ({type(last).__name__}); check the network.")

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

    def list_embedding_models(self) -> list[str]:
        """Model names (without 'models/') that support embedContent, from the API's model list."""
        from google.genai import errors

        try:
            models = list(self._sdk().models.list())
        except errors.APIError as error:
            raise self._explain(error, [""], 0) from None
        except Exception as error:
            if _is_transport_error(error):
                raise ServiceError(f"Cannot reach Gemini at {self.endpoint_host()}; check the network.") from None
            raise
        return [
            bare_model_name(m.name or "")
            for m in models
            if "embedContent" in (m.supported_actions or []) or "batchEmbedContents" in (m.supported_actions or [])
        ]


def _retry_after(error) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _is_transport_error(error: Exception) -> bool:
    """A dropped or refused connection or a timeout, from whichever httpx flavour the SDK uses."""
    kinds: list[type] = [ConnectionError, TimeoutError]
    for module_name in ("httpx", "httpx2"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        kinds.append(module.TransportError)
    return isinstance(error, tuple(kinds))


def _short(error: Exception) -> str:
    code = getattr(error, "code", None)
    return f"{code} {getattr(error, 'status', '')}".strip() if code else type(error).__name__
