"""What a parent and its child process say to each other, and how a message crosses the pipe.

Messages are small frozen dataclasses (a `Call` goes in; `Progress` comes back while it runs, then one `Returned`
or `Raised`; `Cancel` and `Stop` steer a `ChildService` child). They pickle by name, so both processes import
this module.
Long values (20 000 items, a 20 000 × 384 array) are pickled a chunk at a time and written as raw bytes after
their message (`prepare_message`, `write_message`, `read_message`): one pickle call holds the GIL from start to
end (160 ms for 20 000 items), a write releases it, and between chunks the GUI thread gets its turn.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from workbench.core.errors import WorkbenchError

CHUNK_ROWS = 2_000  # rows of a long argument per pickle call (~5 ms for 2 000 items)


# `call_id` says which call of a `ChildService` a message belongs to; a one-call child leaves it None.
@dataclass(frozen=True)
class Call:
    """Run `function(*args, progress=, cancelled=, **kwargs)`."""

    function: Callable[..., Any]
    args: tuple
    kwargs: dict
    call_id: int | None = None


@dataclass(frozen=True)
class Cancel:
    """Set the cancel flag of a call under way (it stops at its next check)."""

    call_id: int


@dataclass(frozen=True)
class Stop:
    """End the service child: cancel every call under way and let it finish its batch."""


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    call_id: int | None = None


@dataclass(frozen=True)
class Returned:
    """A call's final answer when it returned."""

    value: Any
    call_id: int | None = None


@dataclass(frozen=True)
class Raised:
    """A call's final answer when it raised (one of our exceptions, with its sentence)."""

    error: WorkbenchError
    call_id: int | None = None


@dataclass(frozen=True)
class Gone:
    """Never sent: what a waiting call is handed when its child ended before answering."""


Message = Call | Cancel | Stop | Progress | Returned | Raised
Answer = Returned | Raised


@dataclass(frozen=True)
class Chunked:
    """Stands in a message for a long list, tuple or array whose pickled chunks follow it as raw bytes."""

    kind: str  # "list", "tuple" or "array"
    count: int


def _split(value: Any) -> tuple[Any, list[bytes]]:
    """(placeholder, chunks) for a long value; (value, []) for anything else."""
    if isinstance(value, np.ndarray) and value.ndim and len(value) > CHUNK_ROWS:
        kind = "array"
    elif type(value) in (list, tuple) and len(value) > CHUNK_ROWS:
        kind = type(value).__name__
    else:
        return value, []
    parts = [pickle.dumps(value[i : i + CHUNK_ROWS], pickle.HIGHEST_PROTOCOL) for i in range(0, len(value), CHUNK_ROWS)]
    return Chunked(kind, len(parts)), parts


def _join(placeholder: Chunked, parts: list[bytes]) -> Any:
    pieces = [pickle.loads(part) for part in parts]
    if placeholder.kind == "array":
        return np.concatenate(pieces)
    joined = [row for piece in pieces for row in piece]
    return joined if placeholder.kind == "list" else tuple(joined)


def _walk(message: Message, swap: Callable[[Any], Any]) -> Message:
    """The message with `swap` applied to each field, and to each item of a field that is a tuple or dict
    (arguments, keyword arguments, a result pair): where long values sit in every message we send."""
    changes: dict[str, Any] = {}
    for name in (f.name for f in fields(message)):
        value = getattr(message, name)
        if type(value) is tuple:
            changes[name] = tuple(swap(item) for item in value)
        elif type(value) is dict:
            changes[name] = {key: swap(item) for key, item in value.items()}
        else:
            changes[name] = swap(value)
    return replace(message, **changes)


def prepare_message(message: Message) -> tuple[bytes, list[bytes]]:
    """The message, pickled with its long values swapped for placeholders, and their chunks in order.

    All the pickling happens here, outside any lock, so a value that cannot be pickled fails here and not
    halfway through a write.
    """
    chunks: list[bytes] = []

    def swap(value: Any) -> Any:
        placeholder, parts = _split(value)
        chunks.extend(parts)
        return placeholder

    return pickle.dumps(_walk(message, swap), pickle.HIGHEST_PROTOCOL), chunks


class Undecodable(Exception):
    """A message arrived whole but could not be unpickled; `key` says which call it belonged to."""

    def __init__(self, key: int | None, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.key = key


def write_message(connection: Connection, payload: bytes, chunks: list[bytes], key: int | None = None) -> None:
    """One prepared message, then its chunks, each its own write (a write releases the GIL; pickling doesn't).

    The message travels pickled inside an envelope of plain values (chunk count, call id), so the reader always
    consumes exactly what was written and knows whose message it was, even when the message itself cannot be
    unpickled there.
    """
    connection.send((len(chunks), key, payload))
    for chunk in chunks:
        connection.send_bytes(chunk)


def read_message(connection: Connection) -> Message:
    """A message from `write_message`, with its long values put back together; `Undecodable` when it cannot be."""
    count, key, payload = connection.recv()
    chunks = iter([connection.recv_bytes() for _ in range(count)])

    def swap(value: Any) -> Any:
        if isinstance(value, Chunked):
            return _join(value, [next(chunks) for _ in range(value.count)])
        return value

    try:
        return _walk(pickle.loads(payload), swap)
    except Exception as error:
        raise Undecodable(key, error) from error
