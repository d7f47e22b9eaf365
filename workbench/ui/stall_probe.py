"""StallProbe: measures how long the GUI event loop was blocked, by how late a fast QTimer's ticks arrive.

A 10 ms timer should tick every 10 ms; a tick that arrives 250 ms after the previous one means the loop was
busy for ~240 ms (a frozen window to the person). Used by tests (its own self-test) and bench/responsiveness.py.
"""

from __future__ import annotations

import time
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QTimer


class StallProbe(QObject):
    """start(); ...work...; stop() -> the worst stall in ms (the longest gap between ticks minus the interval)."""

    def __init__(self, interval_ms: int = 10, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
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
        self._timer.start()
        return self

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst_ms = max(self.worst_ms, (now - self._last) * 1000 - self.interval_ms)
        self._last = now
        self.ticks += 1

    def stop(self) -> float:
        self._tick()  # a stall still under way when measuring stops counts too
        self._timer.stop()
        return self.worst_ms

    def __enter__(self) -> StallProbe:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
