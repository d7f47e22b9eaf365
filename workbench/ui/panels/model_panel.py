"""Model & key panel: provider, model, output dimension, task types, the local model's device, the Gemini key
and endpoint.

The panel shows AppState.spec and sends every edit as `set_spec` / `set_credentials`; when the spec changes
elsewhere (an opened workspace) it shows that spec without sending it back. The key field is masked (with a
show/hide toggle); the key lives in AppState for the session and, only on "Remember key", in the OS keyring
(core.secrets) — never in a settings file. "Refresh models" asks the API which models support embedContent,
through the TaskRunner. Embedding errors arrive from the pipeline; a message about one provider goes when the
provider changes. Dense enough for a laptop's Model dock (1366 × 768) to show every row down to the token summary
without a scroll: the two task boxes share a row, and the Batch-mode row (Gemini's) shows only for Gemini.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.devices import DEVICE_CHOICES, DEVICE_LABELS
from workbench.core.secrets import forget_key, gemini_key_from_env, recalled_key, remember_key
from workbench.ui.panels.batch_controls import BatchControls
from workbench.ui.panels.token_summary import TokenSummary
from workbench.ui.pipeline import Pipeline
from workbench.ui.spec_chooser import SpecChooser
from workbench.ui.state import AppState
from workbench.ui.tasks import TaskRunner
from workbench.ui.widgets import MessageStrip, flow_row, synced

KEY_NAME = "gemini-api-key"
REFRESH_TASK = "gemini-models"
RECALL_TASK = "recall-key"


class ModelPanel(QWidget):
    def __init__(self, state: AppState, runner: TaskRunner, pipeline: Pipeline, parent: QWidget | None = None):
        super().__init__(parent)
        self.state, self.runner = state, runner
        self.chooser = SpecChooser(self)
        chooser = self.chooser  # its widgets, by the names the rest of the panel (and its tests) use:
        self.provider, self.model, self.dim = chooser.provider, chooser.model, chooser.dim
        self.document_task, self.query_task = chooser.document_task, chooser.query_task
        self.refresh = QToolButton(text="↻", toolTip="Refresh the model list from the Gemini API")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.show_key = QToolButton(text="Show", checkable=True)
        self.remember = QCheckBox("Remember key")
        self.base_url = QLineEdit(placeholderText="default: GOOGLE_GEMINI_BASE_URL or Google's endpoint")
        self.device = QComboBox()
        for choice in DEVICE_CHOICES:
            self.device.addItem(DEVICE_LABELS[choice], choice)
        self.device.setToolTip(
            "Where the local model runs. Auto: an NVIDIA GPU (CUDA, half precision), else an Apple GPU (MPS), else "
            "the CPU. A GPU that is missing or fails falls back to the CPU with a message. The vectors agree, so "
            "the cache serves every device."
        )
        self.messages = MessageStrip()
        model_row, key_row = QHBoxLayout(), QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(self.refresh)
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.show_key)
        form = QFormLayout()
        form.setVerticalSpacing(4)  # denser than the style's 6: on a laptop the token summary fits without a scroll
        # the two task boxes share a row (they wrap under each other where the panel is too narrow for both)
        tasks = flow_row(self.document_task, self.query_task)
        tasks.setHorizontalSpacing(6)
        for label, widget in chooser.rows():
            if widget is self.document_task:
                form.addRow("Docs, queries as", tasks)
            elif widget is not self.query_task:
                form.addRow(label, model_row if widget is self.model else widget)
        form.addRow("Device", self.device)
        form.addRow("Gemini key", key_row)
        form.addRow("", self.remember)
        form.addRow("Base URL", self.base_url)
        self.batch = BatchControls(state, pipeline)  # Gemini Batch mode (half price) and its jobs' status
        form.addRow("Batch mode", self.batch)  # shown for Gemini only (like Compare's key for B): see _enable_for
        self.form = form
        # The key and endpoint stay editable with the local model too: Compare's B may be Gemini while A is local.
        self.gemini_only = [self.refresh]
        self.key.setToolTip("Google Gemini API key: for A when A is Gemini, and for Compare's B")
        self.tokens = TokenSummary(state, pipeline, self)  # counts, price and the long-text choice, before Embed
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.batch.status)
        layout.addWidget(self.tokens)
        layout.addWidget(self.messages)
        layout.addStretch(1)

        self.key.setPlaceholderText(
            "from GEMINI_API_KEY / GOOGLE_API_KEY" if gemini_key_from_env() else "paste your Gemini key"
        )
        self.setMinimumWidth(self.minimumSizeHint().width())  # as wide as with the Batch row, which may come back
        self._show_spec()
        self._enable_for(self.provider.currentData())
        chooser.provider_chosen.connect(self._provider_chosen)
        chooser.edited.connect(lambda: state.set_spec(chooser.spec()))
        for signal in (self.key.textChanged, self.base_url.textChanged):
            signal.connect(self._apply_credentials)
        state.spec_changed.connect(self._show_spec)
        self._show_device()
        self.device.currentIndexChanged.connect(lambda: state.set_view(embed_device=self.device.currentData()))
        state.view_changed.connect(lambda changed: "embed_device" in changed and self._show_device())
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

    def _enable_for(self, provider: str) -> None:
        for widget in self.gemini_only:
            widget.setEnabled(provider == "gemini")
        # a row the local model never uses: hidden, so on a laptop the token summary fits without a scroll
        self.form.setRowVisible(self.batch, provider == "gemini")

    def _provider_chosen(self, provider: str) -> None:
        """The person picked another provider: the old provider's message goes with it."""
        self._enable_for(provider)
        self.messages.clear()

    def _show_spec(self) -> None:
        """Show AppState.spec without sending it back (it may come from a workspace)."""
        if self.state.spec.provider != self.provider.currentData():
            self.messages.clear()
        self.chooser.show_spec(self.state.spec)
        self._enable_for(self.provider.currentData())

    def _show_device(self) -> None:
        """Show the device choice held in AppState (a workspace may bring one) without sending it back."""
        with synced(self.device):
            self.device.setCurrentIndex(max(0, self.device.findData(self.state.view.embed_device)))

    def _apply_credentials(self) -> None:
        self.state.set_credentials(self.key.text().strip() or gemini_key_from_env(), self.base_url.text())

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
        self.chooser.add_models(names)
        self.messages.show_info(f"{len(names)} embedding models available: {', '.join(names)}.")
