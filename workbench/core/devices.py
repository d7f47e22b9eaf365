"""Which torch device the local model runs on, and how: `auto` (CUDA, then Apple's MPS, then the CPU) or a choice.

Why a module of its own: the choice is made in three places (the Model panel, `--device` of every CLI command that
embeds, the bench scripts) and must mean the same everywhere. torch is imported only inside `plan_device`, which
runs where the model loads (a worker thread or the CLI), never on the GUI thread.

What each device gets, and why:
- CUDA: fp32 and batches of 512. A batch of 512 short texts keeps the GPU busy; on an out-of-memory error the
  local embedder halves the batch before it gives the GPU up. (sentence-transformers' own default is batch 32.)
  Not fp16, though a GPU runs it faster: the cache is shared by every device, so vectors must agree with the
  CPU's to float tolerance (fp32 on CUDA: 3e-7), and the same model in fp16 differs from fp32 by up to 4.5e-4 per
  component (cosine down to 0.99976; measured on this model's CPU fp16 kernels, 240 texts) - enough to reorder
  near-ties in a ranked list depending on which machine filled the cache. `DevicePlan.half` stays, for a device
  where that trade is worth making.
- MPS: fp32 and batches of 128. Apple's GPU gains from bigger batches, but fp16 on MPS differs from the CPU by
  more than its small speed gain is worth.
- CPU: fp32 and batches of 64, as before (measured: 0.96-1.0x plain sentence-transformers, `bench/encode.py`).
Vectors from every device are cast to float32 and L2-normalised, and agree with the CPU's closely enough that the
cache key does not name the device (`bench/gpu_check.sh` prints the CUDA-vs-CPU difference where a GPU exists).

A device that is asked for but absent (`--device cuda` on a laptop without one) is not an error: the CPU runs
and `DevicePlan.note` says why, like a device that fails while loading or encoding (see `embedders.local`).
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.core.errors import InputError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
DEVICE_LABELS = {"auto": "Auto (GPU if any)", "cpu": "CPU", "cuda": "CUDA (NVIDIA GPU)", "mps": "MPS (Apple GPU)"}
BATCH_SIZES = {"cuda": 512, "mps": 128, "cpu": 64}


@dataclass(frozen=True)
class DevicePlan:
    """How the local model will run: torch device name, half precision or not, texts per batch, and a note.

    `instead_of` and `note` are "" when the device is what was asked for, else the device that was asked for (or
    failed) and a sentence saying why the CPU runs instead.
    """

    device: str
    half: bool
    batch_size: int
    note: str = ""
    instead_of: str = ""

    def describe(self) -> str:
        """For the status line: 'cuda, fp16' / 'cpu' / 'cpu instead of cuda'."""
        shown = f"{self.device}, fp16" if self.half else self.device
        return f"{shown} instead of {self.instead_of}" if self.instead_of else shown


def cpu_plan(note: str = "", instead_of: str = "") -> DevicePlan:
    return DevicePlan("cpu", half=False, batch_size=BATCH_SIZES["cpu"], note=note, instead_of=instead_of)


def _cuda_available(torch) -> bool:
    try:
        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001 - a broken driver answers with an exception; then there is no CUDA here
        return False


def _mps_available(torch) -> bool:
    backend = getattr(torch.backends, "mps", None)
    try:
        return bool(backend is not None and backend.is_available())
    except Exception:  # noqa: BLE001 - as above
        return False


def check_device_choice(choice: str) -> str:
    """`choice` when it is one of DEVICE_CHOICES, else an InputError naming them."""
    if choice not in DEVICE_CHOICES:
        raise InputError(f"Unknown device '{choice}': choose one of {', '.join(DEVICE_CHOICES)}.")
    return choice


def plan_device(choice: str = "auto") -> DevicePlan:
    """The plan for `choice` on this machine. `auto`: CUDA when torch sees a GPU, else MPS, else the CPU.

    Imports torch (seconds the first time): call it where the model loads, not on a GUI thread.
    """
    check_device_choice(choice)
    if choice == "cpu":
        return cpu_plan()
    import torch

    cuda, mps = _cuda_available(torch), _mps_available(torch)
    if choice in ("auto", "cuda") and cuda:
        return DevicePlan("cuda", half=False, batch_size=BATCH_SIZES["cuda"])
    if choice in ("auto", "mps") and mps:
        return DevicePlan("mps", half=False, batch_size=BATCH_SIZES["mps"])
    if choice == "auto":
        return cpu_plan()
    return cpu_plan(
        f"{choice.upper()} was asked for but torch finds no {choice.upper()} device here; the CPU runs.", choice
    )
