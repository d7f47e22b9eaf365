"""Fixtures for widget tests: a real main window over a fresh AppState, TaskRunner and cache."""

from __future__ import annotations

import pytest

from workbench.core.cache import EmbeddingCache


@pytest.fixture
def window(qtbot):
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
