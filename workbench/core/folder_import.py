"""A folder of notes or docs (.md, .txt, .html, .pdf) as documents: one item per file, and a report of every file
that gave no text and why.

Each file becomes one item whose id is its path relative to the folder (forward slashes on every system, so the
same folder gets the same ids on Windows and Linux), with metadata a person can colour or filter by: `path`,
`folder` (the relative folder, "" at the top), `top_folder` (the first folder under the root), `file_name`,
`file_type` (the suffix without its dot) and `modified` (the modification time, ISO 8601 in UTC).

Text comes from maintained libraries, not our own parsers: pypdf reads a PDF's text layer, BeautifulSoup (with the
standard library's html.parser, so no compiled dependency) reads HTML, honouring the page's declared charset.
Markdown and plain text are read as they are, through `text_files` (UTF-8, byte-order marks, the same message for
a bad byte as every other importer).

Nothing is skipped silently: an empty file, a binary file with a text suffix, undecodable bytes, an unreadable or
encrypted PDF and a PDF without a text layer (a scan: it needs OCR first) are each listed in `FolderReport.skipped`
with the reason. Files of other types and hidden files/folders (.git, .DS_Store) are counted, not listed one by
one, since a folder of notes often holds hundreds of images.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from workbench.core.collector import collector_paused
from workbench.core.errors import InputError
from workbench.core.items import Item, ItemKind
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress, raise_if_cancelled
from workbench.core.text_files import InvalidEncoding, text_encoding

log = logging.getLogger("workbench.core.folder_import")

FOLDER_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
_SNIFF_BYTES = 8192  # where a NUL byte marks a file as binary (git's own heuristic looks at the first 8 000)
_HTML_DROP = ("script", "style", "noscript", "template", "svg", "head")


class SkipFile(Exception):
    """A file gives no text; the message is the reason shown in the report."""


@dataclass(frozen=True)
class SkippedFile:
    path: str  # relative to the folder, forward slashes
    reason: str


@dataclass
class FolderReport:
    """What a folder import did: files read, files skipped with their reason, other files counted by suffix."""

    folder: str = ""
    kind: ItemKind = "document"
    kept: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    other_types: Counter[str] = field(default_factory=Counter)  # suffix -> count, files not of FOLDER_SUFFIXES
    hidden: int = 0  # hidden files and hidden folders (each counted once, not entered)

    @property
    def no_text_layer(self) -> list[str]:
        """PDFs that hold only images (scans): the user has to OCR them; listed separately so they stand out."""
        return [s.path for s in self.skipped if s.reason.startswith("PDF without a text layer")]

    def summary(self) -> str:
        """One line: '12 documents from notes; 3 files skipped (1 empty, …); 40 other files ignored (.png 38, …)'."""
        noun = {"document": ("document", "documents"), "query": ("query", "queries")}[self.kind][self.kept != 1]
        parts = [f"{self.kept} {noun} from {self.folder or 'the folder'}"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} file{'s' if len(self.skipped) != 1 else ''} skipped")
        if self.no_text_layer:
            parts.append(f"{len(self.no_text_layer)} PDF{'s' if len(self.no_text_layer) != 1 else ''} need OCR")
        others = sum(self.other_types.values())
        if others:
            kinds = ", ".join(f"{suffix or 'no suffix'} {n}" for suffix, n in self.other_types.most_common(4))
            parts.append(f"{others} other file{'s' if others != 1 else ''} ignored ({kinds})")
        if self.hidden:
            plural = "s" if self.hidden != 1 else ""
            parts.append(f"{self.hidden} hidden file{plural}/folder{plural} ignored")
        return "; ".join(parts)

    def details(self, limit: int = 20) -> list[str]:
        """One line per skipped file ('notes/a.txt: empty file'), at most `limit`, then how many more."""
        lines = [f"{s.path}: {s.reason}" for s in self.skipped[:limit]]
        if len(self.skipped) > limit:
            lines.append(f"… and {len(self.skipped) - limit} more")
        return lines


# -- one file -------------------------------------------------------------------------------------------------
def _head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(_SNIFF_BYTES)


def _refuse_binary(path: Path, head: bytes) -> str:
    """The codec for a text file, or SkipFile when it is binary (NUL bytes outside UTF-16/32) or UTF-16 unmarked."""
    try:
        encoding = text_encoding(path, head)
    except InputError as error:
        raise SkipFile("UTF-16 text without a byte-order mark; save it as UTF-8") from error
    if encoding == "utf-8-sig" and b"\0" in head:
        raise SkipFile("binary file (it contains NUL bytes), not text")
    return encoding


def _plain_text(path: Path, encoding_errors: str) -> str:
    data = path.read_bytes()
    encoding = _refuse_binary(path, data[:_SNIFF_BYTES])
    try:
        return data.decode(encoding, errors=encoding_errors)
    except UnicodeDecodeError as error:
        where = InvalidEncoding(path, data[: error.start].count(b"\n") + 1, error.start)
        raise SkipFile(f"not valid UTF-8 (line {where.line}, byte {where.byte}); convert it to UTF-8") from error


def _html_text(path: Path, encoding_errors: str) -> str:
    from bs4 import BeautifulSoup  # deferred: only folder imports pay for it

    data = path.read_bytes()
    _refuse_binary(path, data[:_SNIFF_BYTES])
    soup = BeautifulSoup(data, "html.parser")  # bytes: bs4 follows a BOM or <meta charset>, else guesses
    if soup.contains_replacement_characters and encoding_errors == "strict":
        raise SkipFile("its bytes do not decode in the declared or guessed encoding; convert it to UTF-8")
    for tag in soup(_HTML_DROP):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def _pdf_text(path: Path, cancelled: CancelledFn) -> str:
    from pypdf import PdfReader  # deferred: only folder imports pay for it
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise SkipFile("encrypted PDF; save a copy without a password")
        pages = []
        for page in reader.pages:
            raise_if_cancelled(cancelled)
            pages.append((page.extract_text() or "").strip())
    except FileNotDecryptedError as error:
        raise SkipFile("encrypted PDF; save a copy without a password") from error
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        raise SkipFile(f"not a readable PDF ({type(error).__name__}: {str(error)[:80]})") from error
    text = "\n\n".join(page for page in pages if page)
    if not text.strip():
        count = len(pages)
        raise SkipFile(f"PDF without a text layer ({count} page{'s' if count != 1 else ''} of images: a scan?); "
                       f"run OCR on it first")  # fmt: skip
    return text


def file_text(path: Path, encoding_errors: str = "strict", cancelled: CancelledFn = never_cancelled) -> str:
    """The text of one .md / .txt / .html / .pdf file; SkipFile (with the reason) when it gives none."""
    if path.stat().st_size == 0:
        raise SkipFile("empty file")
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        text = _pdf_text(path, cancelled)
    elif suffix in (".html", ".htm"):
        text = _html_text(path, encoding_errors)
    else:
        text = _plain_text(path, encoding_errors)
    text = text.strip()
    if not text:
        raise SkipFile("no text (only whitespace or markup)")
    return text


def read_document_file(
    path: str | Path,
    kind: ItemKind = "document",
    encoding_errors: str = "strict",
    cancelled: CancelledFn = never_cancelled,
) -> Item:
    """One .md / .html / .pdf file (any of FOLDER_SUFFIXES) as one item, read and described as a folder import
    would (its folder as the root: id = file name); a file without text is an InputError giving the reason."""
    path = Path(path)
    try:
        text = file_text(path, encoding_errors, cancelled)
    except SkipFile as reason:
        raise InputError(f"{path}: {reason}.") from reason
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror or error}).") from error
    return Item.create(text, kind, _metadata(path.parent, path), item_id=path.name)


# -- the folder -----------------------------------------------------------------------------------------------
def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def folder_files(root: Path, report: FolderReport) -> list[Path]:
    """Files to read under `root`, sorted by relative path; other and hidden files are counted into `report`."""
    found: list[Path] = []
    for directory, folders, files in os.walk(root, onerror=None, followlinks=False):
        report.hidden += sum(1 for f in folders if _is_hidden(f))  # counted, not walked: .git may hold 100 000
        folders[:] = sorted(f for f in folders if not _is_hidden(f))
        for name in files:
            path = Path(directory, name)
            if _is_hidden(name):
                report.hidden += 1
            elif path.suffix.lower() not in FOLDER_SUFFIXES:
                report.other_types[path.suffix.lower()] += 1
            elif path.is_file():
                found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _metadata(root: Path, path: Path) -> dict[str, str]:
    relative = path.relative_to(root)
    folder = relative.parent.as_posix()
    modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    return {
        "path": relative.as_posix(),
        "folder": "" if folder == "." else folder,
        "top_folder": relative.parts[0] if len(relative.parts) > 1 else "",
        "file_name": path.name,
        "file_type": path.suffix.lower().lstrip("."),
        "modified": modified.isoformat(timespec="seconds"),
    }


@collector_paused()  # a million of them: see core/collector.py
def read_folder(
    folder: str | Path,
    kind: ItemKind = "document",
    encoding_errors: str = "strict",
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> tuple[list[Item], FolderReport]:
    """One item per readable .md / .txt / .html / .pdf file under `folder` (recursively), and the report.

    `progress(done, total)` counts files; `cancelled()` is polled between files (and between a PDF's pages). An
    InputError when the folder does not exist or no file gave text (the message carries the report's reasons).
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{root}: no such folder.")
    report = FolderReport(folder=root.name or str(root), kind=kind)
    paths = folder_files(root, report)
    items: list[Item] = []
    total = len(paths)
    progress(0, max(total, 1))
    for done, path in enumerate(paths, start=1):
        raise_if_cancelled(cancelled)
        relative = path.relative_to(root).as_posix()
        try:
            text = file_text(path, encoding_errors, cancelled)
        except SkipFile as reason:
            report.skipped.append(SkippedFile(relative, str(reason)))
        except OSError as error:
            report.skipped.append(SkippedFile(relative, f"cannot be read ({error.strerror or error})"))
        else:
            items.append(Item.create(text, kind, _metadata(root, path), item_id=relative))
        progress(done, max(total, 1))
    report.kept = len(items)
    if not items:
        reasons = "; ".join(report.details(limit=5))
        raise InputError(
            f"{root}: no .md, .txt, .html or .pdf file with text found ({report.summary()}"
            + (f": {reasons}" if reasons else "")
            + ")."
        )
    return items, report
