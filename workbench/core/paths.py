"""Where the app keeps its files: the user's cache and data dirs (platformdirs), overridable for tests.

WORKBENCH_HOME, when set, puts every directory under one folder: the tests and CI use it so a run never touches
the real user dirs.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "embedding-workbench"


def _root_override() -> Path | None:
    home = os.environ.get("WORKBENCH_HOME")
    return Path(home) if home else None


def cache_dir() -> Path:
    root = _root_override()
    path = root / "cache" if root else Path(platformdirs.user_cache_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    root = _root_override()
    path = root / "data" if root else Path(platformdirs.user_data_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """Settings that are not work: the window's size and dock arrangement."""
    root = _root_override()
    path = root / "config" if root else Path(platformdirs.user_config_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_milvus_uri() -> str:
    """The Milvus Lite database file used when no --uri is given."""
    return str(data_dir() / "milvus.db")
