"""The two callables every long core function takes, so CLI, UI and tests can observe and stop it.

`progress(done, total)` is called after each unit of work (a batch); `cancelled()` is polled between units and
a True answer makes the function raise `Cancelled` after keeping what it finished.
"""

from __future__ import annotations

from collections.abc import Callable

from workbench.core.errors import Cancelled

ProgressFn = Callable[[int, int], None]
CancelledFn = Callable[[], bool]


def no_progress(done: int, total: int) -> None:
    """Default progress sink: ignores reports."""


def never_cancelled() -> bool:
    """Default cancel flag: work always runs to the end."""
    return False


def raise_if_cancelled(cancelled: CancelledFn) -> None:
    """Raise `Cancelled` when the caller asked to stop; call it between batches."""
    if cancelled():
        raise Cancelled()
