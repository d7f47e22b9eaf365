"""`workbench` with no command on a machine that cannot open a window: one line naming the package, exit 1.

Qt aborts from C++ when its xcb platform plugin cannot load, so the app looks first (workbench.ui.app). These
tests need no broken system: the library loader is replaced, or DISPLAY is taken away.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from workbench.cli import main
from workbench.ui import app

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="Qt's xcb plugin is Linux's")
_X11 = {"DISPLAY": ":99"}  # what a desktop session or xvfb-run sets


def _refuse(*sonames: str):
    def load(soname: str) -> object:
        if soname in sonames:
            raise OSError(f"{soname}: cannot open shared object file: No such file or directory")
        return object()

    return load


@pytest.fixture
def x11_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment of a plain X11 desktop: Qt would take its xcb plugin."""
    for name in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "QT_PLUGIN_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM_PLUGIN_PATH", raising=False)
    monkeypatch.setenv("DISPLAY", ":99")


@linux_only
def test_a_missing_xcb_library_is_one_line_naming_the_package_and_exit_1(x11_session, monkeypatch, capsys) -> None:
    monkeypatch.setattr(app, "_load_library", _refuse("libxcb-cursor.so.0", "libxcb-icccm.so.4"))
    monkeypatch.setattr(app, "_run_window", lambda argv: pytest.fail("Qt must not start"))
    assert main([]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err == (
        "workbench: Qt cannot open a window: install libxcb-cursor0 libxcb-icccm4 (Debian/Ubuntu: sudo apt-get "
        "install libxcb-cursor0 libxcb-icccm4; missing libxcb-cursor.so.0, libxcb-icccm.so.4) — see docs/desktop.md\n"
    )


@linux_only
def test_the_probe_starts_qt_when_all_is_there_and_costs_little(x11_session, monkeypatch) -> None:
    started: list[object] = []
    monkeypatch.setattr(app, "_run_window", lambda argv: started.append(argv) or 0)
    monkeypatch.setattr(app, "_load_library", _refuse())
    assert main([]) == 0 and started == [None]
    monkeypatch.undo()
    begin = time.perf_counter()
    app.qt_platform_problem(_X11, "linux")  # the real plugin and loader: ~10 ms (it loads what Qt would load)
    assert time.perf_counter() - begin < 0.1


def test_nothing_is_probed_where_qt_would_not_use_xcb() -> None:
    load = _refuse("libxcb-cursor.so.0")
    plugin = app._pyside_xcb_plugin() or Path("/nonexistent/libqxcb.so")
    for environ, platform in [
        ({"QT_QPA_PLATFORM": "offscreen", **_X11}, "linux"),
        ({"QT_QPA_PLATFORM": "wayland;xcb", **_X11}, "linux"),
        ({"WAYLAND_DISPLAY": "wayland-0", **_X11}, "linux"),
        ({"XDG_SESSION_TYPE": "wayland"}, "linux"),
        (_X11, "darwin"),
        (_X11, "win32"),
    ]:
        assert app.qt_platform_problem(environ, platform, plugin, load) is None, environ


@linux_only
def test_an_explicit_xcb_with_options_is_probed() -> None:
    plugin = app._pyside_xcb_plugin()
    if plugin is None:
        pytest.skip("PySide6 without its xcb plugin")
    load = _refuse("libxkbcommon-x11.so.0")
    problem = app.qt_platform_problem({"QT_QPA_PLATFORM": "xcb:dpi=96", **_X11}, "linux", plugin, load)
    assert problem is not None and "sudo apt-get install libxkbcommon-x11-0;" in problem
    assert app.qt_platform_problem({"QT_QPA_PLATFORM": "xcb", **_X11}, "linux", plugin, _refuse()) is None


@linux_only
def test_no_display_is_one_line_too_from_a_real_process() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
    env.pop("QT_QPA_PLATFORM", None)
    done = subprocess.run([sys.executable, "-m", "workbench"], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("workbench: Qt cannot open a window: ") and done.stderr.count("\n") == 1
    assert "xvfb-run -a workbench" in done.stderr or "sudo apt-get install" in done.stderr


@linux_only
def test_the_xcb_plugin_s_libraries_are_read_from_its_elf_header(tmp_path: Path) -> None:
    plugin = app._pyside_xcb_plugin()
    if plugin is None:
        pytest.skip("PySide6 without its xcb plugin")
    needed = app.elf_needed(plugin)
    assert needed is not None and {"libQt6XcbQpa.so.6", "libxcb-cursor.so.0", "libxcb-icccm.so.4"} <= set(needed)
    # A missing library deep down (linked by PySide6's libQt6XcbQpa, not the plugin) is found too.
    assert app.missing_libraries(plugin, _refuse("libxcb-keysyms.so.1", "libdbus-1.so.3")) == [
        "libxcb-keysyms.so.1",
        "libdbus-1.so.3",
    ]
    (tmp_path / "not-elf.so").write_bytes(b"#!/bin/sh\n")
    assert app.elf_needed(tmp_path / "not-elf.so") is None and app.elf_needed(tmp_path / "absent.so") is None


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxcb-render-util.so.0", "libxcb-render-util0"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libX11-xcb.so.1", "libx11-xcb1"),
        ("libGL.so.1", "libgl1"),
        ("libEGL.so.1", "libegl1"),
        ("libdbus-1.so.3", "libdbus-1-3"),
        ("libglib-2.0.so.0", "libglib2.0-0"),
        ("libfontconfig.so.1", "libfontconfig1"),
    ],
)
def test_sonames_map_to_debian_packages(soname: str, package: str) -> None:
    assert app.debian_package(soname) == package


def test_the_loader_s_message_names_the_library_that_failed() -> None:
    error = OSError("libxcb-xkb.so.1: cannot open shared object file: No such file or directory")
    assert app._failed_soname(error) == "libxcb-xkb.so.1"
    assert app._failed_soname(ImportError("libEGL.so.1: cannot open shared object file: No such file")) == "libEGL.so.1"
    assert app._failed_soname(OSError("something else")) is None
