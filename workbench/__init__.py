"""Embedding Workbench: embed texts and see what the embedding model did."""

__version__ = "0.1.0"
