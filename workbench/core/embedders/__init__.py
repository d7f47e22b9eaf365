"""Embedding providers behind one protocol (`base.Embedder`), and the one place that builds them from a spec."""

from __future__ import annotations

from workbench.core.embedders.base import Embedder, EmbeddingSpec, l2_normalise
from workbench.core.errors import InputError

PROVIDERS = ("local", "gemini")


def make_embedder(spec: EmbeddingSpec, api_key: str | None = None, base_url: str | None = None) -> Embedder:
    """The embedder for a spec. `api_key` / `base_url` matter to remote providers only."""
    if spec.provider == "local":
        from workbench.core.embedders.local import LocalEmbedder

        return LocalEmbedder(model=spec.model, dim=spec.dim)
    if spec.provider == "gemini":
        try:
            from workbench.core.embedders.gemini import GeminiEmbedder
        except ImportError as error:  # the Gemini provider lands with its own issue
            raise InputError("The Gemini provider is not available in this build.") from error
        return GeminiEmbedder.from_spec(spec, api_key=api_key, base_url=base_url)
    raise InputError(f"Unknown provider '{spec.provider}': choose one of {', '.join(PROVIDERS)}.")


__all__ = ["PROVIDERS", "Embedder", "EmbeddingSpec", "l2_normalise", "make_embedder"]
