"""The local model's device: `auto` picks CUDA, then MPS, then the CPU; a device that is missing or fails gives the
CPU with a message; vectors from `auto` equal the CPU's (the cache key does not name the device).

No GPU here: the choice is faked at the torch boundary (`torch.cuda.is_available`, `torch.backends.mps.is_available`).
A CPU-only torch then really fails to put the model on "cuda" / "mps", which is the failure a broken driver gives.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.core.devices import BATCH_SIZES, DevicePlan, plan_device
from workbench.core.embedders.local import LocalEmbedder
from workbench.core.embedding import embed_items
from workbench.core.errors import InputError
from workbench.core.items import Item

TEXTS = ["The cat sleeps on the sofa.", "Stock markets fell sharply.", "Heavy rain over the weekend.", "A cat naps."]


def _fake_devices(monkeypatch: pytest.MonkeyPatch, cuda: bool, mps: bool) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


@pytest.mark.parametrize(
    ("cuda", "mps", "device"),
    [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")],
)
def test_auto_prefers_cuda_then_mps_then_the_cpu(monkeypatch: pytest.MonkeyPatch, cuda, mps, device) -> None:
    _fake_devices(monkeypatch, cuda, mps)
    plan = plan_device("auto")
    assert (plan.device, plan.note) == (device, "")
    assert not plan.half  # fp16 would break the device-free cache: vectors must agree with the CPU's
    assert plan.batch_size == BATCH_SIZES[device]
    assert BATCH_SIZES["cuda"] > BATCH_SIZES["cpu"]


def test_a_device_asked_for_but_absent_gives_the_cpu_with_a_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_devices(monkeypatch, cuda=False, mps=False)
    for choice in ("cuda", "mps"):
        plan = plan_device(choice)
        assert plan.device == "cpu" and choice.upper() in plan.note and "CPU" in plan.note
        assert plan.describe() == f"cpu instead of {choice}"
    assert plan_device("cpu") == DevicePlan("cpu", False, BATCH_SIZES["cpu"])
    with pytest.raises(InputError, match="auto, cpu, cuda, mps"):
        plan_device("tpu")


def test_a_broken_driver_falls_back_to_the_cpu_and_the_vectors_are_the_cpus(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, local_embedder
) -> None:
    _fake_devices(monkeypatch, cuda=True, mps=False)  # torch says CUDA is there; moving the model there fails
    embedder = LocalEmbedder(device="auto")
    vectors = np.stack(embedder.encode_documents(TEXTS))
    assert embedder.plan is not None and embedder.plan.device == "cpu"
    assert "CUDA failed while loading the model" in embedder.plan.note
    assert embedder.device_note == "cpu instead of cuda"
    assert any("CUDA failed" in record.getMessage() for record in caplog.records)  # the CLI prints this warning
    expected = np.stack(local_embedder.encode_documents(TEXTS))
    np.testing.assert_allclose(vectors, expected, atol=1e-6)


def test_an_unknown_model_is_still_an_input_error_when_the_gpu_fails_too(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_devices(monkeypatch, cuda=True, mps=False)
    with pytest.raises(InputError, match="could not be loaded"):
        _ = LocalEmbedder("no-such-model-xyz", device="cuda").dim


class _FailingEncoder:
    """Wraps the loaded model's encode so the first calls fail as a GPU would (out of memory, then a driver
    error) before the real encoder runs; records the batch sizes it was asked for."""

    def __init__(self, real, errors: list[Exception]) -> None:
        self.real, self.errors, self.batch_sizes = real, errors, []

    def __call__(self, texts, batch_size, **options):
        self.batch_sizes.append(batch_size)
        if self.errors:
            raise self.errors.pop(0)
        return self.real(texts, batch_size=batch_size, **options)


def _pretend_on_gpu(embedder: LocalEmbedder, monkeypatch: pytest.MonkeyPatch, errors: list[Exception]):
    """A loaded CPU model that believes it runs on CUDA, with its encode failing as given."""
    _ = embedder.dim
    embedder._use(DevicePlan("cuda", half=False, batch_size=BATCH_SIZES["cuda"]))
    failing = _FailingEncoder(embedder._model.encode_document, errors)
    monkeypatch.setattr(embedder._model, "encode_document", failing)
    return failing


def test_out_of_memory_halves_the_batch_on_the_gpu_before_giving_it_up(
    monkeypatch: pytest.MonkeyPatch, local_embedder
) -> None:
    embedder = LocalEmbedder(device="cpu")
    failing = _pretend_on_gpu(embedder, monkeypatch, [torch.OutOfMemoryError("CUDA out of memory")] * 2)
    vectors = np.stack(embedder.encode_documents(TEXTS))
    assert failing.batch_sizes == [512, 256, 128]
    assert embedder.plan.device == "cuda" and embedder.plan.note == ""  # still the GPU, smaller batches
    np.testing.assert_allclose(vectors, np.stack(local_embedder.encode_documents(TEXTS)), atol=1e-6)


def test_a_driver_error_while_encoding_moves_to_the_cpu_and_the_run_goes_on(
    monkeypatch: pytest.MonkeyPatch, local_embedder
) -> None:
    embedder = LocalEmbedder(device="cpu")
    _pretend_on_gpu(embedder, monkeypatch, [RuntimeError("CUDA error: an illegal memory access was encountered")])
    items = [Item(id=f"d{i}", text=text, kind="document") for i, text in enumerate(TEXTS)]
    result = embed_items(items, embedder)
    assert embedder.plan.device == "cpu" and "CUDA failed while encoding" in embedder.plan.note
    assert embedder.batch_size == BATCH_SIZES["cpu"]
    assert "on cpu instead of cuda" in result.summary()  # what the status line says
    np.testing.assert_allclose(result.vectors, np.stack(local_embedder.encode_documents(TEXTS)), atol=1e-6)


def test_a_failure_on_the_cpu_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = LocalEmbedder(device="cpu")
    _ = embedder.dim
    monkeypatch.setattr(embedder._model, "encode_document", _FailingEncoder(None, [RuntimeError("broken")]))
    with pytest.raises(RuntimeError, match="broken"):
        embedder.encode_documents(TEXTS)


def test_the_status_line_names_the_device_that_ran(local_embedder) -> None:
    embedder = LocalEmbedder(device="cpu")
    result = embed_items([Item(id="a", text="one text", kind="document")], embedder)
    assert "at 384 dims on cpu (1 encoded" in result.summary()
