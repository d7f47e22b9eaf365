"""Milvus filter expressions with user values that can never change the expression.

Milvus Lite 3.2 parses filter expressions itself and ignores pymilvus' filter templating (`filter_params`: a
`{name}` placeholder is a syntax error there). A server gets the values as `filter_params`; for Lite the
placeholders are replaced by literals that `_literal` quotes and escapes, so a value can never end its string
and change the expression. Either way user values never meet string concatenation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from workbench.core.errors import InputError

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _literal(value: Any) -> str:
    """A Milvus expression literal for a value: strings quoted and escaped, so they cannot end early."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise InputError(f"Filter value {value!r} is not a finite number.")
        return repr(float(value))
    if isinstance(value, str):
        return '"' + "".join(_ESCAPES.get(ch, ch) for ch in value) + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    raise InputError(f"Filter values must be text, numbers, booleans or lists of them, not {type(value).__name__}.")


def render_filter(expression: str, params: Mapping[str, Any]) -> str:
    """Replace each `{name}` outside string literals by the literal of `params[name]` (for Milvus Lite)."""
    out: list[str] = []
    i, quote = 0, ""
    while i < len(expression):
        ch = expression[i]
        if quote:
            out.append(ch)
            if ch == "\\" and i + 1 < len(expression):
                out.append(expression[i + 1])
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
            out.append(ch)
        elif ch == "{":
            end = expression.find("}", i)
            name = expression[i + 1 : end] if end > 0 else ""
            if not name.isidentifier():
                raise InputError(f"Filter expression has a '{{' at column {i + 1} that is not a {{placeholder}}.")
            if name not in params:
                raise InputError(f"Filter placeholder {{{name}}} has no value.")
            out.append(_literal(params[name]))
            i = end
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def field_equals(field_name: str, key: str | None, placeholder: str) -> str:
    """`kind == {p}` or `metadata["key"] == {p}`: an expression skeleton whose value is a placeholder."""
    if not field_name.isidentifier():
        raise InputError(f"'{field_name}' is not a field name.")
    path = f"{field_name}[{_literal(key)}]" if key is not None else field_name
    return f"{path} == {{{placeholder}}}"


def value_like(text: str, known: Iterable[Any]) -> Any:
    """A typed filter value as the corpus holds it: a number when every known value under the key is a number.

    JSON compares 2020 and "2020" as different, so a year typed into a box must travel as an int to match.
    """
    known = list(known)
    if known and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in known):
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return text
    return text


def search_filter(kind: str, key: str, value: Any, expression: str) -> tuple[str, dict[str, Any]]:
    """The expression and parameters of a search: only items of `kind`, whose metadata[`key`] is `value`, and
    the user's own `expression` (in brackets). An empty `kind`, `key`, `value` or `expression` adds no condition.

    The kind and the metadata value always travel as parameters, never pasted into the expression.
    """
    parts: list[str] = []
    params: dict[str, Any] = {}
    if kind:
        parts.append(field_equals("kind", None, "kind"))
        params["kind"] = kind
    if key and value is not None and value != "":
        parts.append(field_equals("metadata", key, "value"))
        params["value"] = value
    if expression:
        parts.append(f"({expression})")
    return " and ".join(parts), params
