"""PySide6 + pyqtgraph widgets over the core. No business logic: widgets read AppState and send it intents."""
