"""Guards the Qt binding: PySide6 6.12.0 under-counts references on Signal.emit(True) and crashes long sessions.

Run in a subprocess because the failure mode is an abort of the interpreter, which would take pytest down.
"""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication([])
class Emitter(QObject):
    flag = Signal(bool)
    pair = Signal(int, int)
emitter = Emitter()
emitter.flag.connect(lambda value: None)
emitter.pair.connect(lambda a, b: None)
true_before, none_before = sys.getrefcount(True), sys.getrefcount(None)
for _ in range(2000):
    emitter.flag.emit(True)
    emitter.pair.emit(1, 2)
print(sys.getrefcount(True) - true_before, sys.getrefcount(None) - none_before)
"""


def test_signal_emits_do_not_leak_or_steal_references() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    true_delta, none_delta = (int(v) for v in done.stdout.split())
    assert abs(true_delta) < 50 and abs(none_delta) < 50
