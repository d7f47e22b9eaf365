"""Core calls in another process, with progress and cancel: work that must not share the GIL with a GUI.

Some libraries hold the GIL for hundreds of milliseconds where no thread can help it: numba compiling UMAP,
grpc's C extension starting, and Milvus Lite, whose server is Python threads inside the calling process. In a
thread of the GUI's process they freeze the window; in a child process they cannot.

Why our own and not `concurrent.futures.ProcessPoolExecutor`: an executor returns one result per call, but a
progress bar needs progress while the call runs, and Cancel must reach a call that is already running. Two
shapes, one message format (`("progress", done, total)`, then `("ok", result)` or `("error", exception)`):

- `call_in_child` starts a child for one call; Cancel ends the child at once. For work that cannot stop
  between batches and loses nothing when killed (a UMAP fit).
- `ChildService` keeps one child for many calls, each in a thread of its own, with Cancel passed in as the
  `cancelled()` flag the call checks between batches. For work that must finish its batch cleanly (a write to a
  Milvus Lite database) and whose imports cost a second, paid once.

Functions sent to a child are module-level (pickled by name) and take `progress` and `cancelled` keyword
arguments, as every long core call does. A child is started with "spawn": fork would copy Qt and threads.
Long values (20 000 items, a 20 000 × 384 array) are pickled a chunk at a time and written as raw bytes after
their message (`_prepare`, `_write`, `_read`): one pickle call holds the GIL from start to end (160 ms for
20 000 items), a write releases it, and between chunks the GUI thread gets its turn.
Errors cross as our own exceptions (`WorkbenchError` keeps its sentence); anything else becomes a
`ServiceError` that names the failure, with the traceback logged by the child.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import pickle
import queue
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from workbench.core.errors import Cancelled, ServiceError, WorkbenchError
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress

log = logging.getLogger("workbench.core.child_process")
POLL_SECONDS = 0.05  # how often a waiting caller looks at its cancel flag
CHUNK_ROWS = 2_000  # rows of a long argument per pickle call (~15 ms for items with text and metadata)


@dataclass(frozen=True)
class _Chunked:
    """Stands in a message for a long list, tuple or array whose pickled chunks follow it as raw bytes."""

    kind: str  # "list", "tuple" or "array"
    count: int


def _split(value: Any) -> tuple[Any, list[bytes]]:
    """(placeholder, chunks) for a long value; (value, []) for anything else."""
    if isinstance(value, np.ndarray) and value.ndim and len(value) > CHUNK_ROWS:
        kind = "array"
    elif type(value) in (list, tuple) and len(value) > CHUNK_ROWS:
        kind = type(value).__name__
    else:
        return value, []
    parts = [pickle.dumps(value[i : i + CHUNK_ROWS], pickle.HIGHEST_PROTOCOL) for i in range(0, len(value), CHUNK_ROWS)]
    return _Chunked(kind, len(parts)), parts


def _join(placeholder: _Chunked, parts: list[bytes]) -> Any:
    pieces = [pickle.loads(part) for part in parts]
    if placeholder.kind == "array":
        return np.concatenate(pieces)
    joined = [row for piece in pieces for row in piece]
    return joined if placeholder.kind == "list" else tuple(joined)


def _walk(message: tuple, swap: Callable[[Any], Any]) -> tuple:
    """The message with `swap` applied to each field, and to each item of a field that is a tuple or dict
    (arguments, keyword arguments, a result pair): where long values sit in every message we send."""
    fields = []
    for field in message:
        if type(field) is tuple:
            fields.append(tuple(swap(value) for value in field))
        elif type(field) is dict:
            fields.append({key: swap(value) for key, value in field.items()})
        else:
            fields.append(swap(field))
    return tuple(fields)


def _prepare(message: tuple) -> tuple[tuple, list[bytes]]:
    """The message with long values swapped for placeholders, and their chunks in order (pickled here)."""
    chunks: list[bytes] = []

    def swap(value: Any) -> Any:
        placeholder, parts = _split(value)
        chunks.extend(parts)
        return placeholder

    return _walk(message, swap), chunks


def _write(connection: Connection, message: tuple, chunks: list[bytes]) -> None:
    """One prepared message, then its chunks, each its own write (a write releases the GIL; pickling doesn't)."""
    connection.send(message)
    for chunk in chunks:
        connection.send_bytes(chunk)


def _read(connection: Connection) -> tuple:
    """A message from `_write`, with its long values put back together."""
    message = connection.recv()

    def swap(value: Any) -> Any:
        if isinstance(value, _Chunked):
            return _join(value, [connection.recv_bytes() for _ in range(value.count)])
        return value

    return _walk(message, swap)


def _outcome(
    label: str, function: Callable[..., Any], args: tuple, kwargs: dict, progress: ProgressFn, cancelled: CancelledFn
) -> tuple[str, Any]:
    """("ok", result) or ("error", exception) of one call, run in the child."""
    try:
        return ("ok", function(*args, progress=progress, cancelled=cancelled, **kwargs))
    except WorkbenchError as error:
        return ("error", error)
    except Exception as error:  # noqa: BLE001 - reported to the parent as a service failure
        log.error("%s (%s) failed:\n%s", label, function.__name__, traceback.format_exc())
        return ("error", ServiceError(f"{label} failed: {type(error).__name__}: {error}"))


# -- one call, one child -----------------------------------------------------------------------------------------
def _run_one(connection: Connection, label: str) -> None:
    """Entry point of a one-call child: read the call, send progress and the outcome back."""
    try:
        function, args, kwargs = _read(connection)
        progress = lambda done, total: connection.send(("progress", done, total))  # noqa: E731
        _write(connection, *_prepare(_outcome(label, function, args, kwargs, progress, never_cancelled)))
    finally:
        connection.close()


def call_in_child(
    function: Callable[..., Any],
    *args: Any,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
    label: str = "The child process",
    **kwargs: Any,
) -> Any:
    """`function(*args, progress=, cancelled=, **kwargs)` in a fresh child; Cancel ends the child at once.

    `label` names the work in messages ("UMAP stopped unexpectedly (exit code -9).").
    """
    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe(duplex=True)
    child = context.Process(target=_run_one, args=(theirs, label), daemon=True)
    child.start()
    theirs.close()
    try:
        try:
            _write(mine, *_prepare((function, args, kwargs)))
        except (OSError, ValueError) as error:
            raise ServiceError(f"{label} stopped before it got its work (exit code {child.exitcode}).") from error
        while True:
            if cancelled():
                raise Cancelled(f"{label} was cancelled.")
            if not mine.poll(POLL_SECONDS):
                if not child.is_alive() and not mine.poll(0):
                    raise ServiceError(f"{label} stopped unexpectedly (exit code {child.exitcode}).")
                continue
            try:
                message = _read(mine)
            except EOFError as error:
                raise ServiceError(f"{label} stopped unexpectedly (exit code {child.exitcode}).") from error
            if message[0] == "progress":
                progress(message[1], message[2])
            elif message[0] == "ok":
                return message[1]
            else:
                raise message[1]
    finally:
        if child.is_alive():
            child.terminate()
        child.join(timeout=5)
        mine.close()


# -- many calls, one long-lived child ------------------------------------------------------------------------------
def _serve(connection: Connection, label: str) -> None:
    """Entry point of a service child: run each call in a thread until the parent says stop or goes away."""
    send_lock = threading.Lock()
    flags: dict[int, threading.Event] = {}

    def send(message: tuple) -> None:
        prepared = _prepare(message)  # pickled outside the lock: other calls may send meanwhile
        with send_lock:
            _write(connection, *prepared)

    def run(call_id: int, function: Callable[..., Any], args: tuple, kwargs: dict, flag: threading.Event) -> None:
        outcome = _outcome(
            label, function, args, kwargs, lambda done, total: send(("progress", call_id, done, total)), flag.is_set
        )
        flags.pop(call_id, None)
        try:
            send((outcome[0], call_id, outcome[1]))
        except Exception as error:  # noqa: BLE001 - e.g. a result that cannot be pickled
            send(("error", call_id, ServiceError(f"{label} returned what cannot be sent back: {error}")))

    while True:
        try:
            message = _read(connection)
        except (EOFError, OSError):
            return  # the parent is gone
        if message[0] == "call":
            _, call_id, function, args, kwargs = message
            flag = flags[call_id] = threading.Event()
            threading.Thread(target=run, args=(call_id, function, args, kwargs, flag), daemon=True).start()
        elif message[0] == "cancel":
            if flag := flags.get(message[1]):
                flag.set()
        elif message[0] == "stop":
            return


class ChildService:
    """One long-lived child process that runs calls for any thread of this process, concurrently.

    Started on the first call, started again after it died (its calls then fail with a ServiceError that says
    so). `close` stops it; a daemon child also ends with this process.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self._lock = threading.Lock()  # starting, stopping and sending
        self._child: Any = None
        self._connection: Connection | None = None
        self._calls: dict[int, tuple[Connection, queue.Queue]] = {}  # call id -> its child's pipe, its answers
        self._ids = itertools.count(1)

    def call(
        self,
        function: Callable[..., Any],
        *args: Any,
        progress: ProgressFn = no_progress,
        cancelled: CancelledFn = never_cancelled,
        **kwargs: Any,
    ) -> Any:
        """`function(*args, progress=, cancelled=, **kwargs)` in the child; blocks this thread until it is done.

        A cancel is passed on to the call, which stops at its next check and raises Cancelled; what it finished
        before stays finished.
        """
        answers: queue.Queue = queue.Queue()
        call_id = next(self._ids)
        prepared = _prepare(("call", call_id, function, args, kwargs))  # outside the lock: others may send
        with self._lock:
            self._start_if_needed()
            self._calls[call_id] = (self._connection, answers)
            try:
                _write(self._connection, *prepared)
            except (OSError, ValueError) as error:  # the child went away between the check and the send
                self._calls.pop(call_id, None)
                raise ServiceError(f"{self.label} could not be reached: {error}") from error
        cancel_sent = False
        try:
            while True:
                if not cancel_sent and cancelled():  # checked every turn: progress may never let the queue idle
                    cancel_sent = True
                    self._send(("cancel", call_id))
                try:
                    message = answers.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    continue
                if message[0] == "progress":
                    progress(message[1], message[2])
                elif message[0] == "ok":
                    return message[1]
                elif message[0] == "error":
                    raise message[1]
                else:  # "gone"
                    raise ServiceError(f"{self.label} stopped unexpectedly; try again (it restarts by itself).")
        finally:
            self._calls.pop(call_id, None)

    @property
    def running(self) -> bool:
        return self._child is not None and self._child.is_alive()

    def close(self, timeout: float = 5.0) -> None:
        """Ask the child to stop (calls under way end with it) and wait for it."""
        with self._lock:
            child, connection = self._child, self._connection
            self._child = self._connection = None
        if child is None:
            return
        with contextlib.suppress(OSError, ValueError):
            connection.send(("stop",))
        child.join(timeout)
        if child.is_alive():
            child.terminate()
            child.join(timeout)
        connection.close()

    # -- inside ------------------------------------------------------------------------------------------------
    def _start_if_needed(self) -> None:
        if self._child is not None and self._child.is_alive():
            return
        context = multiprocessing.get_context("spawn")
        mine, theirs = context.Pipe(duplex=True)
        self._child = context.Process(target=_serve, args=(theirs, self.label), name=self.label, daemon=True)
        self._child.start()
        theirs.close()
        self._connection = mine
        threading.Thread(target=self._dispatch, args=(mine,), name=f"{self.label} reader", daemon=True).start()

    def _send(self, message: tuple) -> None:
        with self._lock:
            if self._connection is not None:
                with contextlib.suppress(OSError, ValueError):  # the reader reports a child's end to its calls
                    self._connection.send(message)

    def _dispatch(self, connection: Connection) -> None:
        """Hand each message to the call it belongs to; when the child ends, tell every call still waiting."""
        while True:
            try:
                message = _read(connection)
            except (EOFError, OSError):
                break
            call = self._calls.get(message[1])
            if call is not None:
                call[1].put((message[0], *message[2:]))
        for pipe, answers in list(self._calls.values()):
            if pipe is connection:  # calls sent to a newer child are not this one's to end
                answers.put(("gone",))
