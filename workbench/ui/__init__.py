"""The PySide6 + pyqtgraph desktop UI over workbench.core."""

import os

# superqt reaches Qt through qtpy, which would take PyQt5 first if one happened to be installed: use ours.
os.environ.setdefault("QT_API", "pyside6")
