"""Core calls in another process, with progress and cancel: work that must not share the GIL with a GUI.

Some libraries hold the GIL for hundreds of milliseconds where no thread can help it: numba compiling UMAP,
grpc's C extension starting, and Milvus Lite, whose server is Python threads inside the calling process. In a
thread of the GUI's process they freeze the window; in a child process they cannot.

Why our own and not `concurrent.futures.ProcessPoolExecutor`: an executor returns one result per call, but a
progress bar needs progress while the call runs, and Cancel must reach a call that is already running. Two
shapes, one set of messages (`child_messages`: a `Call` goes in, `Progress` comes back while it runs, then one
`Returned` or `Raised`):

- `call_in_child` starts a child for one call; Cancel ends the child at once. For work that cannot stop
  between batches and loses nothing when killed (a UMAP fit).
- `ChildService` keeps one child for many calls, each in a thread of its own, with Cancel passed in as the
  `cancelled()` flag the call checks between batches. For work that must finish its batch cleanly (a write to a
  Milvus Lite database) and whose imports cost a second, paid once.

Functions sent to a child are module-level (pickled by name) and take `progress` and `cancelled` keyword
arguments, as every long core call does. A child is started with "spawn": fork would copy Qt and threads.
Long values (20 000 items, a 20 000 × 384 array) cross a chunk at a time, so the GUI thread gets its turn
between chunks (see `child_messages`).
Errors cross as our own exceptions (`WorkbenchError` keeps its sentence); anything else becomes a
`ServiceError` that names the failure, with the traceback logged by the child.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import pickle
import queue
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from workbench.core.child_messages import (
    Answer,
    Call,
    Cancel,
    Gone,
    Progress,
    Raised,
    Returned,
    Stop,
    Undecodable,
    prepare_message,
    read_message,
    write_message,
)
from workbench.core.errors import Cancelled, InputError, ServiceError, WorkbenchError
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress

log = logging.getLogger("workbench.core.child_process")
POLL_SECONDS = 0.05  # how often a waiting caller looks at its cancel flag
CHILD_NICENESS = 5


def _portable(error: WorkbenchError) -> WorkbenchError:
    """The error itself when it survives a pickle round trip, else its nearest base of ours with its sentence."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # noqa: BLE001 - e.g. a subclass whose __init__ takes other arguments
        base = next(kind for kind in (Cancelled, InputError, ServiceError, WorkbenchError) if isinstance(error, kind))
        return base(str(error))
    return error


def _outcome(label: str, call: Call, progress: ProgressFn, cancelled: CancelledFn) -> Answer:
    """The answer to one call, run in the child, for the same call id."""
    try:
        value = call.function(*call.args, progress=progress, cancelled=cancelled, **call.kwargs)
        return Returned(value, call.call_id)
    except WorkbenchError as error:
        return Raised(_portable(error), call.call_id)
    except Exception as error:  # noqa: BLE001 - reported to the parent as a service failure
        log.error("%s (%s) failed:\n%s", label, call.function.__name__, traceback.format_exc())
        return Raised(ServiceError(f"{label} failed: {type(error).__name__}: {error}"), call.call_id)


def _answer(label: str, answer: Answer) -> tuple[bytes, list[bytes]]:
    """The prepared final message of a call, or an error saying its result cannot be sent (not picklable)."""
    try:
        return prepare_message(answer)
    except Exception as error:  # noqa: BLE001 - any pickling failure
        unsendable = ServiceError(f"{label} returned what cannot be sent back: {error}")
        return prepare_message(Raised(unsendable, answer.call_id))


def _yield_the_cpu() -> None:
    """Run the child at a lower CPU priority: on a 2-core machine a child importing pymilvus or fitting UMAP
    otherwise takes the core the GUI thread needs to draw (the child's work only gets slower when both want it)."""
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(CHILD_NICENESS)


# -- one call, one child -----------------------------------------------------------------------------------------
def _run_one(connection: Connection, label: str) -> None:
    """Entry point of a one-call child: read the call, send progress and the outcome back."""
    _yield_the_cpu()
    try:
        try:
            call = read_message(connection)
        except Undecodable as error:
            unreadable = ServiceError(f"{label} could not read its work: {error}")
            write_message(connection, *prepare_message(Raised(unreadable)))
            return

        def progress(done: int, total: int) -> None:
            write_message(connection, *prepare_message(Progress(done, total)))

        write_message(connection, *_answer(label, _outcome(label, call, progress, never_cancelled)))
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

    def stopped() -> ServiceError:
        child.join(timeout=1)
        code = f" (exit code {child.exitcode})" if child.exitcode is not None else ""
        return ServiceError(f"{label} stopped unexpectedly{code}.")

    try:
        try:
            write_message(mine, *prepare_message(Call(function, args, kwargs)))
        except (OSError, ValueError) as error:
            raise stopped() from error
        while True:
            if cancelled():
                raise Cancelled(f"{label} was cancelled.")
            if not mine.poll(POLL_SECONDS):
                if not child.is_alive() and not mine.poll(0):
                    raise stopped()
                continue
            try:
                message = read_message(mine)
            except (EOFError, OSError) as error:
                raise stopped() from error
            except Undecodable as error:
                raise ServiceError(f"{label} sent back what cannot be read here: {error}") from error
            match message:
                case Progress(done=done, total=total):
                    progress(done, total)
                case Returned(value=value):
                    return value
                case Raised(error=error):
                    raise error
    finally:
        if child.is_alive():
            child.terminate()
        child.join(timeout=5)
        mine.close()


# -- many calls, one long-lived child ------------------------------------------------------------------------------
STOP_GRACE_SECONDS = 10.0  # how long a stopping child lets cancelled calls finish their batch


def _serve(connection: Connection, label: str) -> None:
    """Entry point of a service child: run each call in a thread until the parent says stop or goes away.

    Every call gets exactly one final answer, whatever happens to it. On "stop", calls under way are cancelled
    and given STOP_GRACE_SECONDS to end at their next batch boundary (a Milvus write is never cut mid-batch).
    """
    _yield_the_cpu()
    send_lock = threading.Lock()
    flags: dict[int, threading.Event] = {}
    threads: dict[int, threading.Thread] = {}

    def send(call_id: int, prepared: tuple[bytes, list[bytes]]) -> None:
        with send_lock:
            write_message(connection, *prepared, key=call_id)

    def run(call: Call, flag: threading.Event) -> None:
        call_id = call.call_id
        answer: Answer = Raised(ServiceError(f"{label} ended a call without an answer."), call_id)
        try:
            progress = lambda done, total: send(call_id, prepare_message(Progress(done, total, call_id)))  # noqa: E731
            answer = _outcome(label, call, progress, flag.is_set)
        finally:
            flags.pop(call_id, None)
            threads.pop(call_id, None)
            send(call_id, _answer(label, answer))

    while True:
        try:
            message = read_message(connection)
        except (EOFError, OSError):
            return  # the parent is gone
        except Undecodable as error:  # e.g. a function this child cannot import: that call fails, not the child
            if error.key is not None:
                unreadable = ServiceError(f"{label} could not read a call: {error}")
                send(error.key, prepare_message(Raised(unreadable, error.key)))
            continue
        match message:
            case Call(call_id=call_id):
                flag = flags[call_id] = threading.Event()
                thread = threads[call_id] = threading.Thread(target=run, args=(message, flag))
                thread.daemon = True
                thread.start()
            case Cancel(call_id=call_id):
                if flag := flags.get(call_id):
                    flag.set()
            case Stop():
                for flag in list(flags.values()):
                    flag.set()
                for thread in list(threads.values()):
                    thread.join(STOP_GRACE_SECONDS)
                return


class ChildService:
    """One long-lived child process that runs calls for any thread of this process, concurrently.

    Started on the first call, started again after it died (its calls then fail with a ServiceError that says
    so). `close` stops it for good; a daemon child also ends with this process.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self._lock = threading.Lock()  # starting, stopping and sending
        self._child: Any = None
        self._connection: Connection | None = None
        self._calls: dict[int, tuple[Connection, queue.Queue]] = {}  # call id -> its child's pipe, its messages
        self._ids = itertools.count(1)
        self._closed = False

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
        prepared = prepare_message(Call(function, args, kwargs, call_id))  # outside the lock: others may send
        with self._lock:
            if self._closed:
                raise ServiceError(f"{self.label} has been shut down.")
            self._start_if_needed()
            self._calls[call_id] = (self._connection, answers)
            try:
                write_message(self._connection, *prepared, key=call_id)
            except BaseException as error:
                self._calls.pop(call_id, None)
                raise ServiceError(f"{self.label} could not be reached: {error}") from error
        answered = cancel_sent = False
        try:
            while True:
                if not cancel_sent and cancelled():  # checked every turn: progress may never let the queue idle
                    cancel_sent = True
                    self._send(Cancel(call_id))
                try:
                    message = answers.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    continue
                if isinstance(message, Progress):
                    progress(message.done, message.total)
                    continue
                answered = True
                if isinstance(message, Returned):
                    return message.value
                if isinstance(message, Raised):
                    raise message.error
                raise ServiceError(f"{self.label} stopped unexpectedly; try again (it restarts by itself).")
        finally:
            self._calls.pop(call_id, None)
            if not answered and not cancel_sent:  # e.g. `progress` raised: the child must not work on for nobody
                self._send(Cancel(call_id))

    @property
    def running(self) -> bool:
        return self._child is not None and self._child.is_alive()

    def close(self, timeout: float = STOP_GRACE_SECONDS + 5) -> None:
        """Stop the child for good: calls under way are cancelled and end at their next batch boundary."""
        with self._lock:
            self._closed = True
            child, connection = self._child, self._connection
            self._child = self._connection = None
            if child is not None:
                with contextlib.suppress(OSError, ValueError):
                    write_message(connection, *prepare_message(Stop()))
        if child is None:
            return
        child.join(timeout)
        if child.is_alive():
            child.terminate()
            child.join(timeout)

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

    def _send(self, message: Cancel) -> None:
        with self._lock:
            if self._connection is not None:
                with contextlib.suppress(OSError, ValueError):  # the reader reports a child's end to its calls
                    write_message(self._connection, *prepare_message(message), key=message.call_id)

    def _dispatch(self, connection: Connection) -> None:
        """Hand each message to the call it belongs to; when the pipe ends or breaks, end every call on it.

        Nothing may stop this loop silently: a call whose answer cannot be read gets an error, and any other
        failure is treated as the child's end, so no caller waits forever.
        """
        try:
            while True:
                try:
                    message = read_message(connection)
                    key = message.call_id
                except Undecodable as error:
                    key, message = error.key, Raised(ServiceError(f"{self.label}: {error}"), error.key)
                call = self._calls.get(key)
                if call is not None:
                    call[1].put(message)
        except (EOFError, OSError):
            pass
        except BaseException:  # noqa: BLE001 - logged; every waiting call is told below
            log.error("%s: the reader stopped:\n%s", self.label, traceback.format_exc())
        finally:
            with self._lock:
                if self._connection is connection:  # not yet replaced or closed: this child is of no more use
                    if self._child is not None and self._child.is_alive():
                        self._child.terminate()
                    self._child = self._connection = None
            connection.close()
            for pipe, answers in list(self._calls.values()):
                if pipe is connection:  # calls sent to a newer child are not this one's to end
                    answers.put(Gone())
