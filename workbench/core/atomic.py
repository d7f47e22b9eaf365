"""Files written whole or not at all: a temporary name beside the target, synced, then renamed over it.

The temporary name is unique per writer (`.NAME.PID.RANDOM.partial`), so two processes, or two threads, writing
the same target never share one: the last rename wins and the file left is always one writer's complete file. A
failed or cancelled write deletes its temporary file; one left by a killed process is hidden, and removed by the
next write in the same folder once it is a day old (a younger one may belong to a writer still at work).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STALE_AFTER_S = 86_400
_OURS = re.compile(r"^\..+\.\d+\.[0-9a-f]+\.partial$")


def temporary_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")


def remove_stale_partials(folder: Path, older_than_s: float = STALE_AFTER_S) -> None:
    """Delete our temporary files in `folder` last touched more than `older_than_s` ago (best effort)."""
    limit = time.time() - older_than_s
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if _OURS.match(entry.name) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    if entry.stat(follow_symlinks=False).st_mtime < limit:
                        os.unlink(entry.path)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path`; on a clean exit it is synced and renamed over `path`, else deleted."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(path.parent)
    tmp = temporary_name(path)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
