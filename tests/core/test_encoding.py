"""The one visual encoding: stable colours per category, noise grey and underneath, queries stars on top."""

from __future__ import annotations

import numpy as np

from workbench.core.encoding import (
    LAYER_NORMAL,
    LAYER_TOP,
    LAYER_UNDER,
    MAX_CATEGORIES,
    NOISE_COLOUR,
    PALETTE,
    QUERY_COLOUR,
    CategoryColours,
    LegendEntry,
    colour_of_slot,
    encode,
    query_line_styles,
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
    assert encoding.legend[-1] == LegendEntry("query", encoding.colours[encoding.categories[5]], "star")
    assert [entry.name for entry in encoding.legend] == ["alpha", "beta", "noise", "query"]


def test_query_markers_are_bigger_outlined_and_on_the_top_layer_in_every_colouring() -> None:
    items, kinds = _items(["t", "u", "t"])
    for colour_by in ("kind", "meta:topic", "cluster"):
        encoding = encode(items, kinds, colour_by, CategoryColours(), np.array([0, 1, 0, 1]))
        star, dot = encoding.marker("star"), encoding.marker("o")
        assert star.size >= 2 * dot.size and star.outline is not None
        assert all(encoding.layer_of(c, "star") == LAYER_TOP for c in range(len(encoding.names)))
        assert all(encoding.layer_of(c, "o") < LAYER_TOP for c in range(len(encoding.names)))
        assert [e.name for e in encoding.legend].count("query") == 1 and encoding.legend[-1].symbol == "star"


def test_queries_without_the_column_are_named_query_not_a_missing_value() -> None:
    items = [Item.create(f"doc {i}", "document", {"topic": t}) for i, t in enumerate(["a", "a", "b"])]
    items += [Item.create("a question", "query"), Item.create("another", "query")]
    kinds = np.array([i.kind for i in items])
    encoding = encode(items, kinds, "meta:topic", CategoryColours())
    assert encoding.names == ["a", "b", "query"] and "—" not in encoding.names
    assert encoding.legend == [
        LegendEntry("a", PALETTE[0], "o"),
        LegendEntry("b", PALETTE[1], "o"),
        LegendEntry("query", QUERY_COLOUR, "star"),
    ]
    by_kind = encode(items, kinds, "kind", CategoryColours())
    assert [(e.name, e.symbol) for e in by_kind.legend] == [("document", "o"), ("query", "star")]


def test_query_lines_fade_and_thin_with_rank() -> None:
    styles = query_line_styles(5)
    opacities, widths = [s[0] for s in styles], [s[1] for s in styles]
    assert opacities == sorted(opacities, reverse=True) and len(set(opacities)) == 5
    assert widths == sorted(widths, reverse=True) and opacities[0] >= 0.8 and opacities[-1] >= 0.2
    assert query_line_styles(1) == [styles[0]] and query_line_styles(0) == []


def test_more_categories_than_colours_share_other_and_unknown_choices_fall_back_to_kind() -> None:
    topics = [f"topic {i:02d}" for i in range(MAX_CATEGORIES + 5)]
    items, kinds = _items(topics)
    encoding = encode(items, kinds, "meta:topic", CategoryColours())
    assert len(encoding.names) == MAX_CATEGORIES + 1 and encoding.names[-1] == "other"
    assert len(set(encoding.colours)) == len(encoding.colours)
    by_kind = encode(items, kinds, "cluster", CategoryColours())  # no clusters yet: by kind
    assert by_kind.names == ["document", "query"]
    assert colour_of_slot(len(PALETTE) + 3) not in PALETTE


def _lab(colour: str) -> np.ndarray:
    """CIELAB (D65) of an sRGB hex colour: distances there follow what eyes tell apart."""
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float) / 255
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    xyz /= np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_the_palette_has_no_near_copies_and_neither_grey_looks_like_a_category() -> None:
    from workbench.core.encoding import OTHER_COLOUR

    colours = [_lab(c) for c in (*PALETTE, NOISE_COLOUR, OTHER_COLOUR)]
    closest = min(float(np.linalg.norm(a - b)) for i, a in enumerate(colours) for b in colours[i + 1 :])
    assert closest > 15, closest  # the old second ten had #1f77b4 at 10.5 from the first blue, #4e79a7


def test_count_keys_answers_what_np_unique_does_in_first_seen_order() -> None:
    from workbench.core.encoding import count_keys

    keys = np.array(["b", 3, "a", "b", "—", 3, "a", "b", "é"], dtype=object)
    values, codes, counts = count_keys(keys)
    distinct, inverse, unique_counts = np.unique(keys.astype(str), return_inverse=True, return_counts=True)
    assert values == ["b", "3", "a", "—", "é"]  # first seen, as text
    assert [values[c] for c in codes] == [str(k) for k in keys]
    assert dict(zip(values, counts.tolist(), strict=True)) == dict(
        zip(distinct.tolist(), unique_counts.tolist(), strict=True)
    )
    assert [values[c] for c in codes] == distinct[inverse.reshape(-1)].tolist()
    assert count_keys(np.array([], dtype=object))[0] == []


def test_count_keys_of_fixed_width_text_answers_as_np_unique() -> None:
    from workbench.core.encoding import count_keys

    keys = np.array(["queries", "documents", "documents", "7"])
    values, codes, counts = count_keys(keys)
    assert values == ["7", "documents", "queries"] and codes.tolist() == [2, 1, 1, 0] and counts.tolist() == [1, 2, 1]
