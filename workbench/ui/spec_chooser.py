"""The one way to choose an embedding configuration: provider, model, output dimension and a task per kind.

The Model panel (configuration A) and Compare (configuration B) both use it, so both offer the same models,
the same Gemini task types and the same defaults. It owns its widgets and hands them out as labelled rows
(`rows()`), so each host lays them out its own way (a form, a single line). It holds no state of its own:
`spec()` reads the fields, `show_spec()` fills them without a signal, and `edited` says the person changed one.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox, QSpinBox, QWidget

from workbench.core.embedders import DEFAULT_MODELS, DEFAULT_TASKS, PROVIDERS
from workbench.core.embedders.base import EmbeddingSpec
from workbench.core.embedders.gemini import MODELS as GEMINI_MODELS
from workbench.core.embedders.gemini import RETIRED_MODELS, TASK_TYPES
from workbench.ui.widgets import synced

PROVIDER_LABELS = {"local": "Local (offline)", "gemini": "Google Gemini"}
LOCAL_MODELS = ("all-MiniLM-L6-v2",)


class SpecChooser(QObject):
    """Provider, model, dim and the two task combos for one EmbeddingSpec."""

    edited = Signal()  # the person changed a field (never emitted by show_spec)
    provider_chosen = Signal(str)  # the person picked another provider (edited follows)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.provider = QComboBox()
        for provider in PROVIDERS:
            self.provider.addItem(PROVIDER_LABELS[provider], provider)
        self.model = QComboBox(editable=True)
        self.model.setToolTip("a model name, or (local) a folder with a sentence-transformers model")
        self.dim = QSpinBox(minimum=0, maximum=3072, specialValueText="native")
        self.dim.setToolTip("output dimensionality; Gemini: 128–3072 (768, 1536, 3072 recommended)")
        self.document_task = QComboBox()
        self.query_task = QComboBox()
        self.document_task.setToolTip("the task documents are embedded for")
        self.query_task.setToolTip("the task queries are embedded for")
        for combo in (self.provider, self.model, self.document_task, self.query_task):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # as wide as its longest entry
        self._fill_for_provider(PROVIDERS[0])
        self.provider.currentIndexChanged.connect(self._provider_picked)
        self.model.currentTextChanged.connect(self.edited)
        self.dim.valueChanged.connect(self.edited)
        self.document_task.currentIndexChanged.connect(self.edited)
        self.query_task.currentIndexChanged.connect(self.edited)

    def rows(self) -> list[tuple[str, QWidget]]:
        """(label, widget) for each field, for the host's own layout."""
        return [("Provider", self.provider), ("Model", self.model), ("Output dim", self.dim),
                ("Documents as", self.document_task), ("Queries as", self.query_task)]  # fmt: skip

    def spec(self) -> EmbeddingSpec:
        provider = self.provider.currentData()
        document_default, query_default = DEFAULT_TASKS[provider]
        return EmbeddingSpec(
            provider=provider,
            model=self.model.currentText().strip() or DEFAULT_MODELS[provider],
            dim=self.dim.value() or None,
            document_task=self.document_task.currentText() or document_default,
            query_task=self.query_task.currentText() or query_default,
        )

    def show_spec(self, spec: EmbeddingSpec) -> None:
        """Show `spec` in the fields without emitting `edited` (it comes from state, not from the person)."""
        if spec.provider != self.provider.currentData():
            self._fill_for_provider(spec.provider)
        with synced(self.model, self.dim, self.document_task, self.query_task):
            self.model.setCurrentText(spec.model)
            self.dim.setValue(spec.dim or 0)
            for combo, task in ((self.document_task, spec.document_task), (self.query_task, spec.query_task)):
                if combo.findText(task) < 0:
                    combo.addItem(task)
                combo.setCurrentText(task)

    def add_models(self, names: list[str]) -> None:
        """Offer more model names (e.g. the ones a Gemini key can use), keeping the chosen one."""
        current = self.model.currentText()
        known = {self.model.itemText(i) for i in range(self.model.count())}
        with synced(self.model):
            for name in names:
                if name not in known:
                    self.model.addItem(name)
            self.model.setCurrentText(current)

    def _provider_picked(self) -> None:
        provider = self.provider.currentData()
        self._fill_for_provider(provider)
        self.provider_chosen.emit(provider)
        self.edited.emit()

    def _fill_for_provider(self, provider: str) -> None:
        """The provider's models and task types, its defaults chosen (signals blocked: the caller decides)."""
        gemini = provider == "gemini"
        with synced(self.provider, self.model, self.document_task, self.query_task):
            self.provider.setCurrentIndex(max(0, self.provider.findData(provider)))
            self.model.clear()
            if gemini:
                self.model.addItems(list(GEMINI_MODELS))
                for name in RETIRED_MODELS:
                    self.model.addItem(name)
                    tip = "retired by Google: kept for old examples"
                    self.model.setItemData(self.model.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
            else:
                self.model.addItems(list(LOCAL_MODELS))
            tasks = list(TASK_TYPES) if gemini else list(DEFAULT_TASKS["local"])
            for combo, default in zip((self.document_task, self.query_task), DEFAULT_TASKS.get(provider, tasks[:2]),
                                      strict=True):  # fmt: skip
                combo.clear()
                combo.addItems(tasks)
                combo.setCurrentText(default)
                combo.setEnabled(gemini)
