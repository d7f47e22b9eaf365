"""Qt-free core: the CLI, the UI and the tests all drive these modules. PySide6 is never imported here."""
