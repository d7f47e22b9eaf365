"""Start the desktop app: one QApplication, one AppState, one TaskRunner, one main window.

Only this module's caller (`workbench` with no sub-command) imports Qt; the CLI never reaches here. Before Qt is
imported, `qt_platform_problem` checks that Qt can open a window here: when its xcb platform plugin cannot load
(a system library missing) or there is no display, Qt aborts the process from C++ (qFatal) with a message that
names the wrong package, so we look first and print one line that names the missing Debian/Ubuntu package.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import struct
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

ICON = Path(__file__).resolve().parents[1] / "resources" / "icon.svg"
EXIT_NO_WINDOW = 1  # the system lacks something, as when a service fails (the CLI's exit codes)
DESKTOP_DOC = "docs/desktop.md"
# Sonames whose Debian/Ubuntu package does not follow the usual rule (libfoo.so.1 → libfoo1, libfoo-2.so.0 →
# libfoo-2-0); the rule covers libxcb-*, libxkbcommon*, libX11*, libEGL, libGL, libfontconfig, libdbus-1
# (checked against `dpkg -S` on Debian 12 for every library PySide6 6.11's xcb plugin reaches).
_DEBIAN_PACKAGES = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libz.so.1": "zlib1g",
    "libgcc_s.so.1": "libgcc-s1",
    **{name: "libc6" for name in ("libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "ld-linux-x86-64.so.2")},
}
_ELF_NEEDED, _ELF_DYNAMIC = 1, 6  # DT_NEEDED, SHT_DYNAMIC


def run_app(argv: list[str] | None = None) -> int:
    problem = qt_platform_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_NO_WINDOW
    return _run_window(argv)


def _run_window(argv: list[str] | None) -> int:
    try:
        from PySide6.QtGui import QIcon
        from PySide6.QtWidgets import QApplication
    except ImportError as error:  # a library Qt itself links is missing (any platform): say which, in one line
        missing = _failed_soname(error)
        if missing is None:
            raise
        print(_missing_libraries_line([missing]), file=sys.stderr)
        return EXIT_NO_WINDOW

    from workbench.core.cache import EmbeddingCache
    from workbench.core.collector import keep_out_of_collector_scans
    from workbench.core.crash_report import configure_app_logging
    from workbench.core.projection import warm_up_umap_in_subprocess
    from workbench.ui.main_window import MainWindow
    from workbench.ui.panels.milvus_panel import MILVUS_PROCESS
    from workbench.ui.state import AppState
    from workbench.ui.tasks import TaskRunner

    configure_app_logging()  # a rotating, scrubbed log in the data dir; its tail goes into crash reports
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Embedding Workbench")
    app.setOrganizationName("embedding-workbench")
    app.setWindowIcon(QIcon(str(ICON)))
    state = AppState()
    runner = TaskRunner()
    window = MainWindow(state, runner, EmbeddingCache())
    window.crash_handler.install()
    window.show()
    keep_out_of_collector_scans()  # Qt, pyqtgraph and numpy: what start-up built stays for the session
    # umap's import and numba compile cost ~20 s cold: pay them in a child process while the person pastes texts.
    warm_up_umap_in_subprocess()
    code = int(app.exec())
    MILVUS_PROCESS.close()  # after the window's close waited for its tasks: nothing is being written now
    return code


# -- can Qt open a window here? ---------------------------------------------------------------------------------
def qt_platform_problem(
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    plugin: Path | None = None,
    load: Callable[[str], object] | None = None,
) -> str | None:
    """One line saying why Qt cannot open a window here, or None when it can (or when we cannot tell).

    Looks only where Qt would use its xcb plugin (Linux, QT_QPA_PLATFORM unset or `xcb`, no Wayland session):
    every library the plugin links, through PySide6's own Qt libraries, must load (`load`, ctypes.CDLL: the
    libraries Qt is about to load anyway), and DISPLAY must be set. ~10 ms when all is well. The arguments
    default to this process's environment, platform, PySide6's plugin and the dynamic loader.
    """
    environ = os.environ if environ is None else environ
    if (platform or sys.platform) != "linux" or not _qt_uses_xcb(environ):
        return None
    if plugin is None and "QT_QPA_PLATFORM_PLUGIN_PATH" not in environ and "QT_PLUGIN_PATH" not in environ:
        plugin = _pyside_xcb_plugin()
    missing = missing_libraries(plugin, load or _load_library) if plugin is not None else []
    if missing:
        return _missing_libraries_line(missing)
    if not environ.get("DISPLAY"):
        return (
            "workbench: Qt cannot open a window: no X display (DISPLAY is not set); start it from a desktop "
            f"session, or without one under Xvfb: xvfb-run -a workbench — see {DESKTOP_DOC}"
        )
    return None


def _qt_uses_xcb(environ: Mapping[str, str]) -> bool:
    """True where Qt would take the xcb plugin and nothing else (a list like `wayland;xcb` falls back: not ours)."""
    requested = environ.get("QT_QPA_PLATFORM", "").strip()
    if requested:
        return requested.split(":", 1)[0].strip() == "xcb" and ";" not in requested
    return not environ.get("WAYLAND_DISPLAY") and environ.get("XDG_SESSION_TYPE", "").lower() != "wayland"


def _pyside_xcb_plugin() -> Path | None:
    spec = importlib.util.find_spec("PySide6")  # finds the package without importing it (that would load Qt)
    if spec is None or not spec.submodule_search_locations:
        return None
    plugin = Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def _load_library(soname: str) -> object:
    return ctypes.CDLL(soname)


def missing_libraries(plugin: Path, load: Callable[[str], object] = _load_library) -> list[str]:
    """Sonames that the plugin, or the Qt libraries it links (found beside it in Qt/lib), need and cannot load."""
    qt_lib = plugin.parents[2] / "lib"  # PySide6/Qt/plugins/platforms/libqxcb.so → PySide6/Qt/lib
    missing: list[str] = []
    seen: set[str] = set()
    files = [plugin]
    while files:
        for soname in elf_needed(files.pop()) or ():
            if soname in seen:
                continue
            seen.add(soname)
            if (qt_lib / soname).is_file():  # one of PySide6's own: found through its RUNPATH; look inside it
                files.append(qt_lib / soname)
                continue
            try:
                load(soname)
            except OSError as error:  # the message names the library that failed: this one or one it links
                failed = _failed_soname(error) or soname
                if failed not in missing:
                    missing.append(failed)
    return missing


def elf_needed(path: Path) -> list[str] | None:
    """The DT_NEEDED sonames of a 64-bit little-endian ELF file (what Linux wheels hold); None for anything else.

    Reads the header, the section table and two sections (a few KB), not the file.
    """
    try:
        with path.open("rb") as file:
            header = file.read(64)
            if header[:4] != b"\x7fELF" or header[4:6] != b"\x02\x01":
                return None
            (table_offset,) = struct.unpack_from("<Q", header, 0x28)
            entry_size, count = struct.unpack_from("<HH", header, 0x3A)
            file.seek(table_offset)
            table = file.read(entry_size * count)
            # name, type, flags, addr, offset, size, link, info, addralign, entsize
            sections = [struct.unpack_from("<IIQQQQIIQQ", table, i * entry_size) for i in range(count)]
            dynamic = next((s for s in sections if s[1] == _ELF_DYNAMIC), None)
            if dynamic is None:
                return []
            file.seek(dynamic[4])
            entries = file.read(dynamic[5])
            strings_section = sections[dynamic[6]]
            file.seek(strings_section[4])
            strings = file.read(strings_section[5])
    except (OSError, struct.error, IndexError):
        return None
    needed = []
    for offset in range(0, len(entries) - 15, 16):
        tag, value = struct.unpack_from("<qQ", entries, offset)
        if tag == 0:
            break
        if tag == _ELF_NEEDED:
            needed.append(strings[value : strings.find(b"\0", value)].decode("ascii", "replace"))
    return needed


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that holds a library: libxcb-cursor.so.0 → libxcb-cursor0."""
    if soname in _DEBIAN_PACKAGES:
        return _DEBIAN_PACKAGES[soname]
    match = re.fullmatch(r"lib(.+)\.so\.(\d+)", soname)
    if match is None:
        return soname
    stem, major = match.group(1).lower(), match.group(2)
    return f"lib{stem}{'-' if stem[-1].isdigit() else ''}{major}"


def _failed_soname(error: BaseException) -> str | None:
    """`libfoo.so.1` from the loader's "libfoo.so.1: cannot open shared object file: …"."""
    match = re.search(r"([\w.+-]+\.so(?:\.\d+)*): cannot open shared object file", str(error))
    return match.group(1) if match else None


def _missing_libraries_line(sonames: list[str]) -> str:
    packages = " ".join(dict.fromkeys(debian_package(soname) for soname in sonames))
    return (
        f"workbench: Qt cannot open a window: install {packages} (Debian/Ubuntu: sudo apt-get install {packages}; "
        f"missing {', '.join(sonames)}) — see {DESKTOP_DOC}"
    )
