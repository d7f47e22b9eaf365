"""The one visual encoding: which colour, marker and drawing layer each item gets for a colour-by choice.

Every view that draws items (the map, both Compare maps, legends, the cluster table) asks `encode` and draws
what it says, so a category looks the same everywhere. Colours are remembered per colour-by choice in a
`CategoryColours` (AppState holds one): a category keeps its colour when another category appears, and the
biggest categories met first get the first palette colours. Cluster noise is grey and drawn underneath;
queries are a big outlined star drawn on top of every document, and the legend names them "query" in every
colouring. Marker sizes, outlines and the look of the query lines live here too, so every map draws them alike.
Colours are hex strings, so this module stays free of Qt.
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.clusters import NOISE
from workbench.core.collector import collector_paused
from workbench.core.items import Item
from workbench.core.parents import parent_id_of

# Tableau 10, then ten picked one by one for the largest CIELAB distance to all before them and to the greys.
PALETTE = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#17becf",
    "#b5179e", "#4a6fe3", "#8db600", "#003c30", "#93003a", "#e7298a", "#ffbe7d", "#882d17", "#6a3d9a", "#a6761d",
)  # fmt: skip
NOISE_COLOUR = "#bdbdbd"
OTHER_COLOUR = "#5f6b7a"  # slate: not to be read as noise's light grey
NOISE_NAME, OTHER_NAME, MISSING_VALUE = "noise", "other", "—"
MAX_CATEGORIES = 20  # more distinct colours are not told apart: the rest are drawn as "other"
QUERY_COLOUR = "#2b2b2b"  # queries that have no value for the colour-by column: dark, apart from every category
DOCUMENT_SYMBOL, QUERY_SYMBOL = "o", "star"
DOCUMENT_NAME, QUERY_NAME = "document", "query"
LAYER_UNDER, LAYER_NORMAL, LAYER_TOP = 0, 1, 2
QUERY_LINE_COLOUR = "#1f1f1f"


@dataclass(frozen=True)
class Marker:
    """How one symbol is drawn: size in screen pixels, outline, and a layer that overrides the category's."""

    size: float
    outline: str | None = None  # hex colour; None: no outline
    outline_width: float = 0.0
    layer: int | None = None  # None: the layer of the item's category


MARKERS = {
    DOCUMENT_SYMBOL: Marker(9.0),
    QUERY_SYMBOL: Marker(22.0, "#ffffff", 1.5, LAYER_TOP),  # twice a dot, a white rim: stands out on any colour
}


@dataclass(frozen=True)
class LegendEntry:
    """One line of a map's legend: a marker in a colour (None: any colour, drawn hollow) and its name."""

    name: str
    colour: str | None
    symbol: str


def query_line_styles(k: int) -> list[tuple[float, float]]:
    """(opacity, width in pixels) of the line from a query to its rank-1 … rank-k document: strongest first.

    Opacity falls linearly from 0.9 to 0.35 and width from 2.5 to 1.2 px, so the nearest documents read at a
    glance and the far end of the top k stays visible without cluttering.
    """
    if k <= 0:
        return []
    steps = np.linspace(0.0, 1.0, k) if k > 1 else np.zeros(1)
    return [(round(0.9 - 0.55 * t, 3), round(2.5 - 1.3 * t, 3)) for t in steps.tolist()]


def colour_of_slot(slot: int) -> str:
    """The palette colour of a slot; beyond the palette, evenly spaced hues that do not repeat the palette."""
    if slot < len(PALETTE):
        return PALETTE[slot]
    hue = ((slot - len(PALETTE)) * 0.618_034) % 1.0  # golden-ratio steps keep neighbours apart
    red, green, blue = colorsys.hsv_to_rgb(hue, 0.55, 0.85)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


class CategoryColours:
    """Palette slots handed out per colour-by choice, never taken back while the workspace is open."""

    def __init__(self, slots: dict[str, dict[str, int]] | None = None) -> None:
        self._slots: dict[str, dict[str, int]] = {k: dict(v) for k, v in (slots or {}).items()}

    def colour(self, colour_by: str, value: str) -> str:
        """The colour of `value` under `colour_by`, giving it the next free slot the first time it is asked."""
        slots = self._slots.setdefault(colour_by, {})
        if value not in slots:
            slots[value] = len(slots)
        return colour_of_slot(slots[value])

    def to_rows(self) -> list[list[Any]]:
        """[colour_by, value, slot] rows: a list, so a workspace's secret filter (by dict key) never drops a value."""
        return [[colour_by, value, slot] for colour_by, slots in self._slots.items() for value, slot in slots.items()]

    @classmethod
    def from_rows(cls, rows: Any) -> CategoryColours:
        """Slots from saved rows; a malformed row is left out (it only costs that category its old colour)."""
        slots: dict[str, dict[str, int]] = {}
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, list) and len(row) == 3 and isinstance(row[2], int) and not isinstance(row[2], bool):
                slots.setdefault(str(row[0]), {})[str(row[1])] = row[2]
        return cls(slots)


@dataclass
class Encoding:
    """How to draw each row: `categories[row]` indexes `names`, `colours` and `layers`; `symbols` per row."""

    categories: np.ndarray
    names: list[str]
    colours: list[str]
    layers: list[int]  # LAYER_UNDER (noise), LAYER_NORMAL; queries are on LAYER_TOP through their marker
    symbols: np.ndarray
    legend: list[LegendEntry] = field(default_factory=list)  # what a map's legend lists, in order
    markers: dict[str, Marker] = field(default_factory=lambda: dict(MARKERS))

    def colour_of(self, name: str) -> str | None:
        return self.colours[self.names.index(name)] if name in self.names else None

    def marker(self, symbol: str) -> Marker:
        return self.markers.get(symbol, MARKERS[DOCUMENT_SYMBOL])

    def layer_of(self, category: int, symbol: str) -> int:
        """The drawing layer of a category's items with `symbol` (queries above every document)."""
        layer = self.marker(symbol).layer
        return self.layers[category] if layer is None else layer


def category_labels(
    items: Sequence[Item], kinds: np.ndarray, colour_by: str, clusters: np.ndarray | None, cluster_names: dict
) -> tuple[np.ndarray, dict[str, str]]:
    """Each row's category key for `colour_by`, and the shown name of each key (cluster keys are ids)."""
    if colour_by == "cluster" and clusters is not None and len(clusters) == len(items):
        keys = np.asarray(clusters).astype(str)
        shown = {str(c): (NOISE_NAME if c == NOISE else cluster_names.get(c, f"cluster {c}"))
                 for c in np.unique(clusters).tolist()}  # fmt: skip
        return keys, shown
    if colour_by.startswith("meta:"):
        column = colour_by[5:]
        if column == "parent_id":  # a document shown as one point is its own parent: the colour stays its own
            return np.array([parent_id_of(item) for item in items], dtype=object), {}
        keys = np.array([str(item.metadata.get(column, MISSING_VALUE)) for item in items], dtype=object)
        return keys, {}
    keys = np.where(np.asarray(kinds) == "query", "queries", "documents")
    return keys, {"documents": DOCUMENT_NAME, "queries": QUERY_NAME}


def count_keys(keys: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(distinct keys as text; each row's index in them; each key's count), as np.unique(return_inverse=True,
    return_counts=True) answers for text; `encode` ranks the categories itself, so the order of the keys is free.

    Written for the GIL: encode runs on a worker for a million items, and a C call that holds the GIL that long
    freezes the GUI thread. Fixed-width text (kinds, cluster ids) goes to np.unique, whose sort releases the GIL
    (114 ms, 4 ms worst GUI stall measured). Python objects (metadata values) would need astype(str) and a sort
    of objects, two C calls holding the GIL (90 + 240 ms), so they are counted by a Python loop over a dict in
    first-seen order (130 ms, which lets the GUI thread in every millisecond).
    """
    if keys.dtype != object:
        values, codes, counts = np.unique(keys.astype(str), return_inverse=True, return_counts=True)
        return [str(value) for value in values.tolist()], codes.reshape(-1), counts
    index: dict[str, int] = {}
    codes = np.fromiter((index.setdefault(str(key), len(index)) for key in keys.tolist()), np.int64, len(keys))
    return list(index), codes, np.bincount(codes, minlength=len(index))


@collector_paused()  # a million of them: see core/collector.py
def encode(
    items: Sequence[Item],
    kinds: np.ndarray,
    colour_by: str,
    colours: CategoryColours,
    clusters: np.ndarray | None = None,
    cluster_names: dict[int, str] | None = None,
) -> Encoding:
    """The encoding of `items` (with their `kinds`) for a colour-by choice; new categories get their colours here.

    Categories are listed biggest first (noise and "other" last); beyond MAX_CATEGORIES the smallest share
    "other". Cluster noise is grey on the layer under the rest. Queries are big stars drawn on top; a query with
    no value for a metadata colouring is dark (QUERY_COLOUR), not a "—" category. The legend lists each
    category that documents are drawn in, then one "query" star whatever the colouring.
    """
    colour_by = colour_by if colour_by in ("kind", "cluster") or colour_by.startswith("meta:") else "kind"
    if colour_by == "cluster" and clusters is None:
        colour_by = "kind"
    keys, shown = category_labels(items, kinds, colour_by, clusters, cluster_names or {})
    queries = np.asarray(kinds) == "query"
    plain_queries = queries & (keys == MISSING_VALUE) if colour_by.startswith("meta:") else np.zeros_like(queries)
    values, row_codes, counts = count_keys(keys[~plain_queries])
    is_noise = np.array([colour_by == "cluster" and v == str(NOISE) for v in values], dtype=bool)
    ranking = sorted(range(len(values)), key=lambda i: (bool(is_noise[i]), -counts[i], str(values[i])))
    kept = [i for i in ranking if not is_noise[i]][:MAX_CATEGORIES]
    overflow = [i for i in ranking if not is_noise[i]][MAX_CATEGORIES:]
    names, palette, layers = [], [], []
    category_of_value = np.zeros(len(values), dtype=np.int64)
    for value_index in kept:
        key = str(values[value_index])
        category_of_value[value_index] = len(names)
        names.append(shown.get(key, key))
        palette.append(colours.colour(colour_by, key))
        layers.append(LAYER_NORMAL)
    if overflow:
        category_of_value[overflow] = len(names)
        names.append(OTHER_NAME)
        palette.append(OTHER_COLOUR)
        layers.append(LAYER_NORMAL)
    if is_noise.any():
        category_of_value[np.flatnonzero(is_noise)] = len(names)
        names.append(NOISE_NAME)
        palette.append(NOISE_COLOUR)
        layers.append(LAYER_UNDER)
    categories = np.empty(len(keys), dtype=np.int64)
    categories[~plain_queries] = category_of_value[row_codes.reshape(-1)]
    if plain_queries.any():
        categories[plain_queries] = len(names)
        names.append(QUERY_NAME)
        palette.append(QUERY_COLOUR)
        layers.append(LAYER_NORMAL)
    symbols = np.where(queries, QUERY_SYMBOL, DOCUMENT_SYMBOL)
    return Encoding(categories, names, palette, layers, symbols, _legend(categories, queries, names, palette))


def _legend(categories: np.ndarray, queries: np.ndarray, names: list[str], colours: list[str]) -> list[LegendEntry]:
    """A dot per category that documents are drawn in, then one "query" star: in their colour when they share one."""
    with_documents = np.zeros(len(names), dtype=bool)
    with_documents[categories[~queries]] = True
    legend = [LegendEntry(names[c], colours[c], DOCUMENT_SYMBOL) for c in np.flatnonzero(with_documents).tolist()]
    query_categories = np.unique(categories[queries]).tolist()
    if query_categories:
        colour = colours[query_categories[0]] if len(query_categories) == 1 else None
        legend.append(LegendEntry(QUERY_NAME, colour, QUERY_SYMBOL))
    return legend
