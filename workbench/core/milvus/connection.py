"""How one operation opens Milvus: a connection per operation, so the app and the CLI can take turns on a file.

- Milvus Lite lets one process at a time hold a database (a `.db` folder with a LOCK file), and pymilvus keeps
  the in-process Lite server running after `MilvusClient.close()`. `open_milvus` therefore opens the database
  for one operation and stops the Lite server when the last user in this process is done, so the app and the
  CLI can take turns on the same file; a locked file is a `ServiceError` that says so.
- pymilvus logs an ERROR with a traceback for every failed call, and Milvus Lite logs one when a database is
  locked. We raise our own sentence instead (`target.service_errors`), so their loggers go to a NullHandler.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workbench.core.errors import InputError, ServiceError
from workbench.core.milvus.store import MilvusStore
from workbench.core.milvus.target import MilvusTarget, service_error


def _quiet_third_party_logs() -> None:
    """pymilvus and Milvus Lite print their own ERROR tracebacks to stderr; we report errors ourselves.

    grpc._server is the in-process Lite server: it logs a traceback for each RPC Lite does not implement (pymilvus
    asks for AllocTimestamp when creating a collection and falls back on its own).
    """
    for name in ("pymilvus", "pymilvus.milvus_client", "pymilvus.bulk_writer", "milvus_lite", "grpc._server"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [logging.NullHandler()]
        logger.propagate = False


_lite_lock = threading.Lock()
_lite_users: dict[str, int] = {}


def _lite_is_locked(path: str) -> bool:
    """Whether another process holds the Lite database's LOCK file (probed only after an open failed)."""
    lock_file = Path(path) / "LOCK"
    if os.name != "posix" or not lock_file.exists():  # the probe needs fcntl; elsewhere the message stays general
        return False
    import fcntl

    with open(lock_file, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


@contextmanager
def open_milvus(target: MilvusTarget | None = None) -> Iterator[MilvusStore]:
    """A connection for one operation. For Milvus Lite the database is released when the last user is done."""
    target = target or MilvusTarget.default()
    from pymilvus import MilvusClient

    _quiet_third_party_logs()
    uri = target.resolved_uri
    if not target.is_server:
        if not uri.endswith(".db"):
            raise InputError(f"{uri}: a Milvus Lite database name must end in .db (or pass a server URI).")
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
        with _lite_lock:
            _lite_users[uri] = _lite_users.get(uri, 0) + 1
    try:
        try:
            if target.is_server:
                client = MilvusClient(uri=uri, token=target.token, timeout=target.timeout)
            else:
                # Milvus Lite's server manager races when two threads start the same database at once (the
                # loser hits our own file lock), so this process starts or joins it under one lock.
                with _lite_lock:
                    client = MilvusClient(uri=uri, token=target.token, timeout=target.timeout)
        except Exception as error:
            if not target.is_server:
                if _lite_is_locked(uri):
                    raise ServiceError(
                        f"The Milvus Lite database {uri} is in use by another program (the Workbench app or "
                        "another workbench command); wait for it to finish or use another database."
                    ) from error
                raise ServiceError(
                    f"Could not open the Milvus Lite database {uri}; it may be damaged or from another Milvus "
                    "Lite version."
                ) from error
            raise service_error(target, "connect", error) from error
        try:
            yield MilvusStore(client, target)
        finally:
            client.close()
    finally:
        if not target.is_server:
            with _lite_lock:
                _lite_users[uri] -= 1
                if _lite_users[uri] == 0:
                    del _lite_users[uri]
                    from milvus_lite.server_manager import server_manager_instance

                    server_manager_instance.release_server(uri)
