"""Model & key panel: which provider, model, output dimension and tasks embed the corpus."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QComboBox, QFormLayout, QLineEdit, QSpinBox, QVBoxLayout, QWidget

from workbench.core.embedders.base import EmbeddingSpec
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner
from workbench.ui.widgets import MessageStrip

MODELS = {"local": ["all-MiniLM-L6-v2"], "gemini": ["gemini-embedding-001", "gemini-embedding-2"]}
TASKS = {"local": ("document", "query"), "gemini": ("RETRIEVAL_DOCUMENT", "RETRIEVAL_QUERY")}


class ModelPanel(QWidget):
    def __init__(self, state: AppState, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.runner = state, runner
        self.provider = QComboBox()
        self.provider.addItem("Local (offline)", "local")
        self.provider.addItem("Google Gemini", "gemini")
        self.model = QComboBox()
        self.model.setEditable(True)
        self.dim = QSpinBox()
        self.dim.setRange(0, 4096)
        self.dim.setSpecialValueText("native")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("from GEMINI_API_KEY / GOOGLE_API_KEY" if _env_key() else "paste your Gemini key")
        self.messages = MessageStrip()
        form = QFormLayout()
        form.addRow("Provider", self.provider)
        form.addRow("Model", self.model)
        form.addRow("Output dim", self.dim)
        form.addRow("API key", self.key)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.messages)
        layout.addStretch(1)
        self._fill_models()
        self.provider.currentIndexChanged.connect(self._fill_models)
        self.model.currentTextChanged.connect(self._apply)
        self.dim.valueChanged.connect(self._apply)
        self.key.textChanged.connect(self._apply)
        self._apply()

    def _fill_models(self) -> None:
        provider = self.provider.currentData()
        self.model.blockSignals(True)
        self.model.clear()
        self.model.addItems(MODELS[provider])
        self.model.blockSignals(False)
        self.key.setEnabled(provider == "gemini")
        self._apply()

    def _apply(self) -> None:
        provider = self.provider.currentData()
        document_task, query_task = TASKS[provider]
        self.state.api_key = self.key.text().strip() or _env_key()
        self.state.set_spec(
            EmbeddingSpec(
                provider=provider,
                model=self.model.currentText().strip() or MODELS[provider][0],
                dim=self.dim.value() or None,
                document_task=document_task,
                query_task=query_task,
            )
        )


def _env_key() -> str | None:
    return os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY") or None
