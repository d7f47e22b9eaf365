"""collector_paused: no automatic collection while workers build many objects, freeze once the last block ends."""

from __future__ import annotations

import gc
import threading

from workbench.core.collector import collector_paused


def test_blocks_in_two_threads_keep_the_collector_off_until_the_last_ends_then_freeze_what_they_built() -> None:
    assert gc.isenabled()
    gc.unfreeze()
    first_inside, second_started, first_done = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with collector_paused():
            first_inside.set()
            second_started.wait(5)
            seen["first, both inside"] = gc.isenabled()
        first_done.set()

    worker = threading.Thread(target=first)
    worker.start()
    first_inside.wait(5)
    with collector_paused():
        built = [[k] for k in range(1000)]  # long-lived containers, as a workspace's items are
        second_started.set()
        first_done.wait(5)
        seen["second, after the first ended"] = gc.isenabled()
        assert gc.get_freeze_count() == 0  # not frozen while a block still runs
    worker.join()
    assert seen == {"first, both inside": False, "second, after the first ended": False}
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(built)  # what the blocks built is out of the full scans
    gc.unfreeze()


def test_a_failing_body_still_turns_the_collector_back_on() -> None:
    try:
        with collector_paused():
            raise ValueError("bad file")
    except ValueError:
        pass
    assert gc.isenabled()
    gc.unfreeze()


def test_as_a_decorator_each_call_is_a_block() -> None:
    @collector_paused()
    def build() -> bool:
        return gc.isenabled()

    assert build() is False and build() is False and gc.isenabled()
    gc.unfreeze()
