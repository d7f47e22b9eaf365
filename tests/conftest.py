"""Suite-wide set-up: every test runs with its own WORKBENCH_HOME, offscreen Qt and the HF hub offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Tests never touch the developer's real keyring ("Remember key" must find no backend here).
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

REPO = Path(__file__).resolve().parents[1]
# Windows open on a laptop-sized screen (1366 × 768), the smallest the app is made for.
os.environ.setdefault("QT_QPA_PLATFORM", f"offscreen:configfile={REPO / 'tests' / 'screens' / '1366x768.json'}")
# One numba cache for the whole run (and its UMAP child processes), instead of one per test's WORKBENCH_HOME:
# umap's compilation costs ~20 s and is the same for every test.
os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO / ".numba-cache"))


@pytest.fixture(autouse=True)
def workbench_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private home for cache, data and config, so tests never share or touch the user's files."""
    home = tmp_path / "workbench-home"
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(scope="session")
def local_embedder():
    """One loaded all-MiniLM-L6-v2 for the whole session: loading costs seconds."""
    from workbench.core.embedders.local import LocalEmbedder

    embedder = LocalEmbedder()
    _ = embedder.dim
    return embedder


@pytest.fixture
def window(qtbot):
    """A real main window over a fresh AppState, TaskRunner and cache (ui and e2e tests)."""
    from workbench.core.cache import EmbeddingCache
    from workbench.ui.main_window import MainWindow
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    state, runner = AppState(), TaskRunner()
    main = MainWindow(state, runner, EmbeddingCache())
    qtbot.addWidget(main)
    main.show()
    yield main
    runner.cancel_all()
    runner.wait_for_done(10_000)
