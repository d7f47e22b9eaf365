"""Model & key panel: provider, model, output dimension, task types, the Gemini key and endpoint.

The panel shows AppState.spec and sends every edit as `set_spec` / `set_credentials`; when the spec changes
elsewhere (an opened workspace) it shows that spec without sending it back. The key field is masked (with a
show/hide toggle); the key lives in AppState for the session and, only on "Remember key", in the OS keyring
(core.secrets) — never in a settings file. "Refresh models" asks the API which models support embedContent,
through the TaskRunner. Embedding errors arrive from the pipeline; a message about one provider goes when the
provider changes.
"""

from __future__ import annotations

import os

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.embedders.base import EmbeddingSpec
from workbench.core.embedders.gemini import MODELS as GEMINI_MODELS
from workbench.core.embedders.gemini import RETIRED_MODELS, TASK_TYPES
from workbench.core.secrets import forget_key, recalled_key, remember_key
from workbench.ui.pipeline import Pipeline
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner
from workbench.ui.widgets import MessageStrip

LOCAL_MODELS = ["all-MiniLM-L6-v2"]
KEY_NAME = "gemini-api-key"
REFRESH_TASK = "gemini-models"
RECALL_TASK = "recall-key"


class ModelPanel(QWidget):
    def __init__(self, state: AppState, runner: TaskRunner, pipeline: Pipeline, parent: QWidget | None = None):
        super().__init__(parent)
        self.state, self.runner = state, runner
        self.provider = QComboBox()
        self.provider.addItem("Local (offline)", "local")
        self.provider.addItem("Google Gemini", "gemini")
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.setToolTip("a model name, or (local) a folder with a sentence-transformers model")
        self.refresh = QToolButton(text="↻", toolTip="Refresh the model list from the Gemini API")
        self.dim = QSpinBox(minimum=0, maximum=3072, specialValueText="native")
        self.dim.setToolTip("output dimensionality; Gemini: 128–3072 (768, 1536, 3072 recommended)")
        self.document_task = QComboBox()
        self.query_task = QComboBox()
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.show_key = QToolButton(text="Show", checkable=True)
        self.remember = QCheckBox("Remember key")
        self.base_url = QLineEdit(placeholderText="default: GOOGLE_GEMINI_BASE_URL or Google's endpoint")
        self.messages = MessageStrip()
        model_row, key_row = QHBoxLayout(), QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(self.refresh)
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.show_key)
        form = QFormLayout()
        form.addRow("Provider", self.provider)
        form.addRow("Model", model_row)
        form.addRow("Output dim", self.dim)
        form.addRow("Documents as", self.document_task)
        form.addRow("Queries as", self.query_task)
        form.addRow("API key", key_row)
        form.addRow("", self.remember)
        form.addRow("Base URL", self.base_url)
        self.gemini_only = [self.refresh, self.key, self.show_key, self.remember, self.base_url]
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.messages)
        layout.addStretch(1)

        self.key.setPlaceholderText("from GEMINI_API_KEY / GOOGLE_API_KEY" if _env_key() else "paste your Gemini key")
        self._fill_for_provider("local")
        self._show_spec()
        self.provider.currentIndexChanged.connect(self._provider_chosen)
        for signal in (self.model.currentTextChanged, self.dim.valueChanged, self.document_task.currentIndexChanged,
                       self.query_task.currentIndexChanged):  # fmt: skip
            signal.connect(self._apply)
        for signal in (self.key.textChanged, self.base_url.textChanged):
            signal.connect(self._apply_credentials)
        state.spec_changed.connect(self._show_spec)
        self.messages.follow(pipeline.notice, "embed")  # embedding errors belong next to the model
        self.show_key.toggled.connect(self._toggle_key_visible)
        self.remember.toggled.connect(self._remember_toggled)
        self.key.editingFinished.connect(self._key_entered)
        self.refresh.clicked.connect(self.refresh_models)
        self._apply_credentials()
        # Asking the OS keyring loads its backends (~0.3 s, more over D-Bus): not before the window is up.
        runner.start(RECALL_TASK, "Reading the system keyring", lambda p, c: recalled_key(KEY_NAME), self._recalled)

    def _recalled(self, stored: str | None) -> None:
        """A key remembered in an earlier session arrives; one typed meanwhile wins."""
        if stored and not self.key.text():
            self.remember.blockSignals(True)  # it is in the keyring already: nothing to store
            self.remember.setChecked(True)
            self.remember.blockSignals(False)
            self.key.setText(stored)

    def _fill_for_provider(self, provider: str) -> None:
        """The model and task choices of a provider (signals blocked: the caller decides what to send)."""
        gemini = provider == "gemini"
        widgets = (self.provider, self.model, self.document_task, self.query_task)
        for widget in widgets:
            widget.blockSignals(True)
        self.provider.setCurrentIndex(max(0, self.provider.findData(provider)))
        self.model.clear()
        if gemini:
            self.model.addItems(list(GEMINI_MODELS))
            for name in RETIRED_MODELS:
                self.model.addItem(f"{name}", name)
                self.model.setItemData(self.model.count() - 1, "retired by Google: kept for old examples", 3)
        else:
            self.model.addItems(LOCAL_MODELS)
        tasks = list(TASK_TYPES) if gemini else ["document", "query"]
        for combo, default in ((self.document_task, tasks[0]), (self.query_task, tasks[1])):
            combo.clear()
            combo.addItems(tasks)
            combo.setCurrentText(default)
            combo.setEnabled(gemini)
        for widget in widgets:
            widget.blockSignals(False)
        for widget in self.gemini_only:
            widget.setEnabled(gemini)

    def _provider_chosen(self) -> None:
        """The person picked another provider: its defaults become the spec, and the old provider's message goes."""
        self._fill_for_provider(self.provider.currentData())
        self.messages.clear()
        self._apply()

    def _show_spec(self) -> None:
        """Show AppState.spec in the fields without sending it back (it may come from a workspace)."""
        spec = self.state.spec
        if spec.provider != self.provider.currentData():
            self._fill_for_provider(spec.provider)
            self.messages.clear()
        widgets = (self.model, self.dim, self.document_task, self.query_task)
        for widget in widgets:
            widget.blockSignals(True)
        self.model.setCurrentText(spec.model)
        self.dim.setValue(spec.dim or 0)
        for combo, task in ((self.document_task, spec.document_task), (self.query_task, spec.query_task)):
            if combo.findText(task) < 0:
                combo.addItem(task)
            combo.setCurrentText(task)
        for widget in widgets:
            widget.blockSignals(False)

    def _apply(self) -> None:
        provider = self.provider.currentData()
        fallback = GEMINI_MODELS[0] if provider == "gemini" else LOCAL_MODELS[0]
        self.state.set_spec(
            EmbeddingSpec(
                provider=provider,
                model=self.model.currentText().strip() or fallback,
                dim=self.dim.value() or None,
                document_task=self.document_task.currentText() or "document",
                query_task=self.query_task.currentText() or "query",
            )
        )

    def _apply_credentials(self) -> None:
        self.state.set_credentials(self.key.text().strip() or _env_key(), self.base_url.text())

    def _key_entered(self) -> None:
        """A key was typed or pasted: remember it if asked, and list the models it can use."""
        self._remember_toggled(self.remember.isChecked())
        if self.provider.currentData() == "gemini" and self.key.text().strip():
            self.refresh_models()

    def _toggle_key_visible(self, shown: bool) -> None:
        self.key.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_key.setText("Hide" if shown else "Show")

    def _remember_toggled(self, checked: bool) -> None:
        if checked:
            sentence = remember_key(KEY_NAME, self.key.text().strip()) if self.key.text().strip() else ""
            if sentence:
                self.messages.show_info(sentence)
        else:
            forget_key(KEY_NAME)
            self.messages.clear()

    def refresh_models(self) -> None:
        """Ask the API for the models that support embedContent (needs a key)."""
        try:
            embedder = self.state.embedder()
        except Exception as error:  # noqa: BLE001 - shown to the user
            self.messages.show_error(str(error))
            return
        self.runner.start(
            REFRESH_TASK,
            "Listing Gemini models",
            lambda progress, cancelled: embedder.list_embedding_models(),
            on_done=self._models_listed,
            on_error=self.messages.show_error,
        )

    def _models_listed(self, names: list[str]) -> None:
        current = self.model.currentText()
        known = [self.model.itemText(i) for i in range(self.model.count())]
        for name in names:
            if name not in known:
                self.model.addItem(name)
        self.model.setCurrentText(current)
        self.messages.show_info(f"{len(names)} embedding models available: {', '.join(names)}.")


def _env_key() -> str | None:
    return os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY") or None
