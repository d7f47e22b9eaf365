"""The one visual encoding: stable colours per category, noise grey and underneath, queries stars on top."""

from __future__ import annotations

import numpy as np

from workbench.core.encoding import (
    LAYER_NORMAL,
    LAYER_UNDER,
    MAX_CATEGORIES,
    NOISE_COLOUR,
    PALETTE,
    CategoryColours,
    colour_of_slot,
    encode,
)
from workbench.core.items import Item


def _items(topics: list[str]) -> tuple[list[Item], np.ndarray]:
    items = [Item.create(f"text {i}", "document", {"topic": t}) for i, t in enumerate(topics)]
    items.append(Item.create("a question", "query", {"topic": topics[0]}))
    return items, np.array([i.kind for i in items])


def test_biggest_category_first_and_a_new_category_never_moves_the_old_colours() -> None:
    colours = CategoryColours()
    items, kinds = _items(["b", "a", "a", "c", "a", "b"])
    first = encode(items, kinds, "meta:topic", colours)
    assert first.names == ["a", "b", "c"]  # by size, ties by name
    assert first.colours == list(PALETTE[:3])
    before = dict(zip(first.names, first.colours, strict=True))
    grown, grown_kinds = _items(["new"] * 9 + ["b", "a", "a", "c", "a", "b"])
    second = encode(grown, grown_kinds, "meta:topic", colours)
    assert second.names[0] == "new"  # now the biggest, listed first ...
    after = dict(zip(second.names, second.colours, strict=True))
    assert all(after[name] == colour for name, colour in before.items())  # ... but the old keep their colours
    assert after["new"] == PALETTE[3]


def test_colours_survive_a_round_trip_through_rows_even_for_values_that_look_like_secret_names() -> None:
    colours = CategoryColours()
    colours.colour("meta:topic", "api_key lore")
    colours.colour("meta:topic", "tokens")
    restored = CategoryColours.from_rows(colours.to_rows())
    assert restored.to_rows() == colours.to_rows()
    assert CategoryColours.from_rows([["x", "y", "not a slot"], "junk"]).to_rows() == []


def test_noise_is_grey_and_drawn_under_the_rest_queries_are_stars() -> None:
    items, kinds = _items(["t"] * 5)
    clusters = np.array([0, 0, -1, 1, 1, -1])
    encoding = encode(items, kinds, "cluster", CategoryColours(), clusters, {0: "alpha", 1: "beta"})
    assert encoding.names[-1] == "noise" and encoding.colours[-1] == NOISE_COLOUR
    assert encoding.layers[-1] == LAYER_UNDER and set(encoding.layers[:-1]) == {LAYER_NORMAL}
    assert encoding.names[encoding.categories[2]] == "noise"
    assert list(encoding.symbols) == ["o"] * 5 + ["star"]
    assert encoding.symbol_names == {"o": "document", "star": "query"}


def test_more_categories_than_colours_share_other_and_unknown_choices_fall_back_to_kind() -> None:
    topics = [f"topic {i:02d}" for i in range(MAX_CATEGORIES + 5)]
    items, kinds = _items(topics)
    encoding = encode(items, kinds, "meta:topic", CategoryColours())
    assert len(encoding.names) == MAX_CATEGORIES + 1 and encoding.names[-1] == "other"
    assert len(set(encoding.colours)) == len(encoding.colours)
    by_kind = encode(items, kinds, "cluster", CategoryColours())  # no clusters yet: by kind
    assert by_kind.names == ["documents", "queries"] and by_kind.symbol_names == {}
    assert colour_of_slot(len(PALETTE) + 3) not in PALETTE
