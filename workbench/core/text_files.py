"""Files read as UTF-8 text, and the error that says where a file stops being UTF-8.

Every importer reads text through here, so a file with a bad byte gives one message with its line and byte, and
the UI can offer to import it with invalid bytes replaced (`InvalidEncoding` carries where).

A file that starts with a UTF-16 or UTF-32 byte-order mark (what Windows' Notepad and Excel's "Unicode text"
write) is read in that encoding. One without a mark whose every other byte is NUL is UTF-16 nonetheless: it is
refused with a message that says so, since replacing "invalid" bytes would embed NUL-interleaved text.
"""

from __future__ import annotations

import codecs
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


_MARKS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def text_encoding(path: Path, head: bytes) -> str:
    """The codec to read a file with, from its first bytes: UTF-16/32 by byte-order mark, else UTF-8 (BOM or not).

    Raises InputError for UTF-16 without a mark (every other byte NUL), whatever the error handling asked for."""
    for mark, encoding in _MARKS:
        if head.startswith(mark):
            return encoding
    sample = head[:4096]
    if len(sample) >= 4:
        for half in (sample[0::2], sample[1::2]):
            if half.count(0) >= 0.9 * len(half):
                raise InputError(
                    f"{path}: looks like UTF-16 text without a byte-order mark (every other byte is zero). Save it "
                    f"as UTF-8, e.g. `iconv -f UTF-16LE -t UTF-8`, and import it again."
                )
    return "utf-8-sig"


def locate_invalid_utf8(path: Path) -> InvalidEncoding:
    """The exact place of the first invalid byte (only run once decoding has failed, so speed does not matter)."""
    data = path.read_bytes()
    try:
        data.decode(text_encoding(path, data[:4096]))
    except UnicodeDecodeError as error:
        return InvalidEncoding(path, data[: error.start].count(b"\n") + 1, error.start)
    return InvalidEncoding(path, 1, 0)  # pragma: no cover - only called after a decode error


def read_text_file(path: Path, errors: str = "strict") -> str:
    """A file's text as UTF-8 (a BOM is dropped); invalid bytes are an InputError that says where they are."""
    data = path.read_bytes()
    try:
        return data.decode(text_encoding(path, data[:4096]), errors=errors)
    except UnicodeDecodeError as error:
        raise InvalidEncoding(path, data[: error.start].count(b"\n") + 1, error.start) from error


class TextStream:
    """A file opened as UTF-8 text without newline translation, with the bytes read so far for progress."""

    def __init__(self, path: Path, errors: str) -> None:
        self.path = path
        self.total = max(path.stat().st_size, 1)
        self._raw = open(path, "rb")  # noqa: SIM115 - closed by close()
        try:
            encoding = text_encoding(path, self._raw.read(4096))
        except InputError:
            self._raw.close()
            raise
        self._raw.seek(0)
        self.text = io.TextIOWrapper(self._raw, encoding=encoding, errors=errors, newline="")

    @property
    def position(self) -> int:
        return min(self._raw.tell(), self.total)

    def close(self) -> None:
        self.text.close()
