"""Embedding providers behind one protocol (`base.Embedder`), and the one place that builds them from a spec."""

from __future__ import annotations

import hashlib
import threading

from workbench.core.embedders.base import Embedder, EmbeddingSpec, l2_normalise
from workbench.core.errors import InputError

PROVIDERS = ("local", "gemini")
DEFAULT_MODELS = {"local": "all-MiniLM-L6-v2", "gemini": "gemini-embedding-001"}
# Documents and queries are encoded differently by default (the seed pymilvus example used one task for both).
DEFAULT_TASKS = {"local": ("document", "query"), "gemini": ("RETRIEVAL_DOCUMENT", "RETRIEVAL_QUERY")}


def default_spec(provider: str, model: str | None = None, dim: int | None = None) -> EmbeddingSpec:
    """The spec for a provider with its default model and its default task per kind."""
    if provider not in PROVIDERS:
        raise InputError(f"Unknown provider '{provider}': choose one of {', '.join(PROVIDERS)}.")
    document_task, query_task = DEFAULT_TASKS[provider]
    return EmbeddingSpec(provider, model or DEFAULT_MODELS[provider], dim, document_task, query_task)


def make_embedder(
    spec: EmbeddingSpec,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout_s: float | None = None,
    device: str = "auto",
) -> Embedder:
    """The embedder for a spec. `api_key` / `base_url` / `timeout_s` (None: the default) matter to remote
    providers only; `device` (core.devices.DEVICE_CHOICES) to the local model only."""
    if spec.provider == "local":
        from workbench.core.embedders.local import LocalEmbedder

        return LocalEmbedder(model=spec.model, dim=spec.dim, device=device)
    if spec.provider == "gemini":
        from workbench.core.embedders.gemini import GeminiEmbedder

        return GeminiEmbedder.from_spec(spec, api_key=api_key, base_url=base_url, timeout_s=timeout_s)
    raise InputError(f"Unknown provider '{spec.provider}': choose one of {', '.join(PROVIDERS)}.")


class EmbedderPool:
    """One embedder per configuration, shared by every panel, so a loaded model is loaded once.

    Keyed by spec, base URL, a hash of the key (a new key gets a new client; the key itself is not kept in
    the key tuple) and the local model's device choice. Building an embedder is cheap (models load on first
    encode), so `get` may run anywhere.
    """

    def __init__(self) -> None:
        self._embedders: dict[tuple, Embedder] = {}
        self._lock = threading.Lock()

    def get(
        self, spec: EmbeddingSpec, api_key: str | None = None, base_url: str | None = None, device: str = "auto"
    ) -> Embedder:
        key_digest = hashlib.sha256(api_key.encode()).hexdigest() if api_key else ""
        device_key = device if spec.provider == "local" else ""
        pool_key = (spec, base_url, key_digest, device_key)
        with self._lock:
            registered = self._embedders.get((spec, base_url, key_digest, None))  # put() serves every device
            if registered is not None:
                return registered
            if pool_key not in self._embedders:
                self._embedders[pool_key] = make_embedder(spec, api_key=api_key, base_url=base_url, device=device)
            return self._embedders[pool_key]

    def put(self, embedder: Embedder, api_key: str | None = None, base_url: str | None = None) -> None:
        """Register an embedder for its own spec (tests put fakes here; a pymilvus.model function fits too)."""
        key_digest = hashlib.sha256(api_key.encode()).hexdigest() if api_key else ""
        with self._lock:
            self._embedders[(embedder.spec, base_url, key_digest, None)] = embedder

    def forget(self, spec: EmbeddingSpec) -> None:
        """Drop the embedders of a spec (after a failed load, so the next try starts clean)."""
        with self._lock:
            for pool_key in [k for k in self._embedders if k[0] == spec]:
                del self._embedders[pool_key]


__all__ = [
    "DEFAULT_MODELS",
    "DEFAULT_TASKS",
    "PROVIDERS",
    "Embedder",
    "EmbedderPool",
    "EmbeddingSpec",
    "default_spec",
    "l2_normalise",
    "make_embedder",
]
