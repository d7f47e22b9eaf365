"""Numbers a person may set in the environment (WORKBENCH_GEMINI_TIMEOUT_S, WORKBENCH_MAX_TEXT_CHARS, … listed in
the README): one rule for reading all of them, so each knob is not parsed its own way.

A value that is unset, not a number, NaN or infinite (or, where the knob needs one, not positive) means the
default: a mistyped variable must not stop the app or the CLI from starting, and an infinite timeout or count
would only fail later, far from its cause.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import TypeVar

Number = TypeVar("Number", int, float)


def env_number(name: str, default: Number, parse: Callable[[str], Number] = float) -> Number:
    """The finite number in environment variable `name`, read with `parse` (float, or int for a count), else
    `default`."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = parse(raw)
    except ValueError:
        return default
    return value if math.isfinite(value) else default


def positive_env_number(name: str, default: Number, parse: Callable[[str], Number] = float) -> Number:
    """`env_number`, where zero or less also means `default` (a timeout, an interval, a size limit)."""
    value = env_number(name, default, parse)
    return value if value > 0 else default
