"""Files written whole or not at all: a temporary name beside the target, synced, then renamed over it.

The temporary name is unique per writer (`.NAME.PID.RANDOM.partial`), so two processes, or two threads, writing
the same target never share one: the last rename wins and the file left is always one writer's complete file. A
failed or cancelled write deletes its temporary file; one left by a killed process is hidden, and removed by the
next write in the same folder: at once when the process named in it is gone (after a minute's grace, for a
writer on another machine sharing the folder), else once it is a day old.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STALE_AFTER_S = 86_400
DEAD_WRITER_GRACE_S = 60
_OURS = re.compile(r"^\..+\.(\d+)\.[0-9a-f]+\.partial$")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # os.kill(pid, 0) would end the process there; keep it until it is a day old
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def temporary_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")


def remove_stale_partials(folder: Path, older_than_s: float = STALE_AFTER_S) -> None:
    """Delete our temporary files in `folder` whose writer is gone, or last touched more than `older_than_s` ago
    (best effort)."""
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            ours = _OURS.match(entry.name)
            if not ours or not entry.is_file(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError):
                age = now - entry.stat(follow_symlinks=False).st_mtime
                if age > older_than_s or (age > DEAD_WRITER_GRACE_S and not _pid_alive(int(ours.group(1)))):
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
