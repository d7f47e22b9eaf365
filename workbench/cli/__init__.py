"""The `workbench` command: no sub-command starts the GUI; sub-commands run headless on the core, without Qt.

Each sub-command lives in its own module with `add_parser(subparsers)`, which sets `handler`; this module only
assembles them, so adding one is a line in `COMMAND_MODULES`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from workbench import __version__
from workbench.cli.common import EXIT_INPUT, configure_logging, run_guarded

COMMAND_MODULES = (
    "workbench.cli.embed",
    "workbench.cli.project",
    "workbench.cli.milvus",
    "workbench.cli.compare",
    "workbench.cli.evaluate",
    "workbench.cli.cluster",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Embedding Workbench. Without a command it opens the desktop app; with one it runs headless.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail on stderr (never secrets)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(subparsers)
    for sub in subparsers.choices.values():
        sub.add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="more detail on stderr"
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        from workbench.ui.app import run_app

        return run_app()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) and EXIT_INPUT
    if not args.command:
        parser.print_help()
        return 0
    configure_logging(getattr(args, "verbose", False), args.command)
    return run_guarded(args.handler, args)
