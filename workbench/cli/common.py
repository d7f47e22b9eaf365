"""What every sub-command shares: model options, -v logging, the terminal progress bar, error -> exit code.

Exit codes (the CLI contract): 0 ok, 2 bad usage or bad input, 1 a service failed, 130 cancelled (Ctrl-C).
Secrets never reach stdout/stderr: keys come from the environment and are never formatted into messages.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TextIO

from workbench.core.devices import DEVICE_CHOICES
from workbench.core.embedders import DEFAULT_MODELS, default_spec, make_embedder
from workbench.core.embedders.base import Embedder, EmbeddingSpec
from workbench.core.embedders.gemini import checked_timeout_s
from workbench.core.errors import Cancelled, InputError, ServiceError, WorkbenchError
from workbench.core.secrets import HTTP_LOGGERS, ScrubSecrets, gemini_key_from_env, scrub

EXIT_OK, EXIT_SERVICE, EXIT_INPUT, EXIT_CANCELLED = 0, 1, 2, 130

log = logging.getLogger("workbench")


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """--provider/--model/--dim/--task, as in the contract; the defaults are the offline model."""
    group = parser.add_argument_group("model")
    group.add_argument("--provider", choices=sorted(DEFAULT_MODELS), default="local", help="default: local (offline)")
    group.add_argument("--model", help="model name or local folder (default: all-MiniLM-L6-v2 / gemini-embedding-001)")
    group.add_argument("--dim", type=int, help="output dimensionality (default: the model's native size)")
    group.add_argument(
        "--task",
        help="task type for every item (default: documents as documents, queries as queries; "
        "Gemini: RETRIEVAL_DOCUMENT / RETRIEVAL_QUERY)",
    )
    group.add_argument(
        "--device",
        choices=DEVICE_CHOICES,
        default="auto",
        help="local model: where it runs (default: auto = CUDA, then Apple MPS, then the CPU); a device that is "
        "missing or fails falls back to the CPU with a warning. Vectors agree across devices, so the cache is shared",
    )
    group.add_argument("--base-url", help="Gemini endpoint (default: GOOGLE_GEMINI_BASE_URL or Google's)")
    group.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="Gemini: how long one request may wait to connect and for the answer (default: "
        "WORKBENCH_GEMINI_TIMEOUT_S or 10); a server that does not answer fails after 3 times this, retries included",
    )


def spec_from_args(args: argparse.Namespace) -> EmbeddingSpec:
    """The spec the model options ask for; --task, when given, applies to both kinds."""
    if args.dim is not None and args.dim <= 0:
        raise InputError(f"--dim must be a positive number, not {args.dim}.")
    timeout_from_args(args)  # checked before any work
    spec = default_spec(args.provider, args.model, args.dim)
    return replace(spec, document_task=args.task, query_task=args.task) if args.task else spec


def device_from_args(args: argparse.Namespace) -> str:
    """--device (the local model's device choice; 'auto' when the command has no such option)."""
    return getattr(args, "device", None) or "auto"


def timeout_from_args(args: argparse.Namespace) -> float | None:
    """--timeout, checked (None: the provider's default)."""
    return checked_timeout_s(getattr(args, "timeout", None), "--timeout")


def embedder_from_args(args: argparse.Namespace, spec: EmbeddingSpec) -> Embedder:
    """The embedder for `spec` with the model options' key, endpoint, timeout and device (one place for every
    sub-command that embeds, so a new option reaches them all)."""
    return make_embedder(
        spec,
        api_key=gemini_key_from_env(),
        base_url=args.base_url,
        timeout_s=timeout_from_args(args),
        device=device_from_args(args),
    )


class CliFormatter(logging.Formatter):
    """Our own lines read like the CLI's other messages ('workbench embed: 4 documents from notes; …'), whatever
    level decided they are shown; a library's lines keep their level and logger name, so their origin stays clear."""

    def __init__(self, command: str | None = None) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self.prefix = f"workbench {command}: " if command else "workbench: "

    def format(self, record: logging.LogRecord) -> str:
        if record.name == "workbench" or record.name.startswith("workbench."):
            return self.prefix + record.getMessage()
        return super().format(record)


def configure_logging(verbose: bool, command: str | None = None) -> None:
    """-v: our INFO lines on stderr. Third-party loggers stay at WARNING so they cannot echo request headers, and
    at ERROR without -v: pypdf's 'invalid pdf header' for a file the folder report already lists is noise there."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    for noisy in (*HTTP_LOGGERS, "urllib3", "pymilvus", "sentence_transformers", "pypdf"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(CliFormatter(command))
        handler.addFilter(ScrubSecrets())


def say_done(message: str, stream: TextIO | None = None) -> None:
    """The one line a finished command leaves on a terminal ('wrote …'); piped, nothing extra (the contract), and
    -v logs it as before."""
    stream = stream or sys.stderr
    if stream.isatty():
        print(message, file=stream)
    else:
        log.info("%s", message)


class ProgressBar:
    """A one-line progress bar on stderr when it is a terminal; silent when piped (the contract)."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        width = 30
        filled = int(width * done / total) if total else width
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def run_guarded(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a sub-command, turning our errors into a one-line message and the contract's exit code."""
    try:
        return command(args)
    except InputError as error:
        print(f"workbench {args.command}: {error}", file=sys.stderr)
        return EXIT_INPUT
    except ServiceError as error:
        print(f"workbench {args.command}: {error}", file=sys.stderr)
        return EXIT_SERVICE
    except (Cancelled, KeyboardInterrupt) as error:
        message = str(error) if isinstance(error, Cancelled) else "Cancelled."
        print(f"workbench {args.command}: {message}", file=sys.stderr)
        return EXIT_CANCELLED
    except WorkbenchError as error:
        print(f"workbench {args.command}: {error}", file=sys.stderr)
        return EXIT_SERVICE
    except Exception as error:  # noqa: BLE001 - a bug of ours: a report to send, not a traceback to read
        from workbench.core.crash_report import write_crash_report

        report = write_crash_report(type(error), error, error.__traceback__, context=[f"command: {args.command}"])
        print(
            f"workbench {args.command}: unexpected error ({scrub(f'{type(error).__name__}: {error}')[:200]}); "
            f"a report without keys or tokens was written to {report}",
            file=sys.stderr,
        )
        return EXIT_SERVICE
