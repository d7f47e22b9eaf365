"""The one way the UI runs long work: a core call on a thread pool, with progress, cancel and errors as signals.

Shaped after Orange's concurrent helpers and superqt's thread workers: the function receives `progress(done,
total)` and `cancelled()` callables (the core's own protocol, so core code never sees Qt); its result, its error
message and its progress arrive on the GUI thread. Each task has a key; starting a task with a key that is
still running cancels the older one and drops its result, so the newest request for a view always wins.
Progress reports are coalesced to at most ~20 per second so a fast loop cannot flood the event queue.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from workbench.core.errors import Cancelled, WorkbenchError
from workbench.core.progress import CancelledFn, ProgressFn

log = logging.getLogger("workbench.ui.tasks")
TaskFn = Callable[[ProgressFn, CancelledFn], Any]
_PROGRESS_INTERVAL_S = 0.05


GIL_SWITCH_INTERVAL_S = 0.0002


def share_the_gil_often() -> None:
    """Make a thread running Python hand the GIL over after 0.2 ms instead of CPython's 5 ms (`setswitchinterval`).

    Workers that run Python (encoding a million items, reading a workspace) take turns on the GIL with the GUI
    thread, which needs it back for every Python call a repaint makes; with two such workers at once it often
    waits out several turns. Two workers encoding a million items each: worst event-loop stall 66 ms at 5 ms, 20 ms
    at 1 ms; a million items arriving with their layout (bench/responsiveness.py): 117-123 ms at 1 ms, 30-67 ms
    at 0.2 ms. The workers lose nothing measurable (the two encodings: 0.43-0.48 s at 5 ms, 0.39-0.40 s at 0.2 ms).
    """
    sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))


class _Relay(QObject):
    """Carries a worker's events to the GUI thread.

    The relay is created on the GUI thread and its signals are connected to its own slots, so a signal emitted
    by the worker thread is queued and the callbacks always run on the GUI thread.
    """

    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str)
    was_cancelled = Signal(str)

    def __init__(self, callbacks: dict[str, Callable[..., None]]) -> None:
        super().__init__()
        self._callbacks = callbacks
        self.progressed.connect(self._on_progressed)
        self.succeeded.connect(self._on_succeeded)
        self.failed.connect(self._on_failed)
        self.was_cancelled.connect(self._on_cancelled)

    @Slot(int, int)
    def _on_progressed(self, done: int, total: int) -> None:
        self._callbacks["progressed"](done, total)

    @Slot(object)
    def _on_succeeded(self, result: object) -> None:
        self._callbacks["succeeded"](result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._callbacks["failed"](message)

    @Slot(str)
    def _on_cancelled(self, message: str) -> None:
        self._callbacks["was_cancelled"](message)


@dataclass
class TaskHandle:
    key: str
    label: str
    cancel_event: threading.Event = field(default_factory=threading.Event)
    done: bool = False

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()


class _Worker(QRunnable):
    def __init__(self, fn: TaskFn, handle: TaskHandle, relay: _Relay) -> None:
        super().__init__()
        self.fn, self.handle, self.relay = fn, handle, relay
        self._last_report = 0.0

    def _progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - self._last_report >= _PROGRESS_INTERVAL_S:
            self._last_report = now
            self.relay.progressed.emit(int(done), int(total))

    def run(self) -> None:
        try:
            result = self.fn(self._progress, self.handle.cancel_event.is_set)
        except Cancelled as error:
            self.relay.was_cancelled.emit(str(error))
        except WorkbenchError as error:
            self.relay.failed.emit(str(error))
        except Exception as error:  # noqa: BLE001 - a worker must never take the app down
            log.error("task %s failed:\n%s", self.handle.key, traceback.format_exc())
            self.relay.failed.emit(f"{self.handle.label} failed: {type(error).__name__}: {error}")
        else:
            if self.handle.cancelled:
                self.relay.was_cancelled.emit("Cancelled.")
            else:
                self.relay.succeeded.emit(result)


class TaskRunner(QObject):
    """Starts keyed background tasks and reports them; the main window shows the running ones."""

    task_started = Signal(str, str)  # key, label
    task_progress = Signal(str, int, int)  # key, done, total
    task_finished = Signal(str)  # key (succeeded, failed or cancelled: it is no longer running)
    task_failed = Signal(str, str)  # key, message

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        share_the_gil_often()
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._running: dict[str, TaskHandle] = {}
        self._relays: dict[int, _Relay] = {}

    def start(
        self,
        key: str,
        label: str,
        fn: TaskFn,
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        on_cancelled: Callable[[str], None] | None = None,
    ) -> TaskHandle:
        """Run `fn(progress, cancelled)` off the GUI thread; callbacks run on the GUI thread, newest task only."""
        older = self._running.get(key)
        if older is not None:
            older.cancel()
        handle = TaskHandle(key, label)
        self._running[key] = handle

        def is_current() -> bool:
            return self._running.get(key) is handle

        def finish() -> None:
            handle.done = True
            # Drop the relay once its slot has returned, not from inside it.
            QTimer.singleShot(0, lambda: self._relays.pop(id(handle), None))
            if is_current():
                del self._running[key]
                self.task_finished.emit(key)

        def progressed(done: int, total: int) -> None:
            if is_current():
                self.task_progress.emit(key, done, total)
                if on_progress:
                    on_progress(done, total)

        def succeeded(result: Any) -> None:
            current = is_current()
            finish()
            if current:
                on_done(result)

        def failed(message: str) -> None:
            current = is_current()
            finish()
            if current:
                self.task_failed.emit(key, message)
                if on_error:
                    on_error(message)

        def was_cancelled(message: str) -> None:
            current = is_current()
            finish()
            if current and on_cancelled:
                on_cancelled(message)

        relay = _Relay(
            {"progressed": progressed, "succeeded": succeeded, "failed": failed, "was_cancelled": was_cancelled}
        )
        self._relays[id(handle)] = relay  # keeps the relay alive until its task has reported
        self.task_started.emit(key, label)
        self.pool.start(_Worker(fn, handle, relay))
        return handle

    def cancel(self, key: str) -> None:
        handle = self._running.get(key)
        if handle:
            handle.cancel()

    def cancel_all(self) -> None:
        for handle in list(self._running.values()):
            handle.cancel()

    def is_running(self, key: str) -> bool:
        return key in self._running

    def running(self) -> dict[str, str]:
        """key -> label of the tasks now running."""
        return {key: handle.label for key, handle in self._running.items()}

    def wait_for_done(self, msecs: int = 30_000) -> bool:
        """Block until the pool is idle (used at shutdown and in tests, never in a handler)."""
        return self.pool.waitForDone(msecs)
