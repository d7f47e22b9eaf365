"""Keep Python's cyclic garbage collector from freezing the window while workers build millions of objects.

A full collection visits every tracked object with the GIL held. Reading a workspace of a million items allocates
about three million (items, their metadata dicts, lists), and the collections that this allocation itself sets off
on the way each scan all of them: 100-400 ms in which the GUI thread cannot run, whatever thread triggered them
(measured with bench/responsiveness.py's File ▸ Open row; with the collector off the worst stall fell from 196 ms
to 85 ms). So the code that builds many long-lived objects runs inside `collector_paused()`, and what it built is
moved out of later full scans (`gc.freeze`) when the last such block ends. Reference counting still frees frozen
objects that are dropped; only cyclic garbage made meanwhile is kept (a few kB per block: these builders make
plain data, not cycles). Python's standard library has no such helper; this is the documented use of
`gc.disable` and `gc.freeze`.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_blocks = 0  # collector_paused blocks running now, in any thread
_was_enabled = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection while the body runs (in any thread: blocks nest and overlap); then freeze."""
    global _blocks, _was_enabled
    with _lock:
        if _blocks == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _blocks += 1
    try:
        yield
    finally:
        with _lock:
            _blocks -= 1
            if _blocks == 0:
                gc.freeze()  # constant time: what the blocks built leaves the generations that full scans visit
                if _was_enabled:
                    gc.enable()


def keep_out_of_collector_scans(collect_young: bool = True) -> None:
    """Move every object alive now out of the cyclic garbage collector's full scans (`gc.freeze`).

    Once torch and the local model are loaded a full collection is ~400 ms, and with 100 000 items another
    60-100 ms, a freeze at a random moment (seen mid-draw). What is alive after start-up or after an embedding
    arrives (modules, the model, the items) lives long and holds few cycles, and reference counting still frees
    frozen objects (pyqtgraph items removed later were checked to go).

    `collect_young` first collects the young generations, so fresh cyclic garbage is not frozen with them. That
    costs little at start-up, but not after an embedding arrives: its fresh lists and dicts of a million ids and
    texts are young, and collecting visits every element (73 ms measured at 1 000 000 items, on the GUI thread).
    There the freeze alone (constant time) is used; what it can keep is at most the young generations' few
    thousand objects of garbage, once per embedding.
    """
    if collect_young:
        gc.collect(1)
    gc.freeze()
