"""A recognisable fake key and token go through everything that can write or log; neither may appear anywhere.

Covered: CLI embed -v (local and Gemini against the fake server), CLI push with --token to an unreachable server,
the main window embedding with a key set, workspace save, autosave, every export format, a Milvus push with a
token (it fails: the message must not carry it), the app's log file (even a careless line that formats the key),
a crash report for an exception whose message carries the key, the CLI's report for an unexpected error, and
every log record at DEBUG from every logger.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from tests.conftest import REPO
from tests.fakes.fake_gemini import FakeGemini
from workbench.core.crash_report import configure_app_logging
from workbench.core.errors import WorkbenchError
from workbench.core.exports import export_vectors
from workbench.core.milvus import MilvusTarget, open_milvus
from workbench.core.session import save_workspace, write_autosave

KEY = "AIzaFAKE-SECRET-KEY-7f3a9c"
TOKEN = "root:FAKE-MILVUS-TOKEN-42b1"


def _files_with_secret(*roots: Path) -> list[str]:
    """Every file under the roots (and every member of a zip file) that contains the key or the token."""
    hits = []
    for root in roots:
        for path in root.rglob("*"):
            if not path.is_file():
                continue
            blobs = [path.read_bytes()]
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as archive:
                    blobs += [archive.read(name) for name in archive.namelist()]
            if any(secret.encode() in blob for blob in blobs for secret in (KEY, TOKEN)):
                hits.append(str(path))
    return hits


def _cli(*args: str, env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GEMINI_API_KEY": KEY, "MILVUS_TOKEN": TOKEN, **env_extra}
    return subprocess.run([sys.executable, "-m", "workbench", "-v", *args], cwd=REPO, capture_output=True,
                          text=True, env=env, timeout=180)  # fmt: skip


def test_no_file_and_no_log_line_carries_the_key_or_the_token(
    tmp_path: Path,
    workbench_home: Path,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
    window,
    qtbot,
    local_embedder,
) -> None:
    caplog.set_level(logging.DEBUG)
    log_file = configure_app_logging()  # the app's own log, as `workbench` with no sub-command sets it up
    request.addfinalizer(lambda: (logging.getLogger().removeHandler(log_file), log_file.close()))
    outputs: list[str] = []
    source = tmp_path / "in.txt"
    source.write_text("a first text\na second text\n")
    with FakeGemini() as server:
        gemini_env = {"GOOGLE_GEMINI_BASE_URL": server.base_url, "WORKBENCH_GEMINI_BACKOFF_S": "0.01"}
        for provider in ("local", "gemini"):
            done = _cli("embed", str(source), "--provider", provider, "--out", str(tmp_path / f"{provider}.parquet"),
                        env_extra=gemini_env)  # fmt: skip
            assert done.returncode == 0, done.stderr
            outputs += [done.stdout, done.stderr]
        assert all(r.headers["x-goog-api-key"] == KEY for r in server.embed_requests())  # the key did travel
    done = _cli("push", str(tmp_path / "local.parquet"), "--collection", "c", "--uri", "http://127.0.0.1:1",
                "--token", TOKEN, env_extra={})  # fmt: skip
    assert done.returncode == 1
    outputs += [done.stdout, done.stderr]

    target = MilvusTarget("http://127.0.0.1:1", token=TOKEN, timeout=2)
    with pytest.raises(WorkbenchError) as failed, open_milvus(target) as db:
        db.ensure_collection("c", 4)
    outputs.append(str(failed.value))

    window.state.embedders.put(local_embedder)
    window.load_sample_corpus()
    window.model_panel.key.setText(KEY)
    assert window.state.api_key == KEY
    with qtbot.waitSignal(window.state.vectors_changed, timeout=60_000):
        window.start_embedding()
    state = window.state
    workspace = window.file_actions.snapshot()  # what Save and autosave write
    workspace.view["api_key"] = KEY  # even a key slipped into the view settings must be dropped
    save_workspace(tmp_path / "w.workbench", workspace)
    write_autosave(workspace)
    vectors = np.asarray(state.embedding.vectors)
    for suffix in (".parquet", ".csv", ".npy", ".tsv"):
        export_vectors(tmp_path / f"export{suffix}", state.embedding.items, vectors, state.spec)

    window.milvus_panel.token.setText(TOKEN)
    assert window.milvus_panel.target().token == TOKEN  # the panel hands the token on (and registers it)
    logging.getLogger("workbench.careless").warning("request failed with key=%s token=%s", KEY, TOKEN)
    for earlier in workbench_home.rglob("autosave-*"):
        earlier.unlink()  # so the check below sees the autosave the crash forces
    try:
        raise RuntimeError(f"the server said: bad key {KEY}")
    except RuntimeError:
        report = window.crash_handler.handle(*sys.exc_info())  # what an exception in a slot reaches
    assert report is not None and report.is_relative_to(workbench_home)
    text = report.read_text(encoding="utf-8")
    assert "RuntimeError: the server said: bad key ***" in text and "request failed with key=***" in text
    qtbot.waitUntil(lambda: any(isinstance(w, QMessageBox) and w.isVisible() for w in window.children()), timeout=5_000)
    for box in [w for w in window.children() if isinstance(w, QMessageBox)]:
        assert str(report) in box.informativeText() and KEY not in box.text()
        box.close()
    qtbot.waitUntil(lambda: not window.runner.running(), timeout=30_000)  # the forced autosave
    assert list(workbench_home.rglob("autosave-*"))  # the crash autosaved the work

    canary = tmp_path / "canary.zip"  # the scan itself must be able to see a leak, zipped or not
    with zipfile.ZipFile(canary, "w") as archive:
        archive.writestr("inside.json", f'{{"k": "{KEY}"}}')
    assert _files_with_secret(tmp_path) == [str(canary)]
    canary.unlink()
    assert _files_with_secret(tmp_path, workbench_home) == []
    assert [o for o in outputs if KEY in o or TOKEN in o] == []
    leaked = [r.getMessage() for r in caplog.records if KEY in r.getMessage() or TOKEN in r.getMessage()]
    assert leaked == []


def test_an_unexpected_cli_error_is_a_report_without_the_key_not_a_traceback(
    workbench_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from workbench.cli.common import EXIT_SERVICE, run_guarded
    from workbench.core.secrets import register_secret

    register_secret(KEY)  # as gemini_key_from_env does when the key comes from the environment

    def buggy(args: argparse.Namespace) -> int:
        raise KeyError(f"no field for {KEY}")

    assert run_guarded(buggy, argparse.Namespace(command="embed")) == EXIT_SERVICE
    err = capsys.readouterr().err
    assert "unexpected error (KeyError" in err and "Traceback" not in err and KEY not in err
    reports = list((workbench_home / "data" / "crash-reports").glob("crash-*.txt"))
    assert len(reports) == 1 and str(reports[0]) in err
    assert "command: embed" in reports[0].read_text() and _files_with_secret(workbench_home) == []
