"""The app's own log file and the crash report: what a person can send when something went wrong, with no secret.

The desktop app logs to a rotating file in the data dir (the CLI logs to stderr only, see cli.common). When the
app meets an error it did not expect, `write_crash_report` writes one self-contained text file: what failed,
where (the traceback), on what (versions, platform), and the last lines of the log. Both pass through
`secrets.scrub`, so a key that slipped into an exception message or a library's log line comes out as ***.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import platform
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from workbench import __version__
from workbench.core.paths import data_dir
from workbench.core.secrets import HTTP_LOGGERS, ScrubSecrets, scrub

LOG_BYTES, LOG_BACKUPS = 1_000_000, 3
LOG_TAIL_LINES = 200
QUIET_LOGGERS = (*HTTP_LOGGERS, "urllib3", "sentence_transformers", "numba")


def log_path() -> Path:
    folder = data_dir() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "workbench.log"


def crash_reports_dir() -> Path:
    folder = data_dir() / "crash-reports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def configure_app_logging(level: int = logging.INFO) -> logging.Handler:
    """Log INFO and up to `log_path()` (rotating, scrubbed); returns the handler so a caller can remove it."""
    handler = logging.handlers.RotatingFileHandler(
        log_path(), maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"))
    handler.addFilter(ScrubSecrets())
    handler.setLevel(level)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.WARNING, level))
    for name in QUIET_LOGGERS:  # they can echo request headers at DEBUG/INFO
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


def _log_tail(lines: int = LOG_TAIL_LINES) -> list[str]:
    path = log_path()
    if not path.exists():
        return []
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.readlines()[-lines:]


def write_crash_report(
    kind: type[BaseException],
    error: BaseException,
    trace: TracebackType | None,
    context: Sequence[str] = (),
) -> Path:
    """Write a crash report for an unexpected error; returns its path. Written whole or not at all."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = crash_reports_dir() / f"crash-{stamp}-{os.getpid()}.txt"
    lines = [
        f"Embedding Workbench {__version__} crash report, {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
        f"Python {sys.version.split()[0]} on {platform.platform()}",
        *context,
        "",
        "What failed:",
        "".join(traceback.format_exception(kind, error, trace)).rstrip(),
        "",
        f"Last {LOG_TAIL_LINES} lines of {log_path()}:",
        "".join(_log_tail()).rstrip(),
    ]
    temporary = path.with_suffix(".tmp")
    temporary.write_text(scrub("\n".join(lines)) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path
