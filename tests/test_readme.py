"""The README's test command is the one CI runs: they must not drift apart."""

from __future__ import annotations

import re

from tests.conftest import REPO


def _readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    return [line.strip() for block in blocks[:2] for line in block.splitlines() if line.strip()]


def test_readme_has_a_run_command_and_a_test_command() -> None:
    run, test = _readme_commands()
    assert run.endswith("&& workbench")
    assert "pytest" in test


def test_ci_runs_exactly_the_readme_test_command() -> None:
    _, test = _readme_commands()
    ci_lines = [line.strip() for line in (REPO / ".ci/run").read_text().splitlines()]
    assert test in ci_lines
