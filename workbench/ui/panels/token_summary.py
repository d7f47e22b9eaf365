"""Before Embed: how many tokens the corpus is for the chosen model, which texts exceed its window, what Gemini would
charge, and what the next Embed does with long texts (chunk, truncate, refuse).

Shown in the Model & key panel, next to the model it is about. The counts come from the pipeline (`count_tokens`
through the TaskRunner: the local model's tokenizer or Gemini's countTokens, never on the GUI thread) into
AppState, which drops them when the corpus or the model changes; an Embed counts too and leaves its counts here.
The long-text choice is a ViewSettings field, so a workspace keeps it.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QVBoxLayout, QWidget

from workbench.core.pricing import PRICES_AS_OF, PRICES_SOURCE
from workbench.core.tokens import CHARS_PER_TOKEN, TokenCounts
from workbench.ui.pipeline import Pipeline
from workbench.ui.state import AppState
from workbench.ui.widgets import flow_row, synced

POLICY_LABELS = {
    "chunk": ("chunk", "split documents over the window into chunks that fit (paragraphs, then sentences), each "
                       "a point with its parent document; queries are truncated"),
    "truncate": ("truncate", "cut texts over the window to what fits; the rest of each is not embedded"),
    "refuse": ("refuse", "stop before anything is embedded (or paid for) when a text is over the window"),
}  # fmt: skip


def counts_html(counts: TokenCounts | None, policy: str) -> str:
    """The summary the panel shows, three short lines (a laptop's Model dock is narrow): totals and how they were
    counted, the texts over the window and what happens to them, the price. `counts_tooltip` has the detail."""
    if counts is None:
        return (
            "<span style='color:#555'>Count tokens to see, before embedding, how many texts exceed the model's "
            "window and (Gemini) what the run would cost. Embed counts too.</span>"
        )
    how = {"tokenizer": "model's tokenizer", "count_tokens": "Gemini countTokens", "estimate": "estimated"}
    lines = [f"<b>{counts.total:,}</b> tokens · {counts.texts:,} texts ({how[counts.method]})"]
    if counts.cached_texts:
        lines[0] += f" · {counts.cached_texts:,} cached"
    if counts.window is None:
        lines.append("Window not known: texts go as they are.")
    elif counts.over:
        what = {"chunk": "chunked", "truncate": "truncated", "refuse": "refused: nothing is embedded"}[policy]
        lines.append(f"<b style='color:#b45309'>{counts.over:,}</b> over the {counts.window:,}-token window → {what}")
    else:
        lines.append(f"None over the {counts.window:,}-token window.")
    price = counts.price
    if price is not None and price.dollars is not None:
        lines.append(
            f"Price <b>≈ ${price.dollars:,.4f}</b> (Batch ≈ ${price.batch_dollars:,.4f}) · prices of {PRICES_AS_OF}"
        )
    elif price is not None:
        lines.append(escape(price.summary()))
    if counts.note:
        lines.append(f"<span style='color:#b45309'>{escape(counts.note)}</span>")
    return "<br>".join(lines)


def counts_tooltip(counts: TokenCounts | None) -> str:
    """Everything the three lines leave out: the whole sentence of `TokenCounts.summary`, and the price source."""
    if counts is None:
        return ""
    parts = [counts.summary()]
    if counts.method == "estimate":
        parts.append(f"Estimates count {CHARS_PER_TOKEN} characters per token.")
    if counts.price is not None:
        parts.append(
            "The price is for the texts the cache does not hold, each counted once: chunks overlap a little, and "
            f"chunks an earlier run cached are still counted. Price table: {PRICES_SOURCE}."
        )
    return " ".join(parts)


class TokenSummary(QWidget):
    """The long-text choice, a Count tokens button, and the counts of the corpus for the chosen model."""

    def __init__(self, state: AppState, pipeline: Pipeline, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.policy = QComboBox()
        for value, (label, tip) in POLICY_LABELS.items():
            self.policy.addItem(label, value)
            self.policy.setItemData(self.policy.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.policy.setToolTip("What the next Embed does with texts longer than the model's window")
        self.count = QPushButton("Count tokens")
        self.count.setToolTip("Count the corpus' tokens for this model (free; Gemini asks its countTokens)")
        self.summary = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(flow_row(("Long texts", self.policy), self.count))
        layout.addWidget(self.summary)

        self.policy.currentIndexChanged.connect(lambda: state.set_view(long_texts=self.policy.currentData()))
        self.count.clicked.connect(pipeline.count_tokens)
        state.token_counts_changed.connect(self._show)
        state.view_changed.connect(lambda changed: "long_texts" in changed and self._show())
        state.corpus_changed.connect(self._show)
        self._show()

    def _show(self) -> None:
        with synced(self.policy):
            self.policy.setCurrentIndex(max(0, self.policy.findData(self.state.view.long_texts)))
        self.count.setEnabled(bool(self.state.corpus.items))
        self.summary.setText(counts_html(self.state.token_counts, self.state.view.long_texts))
        self.summary.setToolTip(counts_tooltip(self.state.token_counts))
