"""Files read as UTF-8 text, and the error that says where a file stops being UTF-8.

Every importer reads text through here, so a file with a bad byte gives one message with its line and byte, and
the UI can offer to import it with invalid bytes replaced (`InvalidEncoding` carries where).
"""

from __future__ import annotations

import io
from pathlib import Path

from workbench.core.errors import InputError


class InvalidEncoding(InputError):
    """A file is not valid UTF-8; carries where, so the UI can offer to import it with the bytes replaced."""

    def __init__(self, path: Path, line: int, byte: int) -> None:
        self.path, self.line, self.byte = path, line, byte
        super().__init__(
            f"{path}: line {line}, byte {byte}: not valid UTF-8. Convert the file to UTF-8, or import it with "
            f"invalid bytes replaced (--encoding-errors replace)."
        )


def locate_invalid_utf8(path: Path) -> InvalidEncoding:
    """The exact place of the first invalid byte (only run once decoding has failed, so speed does not matter)."""
    data = path.read_bytes()
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return InvalidEncoding(path, data[: error.start].count(b"\n") + 1, error.start)
    return InvalidEncoding(path, 1, 0)  # pragma: no cover - only called after a decode error


def read_text_file(path: Path, errors: str = "strict") -> str:
    """A file's text as UTF-8 (a BOM is dropped); invalid bytes are an InputError that says where they are."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig", errors=errors)
    except UnicodeDecodeError as error:
        raise InvalidEncoding(path, data[: error.start].count(b"\n") + 1, error.start) from error


class TextStream:
    """A file opened as UTF-8 text without newline translation, with the bytes read so far for progress."""

    def __init__(self, path: Path, errors: str) -> None:
        self.path = path
        self.total = max(path.stat().st_size, 1)
        self._raw = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.text = io.TextIOWrapper(self._raw, encoding="utf-8-sig", errors=errors, newline="")

    @property
    def position(self) -> int:
        return min(self._raw.tell(), self.total)

    def close(self) -> None:
        self.text.close()
