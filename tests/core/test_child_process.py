"""core.child_process: results, progress, cancel, errors and crashes cross the process boundary as promised.

The functions sent to children live at module level here, so a spawned child can import them by name.
"""

from __future__ import annotations

import os
import pickle
import threading
import time

import pytest

from workbench.core.child_process import ChildService, call_in_child
from workbench.core.errors import Cancelled, InputError, ServiceError


def counted(n: int, *, progress, cancelled) -> dict:
    """Reports progress for each of n steps, stopping between steps when cancelled."""
    for step in range(1, n + 1):
        if cancelled():
            raise Cancelled(f"stopped after {step - 1} of {n}")
        time.sleep(0.01)
        progress(step, n)
    return {"pid": os.getpid(), "steps": n}


def wrong_input(*, progress, cancelled) -> None:
    raise InputError("Row 3: the 'text' field is empty.")


def broken(*, progress, cancelled) -> None:
    raise KeyError("no such thing")


def dies(*, progress, cancelled) -> None:
    os._exit(3)


class OddError(InputError):
    """Like importers.InvalidEncoding: our error type, but its __init__ takes other arguments (no plain pickle)."""

    def __init__(self, path: str, encoding: str) -> None:
        super().__init__(f"{path} is not {encoding}: save it as UTF-8.")


def odd_failure(*, progress, cancelled) -> None:
    raise OddError("notes.txt", "UTF-8")


def unsendable(*, progress, cancelled):
    return threading.Lock()  # cannot be pickled


def sleeps(seconds: float, *, progress, cancelled) -> str:
    time.sleep(seconds)  # never looks at `cancelled`: only ending the child stops it
    return "woke"


@pytest.fixture(scope="module")
def service():
    child = ChildService("The test process")
    yield child
    child.close()


def test_a_call_returns_its_result_and_reports_progress_from_another_process(service) -> None:
    seen: list[tuple[int, int]] = []
    result = service.call(counted, 5, progress=lambda done, total: seen.append((done, total)))
    assert result["steps"] == 5 and result["pid"] != os.getpid()
    assert seen == [(i, 5) for i in range(1, 6)]
    assert service.call(counted, 1)["pid"] == result["pid"]  # the same child serves the next call


def test_cancel_reaches_a_running_call_which_stops_between_steps(service) -> None:
    flag = threading.Event()
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if done == 3:
            flag.set()

    started = time.monotonic()
    with pytest.raises(Cancelled, match=r"stopped after \d+ of 1000"):
        service.call(counted, 1000, progress=progress, cancelled=flag.is_set)
    assert time.monotonic() - started < 5  # 1000 steps would take 10 s
    assert 3 <= max(seen) < 1000


def test_our_errors_keep_their_sentence_and_others_become_service_errors(service) -> None:
    with pytest.raises(InputError, match=r"Row 3: the 'text' field is empty\."):
        service.call(wrong_input)
    with pytest.raises(ServiceError, match=r"The test process failed: KeyError"):
        service.call(broken)


def test_calls_from_two_threads_run_at_once(service) -> None:
    slow_done: list[float] = []
    thread = threading.Thread(target=lambda: slow_done.append(service.call(counted, 100) and time.monotonic()))
    thread.start()
    time.sleep(0.2)
    service.call(counted, 2)
    fast_done = time.monotonic()
    thread.join(30)
    assert slow_done and fast_done < slow_done[0]  # the short call did not wait behind the long one


def test_a_child_that_dies_fails_its_call_and_the_next_call_starts_a_new_child() -> None:
    service = ChildService("The crashing process")
    try:
        first = service.call(counted, 1)["pid"]
        with pytest.raises(ServiceError, match="The crashing process stopped unexpectedly"):
            service.call(dies)
        assert service.call(counted, 1)["pid"] != first
    finally:
        service.close()
    assert not service.running


def test_call_in_child_returns_and_cancel_ends_the_child_at_once() -> None:
    assert call_in_child(sleeps, 0.1) == "woke"
    started = time.monotonic()
    with pytest.raises(Cancelled, match="The sleeper was cancelled"):
        call_in_child(sleeps, 60, cancelled=lambda: time.monotonic() - started > 0.5, label="The sleeper")
    assert time.monotonic() - started < 10


def test_call_in_child_reports_a_crash_and_our_errors() -> None:
    with pytest.raises(ServiceError, match=r"UMAP stopped unexpectedly \(exit code 3\)"):
        call_in_child(dies, label="UMAP")
    with pytest.raises(InputError, match="Row 3"):
        call_in_child(wrong_input)


def echoed(items: list, rows: tuple, array, *, progress, cancelled):
    return items, rows, array


def test_long_arguments_cross_in_chunks_and_arrive_whole(service) -> None:
    """Lists, tuples and arrays longer than a chunk are pickled piecewise (the GIL is free between pieces)."""
    import numpy as np

    from workbench.core.child_messages import CHUNK_ROWS, Call, Chunked, prepare_message
    from workbench.core.items import Item

    n = 2 * CHUNK_ROWS + 17
    items = [Item.create(f"text {i}", metadata={"i": i}) for i in range(n)]
    rows = tuple(range(n))
    array = np.random.default_rng(0).normal(size=(n, 3)).astype(np.float32)
    payload, chunks = prepare_message(Call(echoed, (items, items[:10], array), {}, call_id=1))
    message = pickle.loads(payload)
    assert message.args[0] == Chunked("list", 3) and message.args[2] == Chunked("array", 3) and len(chunks) == 6
    assert message.args[1] == items[:10]  # short ones travel inside the message
    back_items, back_rows, back_array = service.call(echoed, items, rows, array)
    assert back_items == items and back_rows == rows
    assert back_array.dtype == np.float32 and np.array_equal(back_array, array)


def test_errors_that_do_not_pickle_and_results_that_cannot_be_sent_fail_only_their_call(service) -> None:
    with pytest.raises(InputError, match=r"notes\.txt is not UTF-8: save it as UTF-8\."):
        service.call(odd_failure)  # arrives as its base type with its sentence; nothing hangs
    with pytest.raises(ServiceError, match="cannot be sent back"):
        service.call(unsendable)
    assert service.call(counted, 2)["steps"] == 2  # the same child goes on serving


def test_close_lets_a_running_call_stop_at_its_next_step_and_refuses_new_calls() -> None:
    service = ChildService("The closing process")
    outcome: list[BaseException] = []

    def long_call() -> None:
        try:
            service.call(counted, 10_000, progress=lambda done, total: started.set())
        except BaseException as error:  # noqa: BLE001 - the test looks at what came back
            outcome.append(error)

    started = threading.Event()
    thread = threading.Thread(target=long_call)
    thread.start()
    assert started.wait(30)
    service.close()
    thread.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)  # cancelled between steps, not cut off
    assert "stopped after" in str(outcome[0])
    assert not service.running
    with pytest.raises(ServiceError, match="shut down"):
        service.call(counted, 1)


def test_messages_are_frozen_dataclasses_that_survive_a_pickle_round_trip() -> None:
    import dataclasses

    from workbench.core.child_messages import Call, Cancel, Progress, Raised, Returned, Stop

    messages = [Call(counted, (2,), {"x": 1}, 7), Cancel(7), Stop(), Progress(1, 2, 7), Returned([1, 2], 7)]
    for message in messages:
        assert pickle.loads(pickle.dumps(message)) == message
        with pytest.raises(dataclasses.FrozenInstanceError):
            message.call_id = 8  # type: ignore[misc]
    raised = pickle.loads(pickle.dumps(Raised(InputError("a.txt is empty."), 7)))
    assert isinstance(raised.error, InputError) and str(raised.error) == "a.txt is empty." and raised.call_id == 7
