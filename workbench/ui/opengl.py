"""Whether the maps paint through OpenGL or Qt's software raster: software unless WORKBENCH_OPENGL=1 asks.

pyqtgraph paints a PlotWidget through a QOpenGLWidget viewport when asked (`useOpenGL`). What was measured here
(no GPU: Qt's offscreen platform has no OpenGL; under Xvfb, Mesa's llvmpipe renders it on the CPU) decided the
default: through llvmpipe a 300 000-point map opened with a 351 ms stall against 39 ms in software and zooms
stalled 45-60 ms against 16-34 ms, and QWidget.grab() (the plot's PNG export, every screenshot) came back blank.
The density image (ui/density_map.py) already keeps the software path within the 100 ms budget. So OpenGL is
opt-in: WORKBENCH_OPENGL=1 turns it on where a context can be made (to try a real GPU), and `opengl_renderer`
names the renderer a person would get (llvmpipe, SwiftShader: a CPU, not a GPU).
"""

from __future__ import annotations

import os
from functools import cache

NO_OPENGL_PLATFORMS = ("offscreen", "minimal", "vnc", "linuxfb")
GL_RENDERER = 0x1F01


@cache
def use_opengl() -> bool:
    """True when WORKBENCH_OPENGL=1 asks for OpenGL and this platform can make a context (asked once per process)."""
    if os.environ.get("WORKBENCH_OPENGL", "").strip() != "1":
        return False
    return opengl_renderer() is not None


def opengl_renderer() -> str | None:
    """The OpenGL renderer's name (e.g. "NVIDIA GeForce RTX 3060/PCIe/SSE2"), or None where there is no OpenGL."""
    from PySide6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext

    if QGuiApplication.instance() is None or QGuiApplication.platformName() in NO_OPENGL_PLATFORMS:
        return None
    context = QOpenGLContext()
    if not context.create():
        return None
    surface = QOffscreenSurface()
    surface.setFormat(context.format())
    surface.create()
    try:
        if not surface.isValid() or not context.makeCurrent(surface):
            return None
        return str(context.functions().glGetString(GL_RENDERER) or "")
    finally:
        context.doneCurrent()
        surface.destroy()
