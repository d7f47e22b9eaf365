"""StallProbe: measures how long the GUI event loop was blocked, by how late a fast QTimer's ticks arrive.

A 10 ms timer should tick every 10 ms; a tick that arrives 250 ms after the previous one means the loop was
busy for ~240 ms (a frozen window to the person). Used by tests (its own self-test) and bench/responsiveness.py.

With `trace_to`, a stall longer than `trace_after_ms` also writes every thread's stack to that file while it
happens (faulthandler's watchdog needs no GIL, so it sees a GUI thread stuck in C code or waiting for the GIL):
the way to find what froze the window, not just that it froze.
"""

from __future__ import annotations

import faulthandler
import time
from types import TracebackType
from typing import TextIO

from PySide6.QtCore import QObject, Qt, QTimer


class StallProbe(QObject):
    """start(); ...work...; stop() -> the worst stall in ms (the longest gap between ticks minus the interval)."""

    def __init__(
        self,
        interval_ms: int = 10,
        parent: QObject | None = None,
        trace_to: TextIO | None = None,
        trace_after_ms: float = 100.0,
    ) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.trace_to, self.trace_after_ms = trace_to, trace_after_ms
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self.worst_ms = 0.0
        self.ticks = 0

    def start(self) -> StallProbe:
        self.worst_ms, self.ticks = 0.0, 0
        self._last = time.perf_counter()
        self._arm_trace()
        self._timer.start()
        return self

    def _arm_trace(self) -> None:
        """Re-armed on every tick, so it fires (and repeats) only while the next tick is late."""
        if self.trace_to is not None:
            faulthandler.dump_traceback_later(
                (self.interval_ms + self.trace_after_ms) / 1000, repeat=True, file=self.trace_to
            )

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst_ms = max(self.worst_ms, (now - self._last) * 1000 - self.interval_ms)
        self._last = now
        self.ticks += 1
        self._arm_trace()

    def stop(self) -> float:
        self._tick()  # a stall still under way when measuring stops counts too
        self._timer.stop()
        if self.trace_to is not None:
            faulthandler.cancel_dump_traceback_later()
        return self.worst_ms

    def __enter__(self) -> StallProbe:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
