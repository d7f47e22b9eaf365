"""The exception types the core raises, each carrying one sentence a person can act on.

The UI shows `str(error)` in a panel's message strip; the CLI prints it and maps the type to an exit code
(InputError -> 2, ServiceError -> 1). Messages never contain secrets: callers must not format API keys or
tokens into them, and because a server may still echo one back inside a message we pass on, `str(error)` goes
through `secrets.scrub`, so whoever shows an error (the CLI, the UI's TaskRunner, a log line) shows it scrubbed.
"""

from __future__ import annotations

from workbench.core.secrets import scrub


class WorkbenchError(Exception):
    """Base class: `str(self)` is a complete, user-facing sentence, with every registered secret as ***."""

    def __str__(self) -> str:
        return scrub(super().__str__())


class InputError(WorkbenchError):
    """The user's input (a file, a row, a field, an option) is wrong; the message names it."""


class ServiceError(WorkbenchError):
    """An outside service (Gemini, Milvus, a model download) failed; retrying later may help."""


class Cancelled(WorkbenchError):
    """The user cancelled; work finished before the cancel has been kept (cache, partial results)."""

    def __init__(self, message: str = "Cancelled.") -> None:
        super().__init__(message)
