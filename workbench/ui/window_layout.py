"""The main window's size and dock arrangement: a default that fits the screen it opens on, the person's own
arrangement remembered between runs, and View ▸ Reset layout back to the default.

A screen is 1366 × 768 or 1920 × 1080: the window opens at most as big as the screen's free area, centred, with
the map in the middle, the inputs on the left (about a quarter of the width) and the tabbed views on the right
(about a third). The arrangement lives in a small settings file in the config dir (QSettings, INI format), not in
the platform's registry, so WORKBENCH_HOME keeps tests and CI away from a user's real settings.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

from workbench.core.paths import config_dir

DEFAULT_SIZE = (1600, 1000)
LEFT_SHARE, RIGHT_SHARE = 0.24, 0.36


class WindowLayout:
    """Sizes `window` for its screen and remembers how the person arranged its docks."""

    def __init__(self, window: QMainWindow, left: list[QDockWidget], right: list[QDockWidget]) -> None:
        self.window, self.left, self.right = window, left, right
        self.default_state = window.saveState()  # the arrangement as built, before any restore

    @staticmethod
    def settings() -> QSettings:
        return QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)

    def fit_to_screen(self) -> None:
        """At most the default size and at most the screen's free area, centred on that screen."""
        screen = self.window.screen() or self.window.window().screen()
        free = screen.availableGeometry() if screen else None
        width, height = DEFAULT_SIZE
        if free is not None:
            frame = 30  # title bar and borders drawn by the window manager
            width, height = min(width, free.width()), min(height, free.height() - frame)
        self.window.resize(width, height)
        if free is not None:
            self.window.move(free.x() + (free.width() - width) // 2, free.y() + max(0, (free.height() - height) // 2))

    def apply_default_sizes(self) -> None:
        """The inputs about a quarter of the width, the tabbed views about a third; the map takes the rest. Down the
        left, the first dock (the Model panel, which scrolls) gets the height its rows ask for, up to half of what
        the left docks share, and the others share the rest: pasted texts have room, and the model's rows are not
        hidden."""
        width, height = self.window.width(), self.window.height()
        horizontal = Qt.Orientation.Horizontal
        self.window.resizeDocks(self.left[:1], [max(260, int(width * LEFT_SHARE))], horizontal)
        self.window.resizeDocks(self.right[:1], [max(300, int(width * RIGHT_SHARE))], horizontal)
        first = self.left[0].widget()
        inner = first.widget() if hasattr(first, "widget") else first  # a scroll area's panel, or the panel
        # the docks share the window less its menu, tool and status bars: sizes asked of the whole window's height
        # were scaled down to fit, so the first dock got ~7% less than its rows ask for (a scroll on a laptop)
        column = sum(dock.height() for dock in self.left) or height
        title = max(24, self.left[0].height() - first.height())  # the dock's title bar
        wanted = min(inner.sizeHint().height() + title, column // 2)
        rest = max(120, (column - wanted) // max(1, len(self.left) - 1))
        self.window.resizeDocks(self.left, [wanted, *[rest] * (len(self.left) - 1)], Qt.Orientation.Vertical)

    def restore(self) -> bool:
        """The arrangement of the last run, if there is one that still fits this window (True when restored)."""
        settings = self.settings()
        geometry, state = settings.value("geometry"), settings.value("state")
        if not isinstance(geometry, QByteArray) or not isinstance(state, QByteArray):
            return False
        return self.window.restoreGeometry(geometry) and self.window.restoreState(state)

    def save(self) -> None:
        settings = self.settings()
        settings.setValue("geometry", self.window.saveGeometry())
        settings.setValue("state", self.window.saveState())
        settings.sync()

    def reset(self) -> None:
        """Every dock back where it started, shown, at the default sizes; the remembered arrangement is dropped."""
        self.window.restoreState(self.default_state)
        for dock in [*self.left, *self.right]:
            dock.show()
        self.right[0].raise_()
        self.fit_to_screen()
        self.apply_default_sizes()
        settings = self.settings()
        settings.clear()
        settings.sync()
