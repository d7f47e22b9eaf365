"""The one visual encoding: which colour, marker and drawing layer each item gets for a colour-by choice.

Every view that draws items (the map, both Compare maps, legends, the cluster table) asks `encode` and draws
what it says, so a category looks the same everywhere. Colours are remembered per colour-by choice in a
`CategoryColours` (AppState holds one): a category keeps its colour when another category appears, and the
biggest categories met first get the first palette colours. Cluster noise is grey and drawn underneath;
queries are a star drawn on top. Colours are hex strings, so this module stays free of Qt.
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.clusters import NOISE
from workbench.core.items import Item

PALETTE = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#17becf",
    "#1f77b4", "#bcbd22", "#8c564b", "#e377c2", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e", "#393b79", "#637939",
)  # fmt: skip
NOISE_COLOUR = "#bdbdbd"
OTHER_COLOUR = "#8d8d8d"
NOISE_NAME, OTHER_NAME, MISSING_VALUE = "noise", "other", "—"
MAX_CATEGORIES = 20  # more distinct colours are not told apart: the rest are drawn as "other"
DOCUMENT_SYMBOL, QUERY_SYMBOL = "o", "star"
LAYER_UNDER, LAYER_NORMAL, LAYER_TOP = 0, 1, 2


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
    layers: list[int]  # LAYER_UNDER (noise), LAYER_NORMAL; queries are on LAYER_TOP through their symbol
    symbols: np.ndarray
    symbol_names: dict[str, str] = field(default_factory=dict)  # legend entries for the markers

    def colour_of(self, name: str) -> str | None:
        return self.colours[self.names.index(name)] if name in self.names else None


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
        keys = np.array([str(item.metadata.get(column, MISSING_VALUE)) for item in items], dtype=object)
        return keys, {}
    keys = np.where(np.asarray(kinds) == "query", "queries", "documents")
    return keys, {}


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
    "other". Cluster noise is grey on the layer under the rest. Queries are stars, drawn on top; their legend
    entry says "query" whatever the colouring.
    """
    colour_by = colour_by if colour_by in ("kind", "cluster") or colour_by.startswith("meta:") else "kind"
    if colour_by == "cluster" and clusters is None:
        colour_by = "kind"
    keys, shown = category_labels(items, kinds, colour_by, clusters, cluster_names or {})
    values, row_codes, counts = np.unique(keys.astype(str), return_inverse=True, return_counts=True)
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
    queries = np.asarray(kinds) == "query"
    symbols = np.where(queries, QUERY_SYMBOL, DOCUMENT_SYMBOL)
    symbol_names = {} if colour_by == "kind" or not queries.any() else {DOCUMENT_SYMBOL: "document",
                                                                       QUERY_SYMBOL: "query"}  # fmt: skip
    return Encoding(category_of_value[row_codes.reshape(-1)], names, palette, layers, symbols, symbol_names)
