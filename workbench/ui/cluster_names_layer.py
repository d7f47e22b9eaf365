"""Cluster names written on the map at each cluster's centre: the clusters' names zoomed out, their sub-clusters'
names zoomed in, so the map reads like an atlas instead of only through its legend.

The layer only draws what AppState holds (clusters, their groups and names, the layout) and follows the view's
zoom: when the visible part of the map is at least `FINE_ZOOM` times smaller than the whole layout (in area) it
switches from cluster names to sub-cluster names. Without sub-clusters (one level) cluster names show at every
zoom. Where
a name goes is `core.clusters.label_positions` (a member near the cluster's median, so it sits on its points).
Names are pyqtgraph TextItems with a white halo box, drawn above the points and under the hover text; they
ignore the mouse, so hover, clicks and drags still reach the points under them. On the map a name shows its first
two terms (the legend and the table have it whole), and where two names would overlap on screen the bigger
cluster's wins and the other hides until a zoom makes room (checked on every zoom or pan: a few dozen rectangles).

Documents that were noise and were given to their nearest cluster (the editor's "noise → nearest cluster") carry a
grey ring while the map is coloured by cluster, so the map says which members are assigned rather than found.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject

from workbench.core.clusters import label_positions
from workbench.ui.state import AppState

FINE_ZOOM = 2.5  # whole layout area / visible area from which sub-cluster names replace cluster names
NAME_CHARS = 28
NAMES_Z = 8.0  # over every point layer and the query lines, under the hover text (10)
ASSIGNED_Z = 7.5  # the rings of assigned documents: over the points, under the names
ASSIGNED_RING = ("#7a7a7a", 1.2, 14)  # colour, pen width and size in pixels: a ring just outside a document's dot
COARSE, FINE = "clusters", "sub-clusters"


MAP_TERMS = 2


def cut(name: str, limit: int = NAME_CHARS) -> str:
    """A name as the map writes it: its first MAP_TERMS terms, at most `limit` characters."""
    name = " · ".join(name.split(" · ")[:MAP_TERMS])
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


class ClusterNamesLayer(QObject):
    """Names over a ScatterView's plot, kept in step with AppState and the zoom."""

    def __init__(self, state: AppState, scatter, parent: QObject | None = None) -> None:
        super().__init__(parent or scatter)
        self.state, self.scatter = state, scatter
        self.items: list[pg.TextItem] = []
        self.level = ""  # COARSE, FINE, or "" when nothing is shown
        colour, width, size = ASSIGNED_RING
        self.assigned_rings = pg.ScatterPlotItem(pxMode=True, size=size, pen=pg.mkPen(colour, width=width),
                                                 brush=None, symbol="o")  # fmt: skip
        self.assigned_rings.setZValue(ASSIGNED_Z)
        self.assigned_rings.setAcceptedMouseButtons(pg.QtCore.Qt.MouseButton.NoButton)
        scatter.plot.addItem(self.assigned_rings, ignoreBounds=True)
        state.clusters_changed.connect(self.refresh)
        state.projection_changed.connect(self.refresh)
        state.view_changed.connect(
            lambda changed: self.refresh() if changed & {"cluster_names_on_map", "colour_by"} else None
        )
        scatter.viewbox.sigRangeChanged.connect(self._zoomed)

    def shown_names(self) -> list[str]:
        """The names written on the map now, hidden ones included (what a test can check)."""
        return [item.textItem.toPlainText() for item in self.items]

    def visible_names(self) -> list[str]:
        """The names a person can read now: those not hidden to make room for a bigger cluster's."""
        return [item.textItem.toPlainText() for item in self.items if item.isVisible()]

    def wanted_level(self) -> str:
        state = self.state
        if (state.clusters is None or state.projection is None or not state.view.cluster_names_on_map
                or len(state.clusters) != len(state.projection)):  # fmt: skip
            return ""
        if state.subclusters is None:
            return COARSE
        xy = state.projection
        whole = np.maximum(xy.max(axis=0) - xy.min(axis=0), 1e-9)
        (x0, x1), (y0, y1) = self.scatter.viewbox.viewRange()
        visible = max((x1 - x0) * (y1 - y0), 1e-12)
        return FINE if whole[0] * whole[1] / visible >= FINE_ZOOM else COARSE

    def _zoomed(self, *_: object) -> None:
        if self.wanted_level() != self.level:
            self.refresh()
        else:
            self.make_room()

    def make_room(self) -> None:
        """Show names biggest cluster first; hide one whose box on screen overlaps a name already shown.

        A name whose point lies near the left or right edge of the view is written beside the point, inward,
        rather than centred on it, so it is not cut off by the edge; one whose point is out of view is hidden.
        """
        taken: list = []
        viewbox = self.scatter.viewbox
        view = viewbox.mapRectToScene(viewbox.boundingRect())
        for item in self.items:  # in order of size, largest first
            size = item.boundingRect().size()  # TextItem ignores zoom: its box is in screen pixels
            at = viewbox.mapViewToScene(item.pos())
            width, height = size.width(), size.height()
            left = at.x() - width / 2
            if left < view.left():
                anchor, left = (0.0, 0.5), at.x()
            elif left + width > view.right():
                anchor, left = (1.0, 0.5), at.x() - width
            else:
                anchor = (0.5, 0.5)
            item.setAnchor(anchor)
            box = pg.QtCore.QRectF(left, at.y() - height / 2, width, height)
            free = view.contains(at) and not any(box.intersects(other) for other in taken)
            item.setVisible(free)
            if free:
                taken.append(box)

    def assigned_rows(self) -> np.ndarray:
        """Rows ringed as assigned from noise now (none unless the map is coloured by cluster)."""
        state = self.state
        assigned = state.cluster_assigned
        if (assigned is None or state.projection is None or state.view.colour_by != "cluster"
                or len(assigned) != len(state.projection)):  # fmt: skip
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(assigned)

    def refresh(self, *_: object) -> None:
        rows = self.assigned_rows()
        self.assigned_rings.setData(pos=self.state.projection[rows] if len(rows) else np.zeros((0, 2)))
        for item in self.items:
            self.scatter.plot.removeItem(item)
        self.items = []
        self.level = self.wanted_level()
        if not self.level:
            return
        state = self.state
        xy, labels = state.projection, state.clusters
        documents = state.embedding.kinds != "query"  # names sit among the documents the clusters were found in
        names = state.cluster_names
        if self.level == FINE:
            labels, names = state.subclusters, state.subcluster_names
        positions = label_positions(xy[documents], labels[documents])
        sizes = {key: int((labels[documents] == key).sum()) for key in positions}
        for key in sorted(positions, key=lambda k: (-sizes[k], k)):
            x, y = positions[key]
            item = pg.TextItem(cut(names.get(key, f"cluster {key}")), color="#1a1a1a", anchor=(0.5, 0.5),
                               fill=pg.mkBrush(255, 255, 255, 200), border=pg.mkPen(None))  # fmt: skip
            font = item.textItem.font()
            font.setBold(True)
            font.setPointSizeF(font.pointSizeF() * (1.15 if self.level == COARSE else 1.0))
            item.setFont(font)
            item.setZValue(NAMES_Z)
            item.setAcceptedMouseButtons(pg.QtCore.Qt.MouseButton.NoButton)
            item.setAcceptHoverEvents(False)
            item.setPos(x, y)
            self.scatter.plot.addItem(item, ignoreBounds=True)
            self.items.append(item)
        self.make_room()
