"""Where the app keeps its files: the user's cache and data dirs (platformdirs), overridable for tests.

WORKBENCH_HOME, when set, puts every directory under one folder: the tests and CI use it so a run never touches
the real user dirs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import platformdirs

APP_NAME = "embedding-workbench"


def _app_dir(name: str, user_dir: Callable[[str], str]) -> Path:
    """WORKBENCH_HOME/`name` when WORKBENCH_HOME is set, else the platform's `user_dir`; made if missing."""
    home = os.environ.get("WORKBENCH_HOME")
    path = Path(home) / name if home else Path(user_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    return _app_dir("cache", platformdirs.user_cache_dir)


def data_dir() -> Path:
    return _app_dir("data", platformdirs.user_data_dir)


def config_dir() -> Path:
    """Settings that are not work: the window's size and dock arrangement."""
    return _app_dir("config", platformdirs.user_config_dir)


def default_milvus_uri() -> str:
    """The Milvus Lite database file used when no --uri is given."""
    return str(data_dir() / "milvus.db")
