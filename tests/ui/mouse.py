"""Mouse input for widget tests that Qt delivers the same way every time."""

from __future__ import annotations


def move_mouse(viewport, pos) -> None:
    """Deliver a mouse move to a view's viewport now, as Qt dispatches a real one.

    QTest.mouseMove goes through the platform layer, which drops a move that follows another within a few hundred
    milliseconds (an earlier test's last move can swallow this test's first): hover tests would flake.
    """
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    local = QPointF(pos)
    event = QMouseEvent(
        QMouseEvent.Type.MouseMove,
        local,
        QPointF(viewport.mapToGlobal(local.toPoint())),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, event)
