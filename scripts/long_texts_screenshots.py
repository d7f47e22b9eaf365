"""Grab the long-text screenshots: the token and price summary before a Gemini run, and a map coloured by parent.

Usage: python scripts/long_texts_screenshots.py docs/screenshots (offscreen, on a 1366 × 768 screen by default)
Both windows are 1366 × 768. The Gemini one talks to the fake Gemini server (tests/fakes/fake_gemini.py) with a
fake key: the counts are the fake's, the price is the app's table applied to them. The map embeds the licence
texts in /usr/share/common-licenses (long, hard-wrapped, real documents; a generated corpus where they are
missing) with the local model, chunked, and colours the chunks by parent document.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.fakes and the scripts beside this one
os.environ.setdefault("QT_QPA_PLATFORM", f"offscreen:configfile={REPO / 'tests' / 'screens' / '1366x768.json'}")
os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="workbench-screenshots-"))  # not the user's cache

from scripts.screenshot import settle  # noqa: E402
from tests.fakes.fake_gemini import FakeGemini  # noqa: E402
from workbench.core.cache import EmbeddingCache  # noqa: E402
from workbench.core.items import Item  # noqa: E402
from workbench.ui.main_window import MainWindow  # noqa: E402
from workbench.ui.state import AppState  # noqa: E402
from workbench.ui.tasks import TaskRunner  # noqa: E402

LICENCES = ("Apache-2.0", "GPL-2", "GPL-3", "LGPL-2.1", "MPL-2.0", "GFDL-1.3", "Artistic", "CC0-1.0")


def documents() -> list[Item]:
    folder = Path("/usr/share/common-licenses")
    items = [
        Item.create(path.read_text("utf-8", "replace"), metadata={"licence": path.name}, item_id=path.name)
        for path in (folder / name for name in LICENCES)
        if path.is_file()
    ]
    if items:
        return items
    from tests.core.test_long_texts import long_document

    return [Item.create(long_document(1500, seed=s), item_id=f"document {s}") for s in range(6)]


def window_at_laptop_size() -> MainWindow:
    window = MainWindow(AppState(), TaskRunner(), EmbeddingCache())
    window.showMaximized()  # the whole 1366 × 768 screen, as on a laptop
    return window


def gemini_summary(app: QApplication, out: Path) -> None:
    with FakeGemini() as server:
        window = window_at_laptop_size()
        panel = window.model_panel
        panel.provider.setCurrentIndex(panel.provider.findData("gemini"))
        panel.key.setText("AIzaFAKE-screenshot-key-000000")
        panel.base_url.setText(server.base_url)
        short = [Item.create(f"Question {n}: which licence allows {w}?", "query") for n, w in enumerate(
            ("linking", "patents", "relicensing", "static builds", "SaaS use"))]  # fmt: skip
        window.state.set_items("document", documents())
        window.state.set_items("query", short)
        settle(app, window.runner)
        panel.tokens.count.click()
        settle(app, window.runner)
        window.grab().save(str(out / "token-price-summary-gemini.png"))
        print(window.model_panel.tokens.summary.text())
        window.close()


def map_by_parent(app: QApplication, out: Path) -> None:
    window = window_at_laptop_size()
    window.state.set_items("document", documents())
    settle(app, window.runner)
    window.start_embedding()
    settle(app, window.runner)
    colour = window.projection_view.colour_by
    colour.setCurrentIndex(colour.findData("meta:parent_id"))
    settle(app, window.runner)
    window.grab().save(str(out / "map-coloured-by-parent-document.png"))
    print(window.state.embedding.long_texts)
    window.close()


def main(out_dir: str) -> int:
    app = QApplication(sys.argv)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gemini_summary(app, out)
    map_by_parent(app, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
