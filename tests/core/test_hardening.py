"""Issue 14's findings, one test (or a few) each: secrets, outputs, time, hostile files, bad values.

Gemini runs against the fake server on 127.0.0.1 with the real google-genai client.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fakes.fake_gemini import FakeGemini, Fault
from workbench.core.embedders.gemini import GeminiEmbedder, RetryPolicy
from workbench.core.errors import InputError, ServiceError

ECHOED_KEY = "AIzaFAKE-echoed-key-5551234567"


@pytest.fixture
def server():
    with FakeGemini() as fake:
        yield fake


def gemini(server: FakeGemini, key: str = ECHOED_KEY, **kw) -> GeminiEmbedder:
    retry = RetryPolicy(attempts=kw.pop("attempts", 2), base_delay=0.001, max_delay=0.01)
    return GeminiEmbedder("gemini-embedding-001", key, 768, base_url=server.base_url, retry=retry, **kw)


# -- 2: a key echoed by a server -----------------------------------------------------------------------------------
def test_a_key_echoed_in_a_server_message_is_scrubbed(server) -> None:
    server.fail_next(Fault(status=400, reason="INVALID_ARGUMENT", message=f"bad request for key {ECHOED_KEY}"))
    with pytest.raises(ServiceError, match="bad request for key") as caught:
        gemini(server).encode_documents(["a"])
    assert ECHOED_KEY not in str(caught.value) and "***" in str(caught.value)


def test_every_workbench_error_message_is_scrubbed() -> None:
    from workbench.core.secrets import register_secret

    secret = "a-registered-secret-2468"
    register_secret(secret)
    for kind in (InputError, ServiceError):
        assert str(kind(f"the server said {secret}")) == "the server said ***"


# -- 1: proxy credentials in a base URL ----------------------------------------------------------------------------
def with_credentials(url: str, userinfo: str = "proxyuser:pass") -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{userinfo}@{rest}"


def test_credentials_in_the_base_url_are_in_no_message_and_no_log_line(server, workbench_home, request) -> None:
    import logging

    from workbench.core.crash_report import configure_app_logging, log_path

    handler = configure_app_logging()
    request.addfinalizer(lambda: (logging.getLogger().removeHandler(handler), handler.close()))
    assert not logging.getLogger("httpx2").isEnabledFor(logging.INFO)
    assert not logging.getLogger("httpcore2").isEnabledFor(logging.INFO)
    embedder = GeminiEmbedder(api_key=ECHOED_KEY, dim=8, base_url=with_credentials(server.base_url))
    assert len(embedder.encode_documents(["a"])) == 1  # the credentials did not stop the request
    logging.getLogger("httpx2").warning("HTTP Request: POST %s failed", with_credentials(server.base_url))
    dead = GeminiEmbedder(
        api_key=ECHOED_KEY,
        base_url="http://proxyuser:a-long-proxy-password@127.0.0.1:9/",
        retry=RetryPolicy(2, 0.001),
    )
    with pytest.raises(ServiceError, match=r"Cannot reach Gemini at 127\.0\.0\.1:9 ") as caught:
        dead.encode_documents(["a"])
    handler.flush()
    shown = str(caught.value) + log_path().read_text(encoding="utf-8")
    assert "failed" in shown
    assert "proxyuser" not in shown and ":pass@" not in shown and "a-long-proxy-password" not in shown


def test_a_url_is_shown_without_its_userinfo() -> None:
    from workbench.core.secrets import scrub, shown_url

    assert shown_url("http://u:p@example.org:8080/v1") == "http://example.org:8080/v1"
    assert shown_url("https://example.org") == "https://example.org"
    assert "s3cret-password" not in scrub("proxy at http://u:s3cret-password@example.org refused")


# -- 5: concurrent writers of one output -------------------------------------------------------------------------
def test_two_writers_of_one_path_get_different_temporary_names(tmp_path) -> None:
    from workbench.core.atomic import atomic_path

    target = tmp_path / "same.parquet"
    with atomic_path(target) as first, atomic_path(target) as second:
        assert first != second and first.parent == second.parent == tmp_path
        first.write_bytes(b"first")
        second.write_bytes(b"second")
    assert target.read_bytes() in (b"first", b"second")
    assert [p.name for p in tmp_path.iterdir()] == ["same.parquet"]


def test_exchange_writes_remove_their_temporary_file_on_failure(tmp_path, monkeypatch) -> None:
    import numpy as np
    import pyarrow.parquet as pq

    from workbench.core.embedders.base import EmbeddingSpec
    from workbench.core.exchange import write_parquet
    from workbench.core.items import Item

    def half_then_fail(table, where, **kw):
        Path(where).write_bytes(b"PAR1 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", half_then_fail)
    with pytest.raises(OSError):
        write_parquet(tmp_path / "o.parquet", [Item.create("a")], np.ones((1, 2), np.float32), EmbeddingSpec())
    assert list(tmp_path.iterdir()) == []


def test_stale_partial_files_of_ours_are_cleaned_up_when_writing_beside_them(tmp_path) -> None:
    import time

    from workbench.core.atomic import atomic_path

    stale, fresh, foreign = (
        tmp_path / ".o.parquet.123.ab12cd.partial",
        tmp_path / ".o.parquet.9.ff.partial",
        tmp_path / "notes.partial",
    )
    for path in (stale, fresh, foreign):
        path.write_bytes(b"x")
    old = time.time() - 2 * 86_400
    os.utime(stale, (old, old))
    os.utime(foreign, (old, old))
    with atomic_path(tmp_path / "other.csv") as tmp:
        tmp.write_text("a\n")
    assert not stale.exists() and fresh.exists() and foreign.exists()


CONCURRENT_WRITER = """
import sys, numpy as np
from workbench.core.embedders.base import EmbeddingSpec
from workbench.core.exchange import write_parquet
from workbench.core.items import Item
items = [Item.create(f"text {i} " * 20) for i in range(2000)]
vectors = np.random.default_rng(int(sys.argv[2])).normal(size=(2000, 64)).astype(np.float32)
for _ in range(15):
    write_parquet(sys.argv[1], items, vectors, EmbeddingSpec())
"""


def test_two_processes_writing_one_exchange_file_leave_a_readable_file(tmp_path) -> None:
    import subprocess
    import sys

    from workbench.core.exchange import read_parquet

    target = tmp_path / "same.parquet"
    writers = [
        subprocess.Popen([sys.executable, "-c", CONCURRENT_WRITER, str(target), str(seed)], stderr=subprocess.PIPE)
        for seed in (1, 2)
    ]
    errors = [writer.communicate(timeout=120)[1].decode() for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0], errors
    assert len(read_parquet(target).items) == 2000
    assert [p.name for p in tmp_path.iterdir()] == ["same.parquet"]


# -- 4: a hung server: a timeout and a cancel ---------------------------------------------------------------------
def finishes_within(seconds: float, call) -> tuple[object, BaseException | None, float]:
    """Run `call` in a thread; fail the test if it has not returned within `seconds` (today's code would hang)."""
    import threading
    import time

    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error

    start = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still waiting after {seconds} s"
    return outcome.get("value"), outcome.get("error"), time.monotonic() - start  # type: ignore[return-value]


def test_a_hung_server_fails_after_the_timeout_retries_included(server, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_GEMINI_TIMEOUT_S", "0.5")
    server.fail_next(*[Fault(hang=True)] * 6)
    embedder = GeminiEmbedder(api_key=ECHOED_KEY, dim=8, base_url=server.base_url, retry=RetryPolicy(5, 0.01))
    assert embedder.timeout_s == 0.5
    _, error, took = finishes_within(6, lambda: embedder.encode_documents(["a"]))
    assert isinstance(error, ServiceError), error
    assert "did not answer within 0.5 s" in str(error) and "--timeout" in str(error)
    assert took < 0.5 * 3 + 1.0  # the budget: three times the timeout, every retry included
    assert len(server.embed_requests()) >= 2  # it did retry within the budget


def test_the_default_timeouts_fail_a_dead_server_within_30_s() -> None:
    from workbench.core.embedders.gemini import BUDGET_TIMEOUTS

    embedder = GeminiEmbedder(api_key=ECHOED_KEY)
    assert embedder.timeout_s * BUDGET_TIMEOUTS <= 30
    with pytest.raises(InputError, match="timeout"):
        GeminiEmbedder(api_key=ECHOED_KEY, timeout_s=0)


def test_cancel_ends_a_hung_request_within_a_second_and_keeps_finished_batches(server) -> None:
    import threading
    import time

    from workbench.core.cache import EmbeddingCache
    from workbench.core.embedding import embed_items
    from workbench.core.errors import Cancelled
    from workbench.core.items import Item

    server.fail_next(Fault(), Fault(hang=True))  # the first batch is answered, the second never
    embedder = gemini(server, timeout_s=60)
    embedder.max_concurrency = 1
    cache = EmbeddingCache()
    first_batch_done, cancel_at = threading.Event(), [float("inf")]

    def progress(done: int, total: int) -> None:
        if done >= 100:
            first_batch_done.set()

    def cancelled() -> bool:
        if first_batch_done.is_set() and cancel_at[0] == float("inf"):
            cancel_at[0] = time.monotonic() + 0.3  # cancel while the second request hangs
        return time.monotonic() >= cancel_at[0]

    items = [Item.create(f"text {i}") for i in range(150)]
    _, error, _ = finishes_within(10, lambda: embed_items(items, embedder, cache, progress, cancelled))
    assert isinstance(error, Cancelled), error
    assert time.monotonic() - cancel_at[0] < 1.5
    assert "100 of 150" in str(error)
    assert cache.count() == 100


# -- 8: crashes where the contract promises a clear message -------------------------------------------------------
def test_a_key_with_characters_no_key_has_is_refused_clearly(server) -> None:
    with pytest.raises(InputError, match="API key"):
        GeminiEmbedder(api_key="AIzaFAKE-key-with-ü-inside", base_url=server.base_url).encode_documents(["a"])
    with pytest.raises(InputError, match="API key"):
        GeminiEmbedder(api_key="AIzaFAKE key with a space", base_url=server.base_url)


@pytest.mark.parametrize("body", ["<html><body>Proxy login</body></html>", '{"embeddings": [', "[1, 2, 3]"])
def test_a_200_answer_that_is_not_json_is_a_service_error(server, body: str) -> None:
    server.fail_next(Fault(raw_body=body))
    with pytest.raises(ServiceError, match="not an answer from the Gemini API"):
        gemini(server).encode_documents(["a"])


def small_workspace_file(tmp_path: Path) -> Path:
    import numpy as np

    from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
    from workbench.core.embedding import EmbeddingResult
    from workbench.core.items import Item
    from workbench.core.session import Workspace, save_workspace

    items = [Item.create(f"document {i}") for i in range(4)]
    vectors = l2_normalise(np.random.default_rng(0).normal(size=(4, 8)))
    embedding = EmbeddingResult(items, vectors, EmbeddingSpec(dim=8), 8, 4, 0)
    workspace = Workspace(items=items, spec=EmbeddingSpec(dim=8), embedding=embedding, view={"colour_by": "kind"})
    return save_workspace(tmp_path / "w.workbench", workspace)


def rewritten(path: Path, name: str, data: bytes, compress: int | None = None) -> Path:
    """A copy of a workspace file with one member replaced by `data` (other members as they were)."""
    import zipfile

    out = path.with_name(f"edited-{path.name}")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            payload = data if info.filename == name else source.read(info.filename)
            target.writestr(info.filename, payload, compress_type=compress or info.compress_type)
    return out


def manifest_with(path: Path, **changes: object) -> dict:
    import json
    import zipfile

    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    for dotted, value in changes.items():
        target = manifest
        *parents, last = dotted.split("__")
        for parent in parents:
            target = target[parent]
        target[last] = value
    return manifest


@pytest.mark.parametrize(
    "changes",
    [
        {"members": []},
        {"members__vectors.npy": "x"},
        {"members__vectors.npy__size": "12"},
        {"embedding": "x"},
        {"embedding__rows": "many"},
        {"embedding__rows": 10**30},
        {"embedding__dim": -3},
        {"embedding__encoded": None},
        {"spec": {"provider": ["x"], "model": "m", "dim": 8, "document_task": "d", "query_task": "q"}},
        {"spec__dim": "eight"},
        {"selection": 5},
        {"selection": [1, 2]},
        {"cluster_names": [1]},
        {"cluster_names": {"one": "a"}},
        {"view": [1]},
        {"projection_note": {"a": 1}},
        {"saved_at": 7},
        {"version": True},
    ],
    ids=lambda changes: ",".join(changes),
)
def test_a_manifest_with_fields_of_the_wrong_type_is_damaged(tmp_path: Path, changes: dict) -> None:
    import json

    from workbench.core.session import load_workspace, read_manifest

    path = small_workspace_file(tmp_path)
    bad = rewritten(path, "manifest.json", json.dumps(manifest_with(path, **changes)).encode())
    for read in (load_workspace, read_manifest):
        with pytest.raises(InputError, match="damaged"):
            read(bad)


def test_a_manifest_nested_200000_deep_is_damaged(tmp_path: Path) -> None:
    import json

    from workbench.core.session import load_workspace, read_manifest

    path = small_workspace_file(tmp_path)
    manifest = manifest_with(path)
    del manifest["view"]
    text = json.dumps(manifest)[:-1] + ', "view": {"a": ' + "[" * 200_000 + "]" * 200_000 + "}}"
    bad = rewritten(path, "manifest.json", text.encode())
    for read in (load_workspace, read_manifest):
        with pytest.raises(InputError, match="damaged"):
            read(bad)
    shallow = json.dumps(manifest)[:-1] + ', "view": {"a": ' + "[" * 100 + "]" * 100 + "}}"
    with pytest.raises(InputError, match="damaged"):
        load_workspace(rewritten(path, "manifest.json", shallow.encode()))


def test_utf16_text_is_read_as_text_or_refused_without_advising_replace(tmp_path: Path) -> None:
    from workbench.core.importers import ImportOptions, read_items

    with_bom = tmp_path / "bom.txt"
    with_bom.write_text("first line\nsecond line\n", encoding="utf-16")
    for errors in ("strict", "replace"):
        items, _ = read_items(with_bom, ImportOptions(encoding_errors=errors))
        assert [item.text for item in items] == ["first line", "second line"]
    without_bom = tmp_path / "plain.txt"
    without_bom.write_bytes("first line\nsecond line\n".encode("utf-16-le"))
    for errors in ("strict", "replace"):
        with pytest.raises(InputError, match="UTF-16") as caught:
            read_items(without_bom, ImportOptions(encoding_errors=errors))
        assert "replace" not in str(caught.value) and "plain.txt" in str(caught.value)
    csv_file = tmp_path / "table.csv"
    csv_file.write_text("id,text\n1,a first text\n", encoding="utf-16")
    items, _ = read_items(csv_file)
    assert [(item.id, item.text) for item in items] == [("1", "a first text")]


# -- 6: zip bombs ---------------------------------------------------------------------------------------------------
def with_bomb(path: Path, name: str, size: int, declare: bool = True) -> Path:
    """A copy of a workspace file whose member `name` is `size` zero bytes, deflated (a few hundred KB on disk);
    with `declare`, the manifest states that size (and a checksum), so only a size cap can refuse it."""
    import json
    import zipfile

    out = path.with_name(f"bomb-{name}-{path.name}")
    with zipfile.ZipFile(path) as source:
        manifest = json.loads(source.read("manifest.json"))
        if declare and name != "manifest.json":
            manifest["members"][name] = {"size": size, "sha256": "0" * 64}
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                if info.filename == name:
                    continue
                data = json.dumps(manifest).encode() if info.filename == "manifest.json" else source.read(info)
                target.writestr(info.filename, data)
            with target.open(name, "w", force_zip64=True) as handle:
                if name == "manifest.json":
                    handle.write(json.dumps(manifest).encode())
                chunk = (b" " if name == "manifest.json" else b"\0") * (1 << 20)
                for _ in range(size >> 20):
                    handle.write(chunk)
    return out


@pytest.mark.parametrize(
    "name", ["vectors.npy", "items.parquet", "manifest.json", "projection.npy"], ids=lambda name: name
)
def test_a_zip_bomb_member_is_refused_before_it_is_read(tmp_path: Path, name: str) -> None:
    import tracemalloc

    from workbench.core.session import load_workspace, read_manifest

    bomb = with_bomb(small_workspace_file(tmp_path), name, 64 << 20)
    assert bomb.stat().st_size < 2 << 20
    tracemalloc.start()
    try:
        for read in (load_workspace, read_manifest) if name == "manifest.json" else (load_workspace,):
            with pytest.raises(InputError, match="damaged"):
                read(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"{peak >> 20} MB were allocated to refuse a bomb"


def test_a_member_larger_than_its_declared_size_is_refused(tmp_path: Path) -> None:
    import zipfile

    from workbench.core.session import load_workspace

    path = small_workspace_file(tmp_path)
    with zipfile.ZipFile(path) as archive:
        vectors = archive.read("vectors.npy")
    grown = rewritten(path, "vectors.npy", vectors + b"\0" * 4096)
    with pytest.raises(InputError, match="damaged"):
        load_workspace(grown)


# -- 9: bad values refused where they enter -------------------------------------------------------------------------
class ZeroEmbedder:
    """A provider that answers an all-zero vector for its second text."""

    batch_size, max_concurrency = 10, 1

    def __init__(self) -> None:
        from workbench.core.embedders.base import EmbeddingSpec

        self.spec = EmbeddingSpec("local", "zeros", 4)

    @property
    def dim(self) -> int:
        return 4

    def encode_documents(self, texts: list[str]):
        import numpy as np

        return [np.zeros(4, np.float32) if i == 1 else np.ones(4, np.float32) / 2 for i in range(len(texts))]

    encode_queries = encode_documents


def test_an_all_zero_vector_from_a_provider_is_refused_and_not_cached() -> None:
    from workbench.core.cache import EmbeddingCache
    from workbench.core.embedding import embed_items
    from workbench.core.items import Item

    cache = EmbeddingCache()
    with pytest.raises(ServiceError, match=r"all-zero vector .*text 2 of its batch"):
        embed_items([Item.create("a"), Item.create("b"), Item.create("c")], ZeroEmbedder(), cache)
    assert cache.count() == 0


def exchange_table(ids, vectors):
    import pyarrow as pa

    return pa.table({"id": pa.array(ids), "text": ["t"] * len(ids), "kind": ["document"] * len(ids), "vector": vectors})


@pytest.mark.parametrize(
    ("ids", "vectors", "message"),
    [
        (["a", None], [[1.0, 0.0], [0.0, 1.0]], r"row 2, field 'id'"),
        (["a", ""], [[1.0, 0.0], [0.0, 1.0]], r"row 2, field 'id'"),
        (["a", "b"], [["1.0", "0.0"], ["0.0", "1.0"]], r"field 'vector'.*numbers"),
        (["a", "b"], [[1.0, 0.0], [float("inf"), 1.0]], r"row 2, field 'vector'"),
        (["a", "b"], [[1.0, 0.0], [0.0, 0.0]], r"row 2, field 'vector'.*zero"),
    ],
)
def test_an_exchange_file_with_bad_ids_or_vectors_is_refused_naming_the_row(tmp_path, ids, vectors, message) -> None:
    import pyarrow.parquet as pq

    from workbench.core.exchange import read_parquet

    pq.write_table(exchange_table(ids, vectors), tmp_path / "bad.parquet")
    with pytest.raises(InputError, match=message):
        read_parquet(tmp_path / "bad.parquet")


def test_exports_with_text_or_nan_vectors_are_refused(tmp_path: Path) -> None:
    import numpy as np

    from workbench.core.exports import read_export

    (tmp_path / "s.jsonl").write_text('{"id": "a", "text": "t", "kind": "document"}\n')
    np.save(tmp_path / "s.npy", np.array([["0.5", "0.5"]]))
    with pytest.raises(InputError, match="numbers"):
        read_export(tmp_path / "s.npy")
    (tmp_path / "n.jsonl").write_text('{"id": "a", "text": "t", "kind": "document"}\n')
    np.save(tmp_path / "n.npy", np.array([[np.nan, 0.5]], np.float32))
    with pytest.raises(InputError, match="row 1, field 'vector'"):
        read_export(tmp_path / "n.npy")
    (tmp_path / "c.csv").write_text('id,text,kind,vector\na,t,document,"[""0.5"", ""0.5""]"\n')
    with pytest.raises(InputError, match="row 1, field 'vector'"):
        read_export(tmp_path / "c.csv")


def workspace_with(tmp_path: Path, vectors=None, dim: int | None = None, duplicate: bool = False) -> Path:
    """A saved workspace, its vectors (or the manifest's dim, or an item id) then changed as a damaged file would."""
    import hashlib
    import io
    import json
    import zipfile

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = small_workspace_file(tmp_path)
    manifest = manifest_with(path)
    replaced: dict[str, bytes] = {}
    if vectors is not None:
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(vectors, np.float32))
        replaced["vectors.npy"] = buffer.getvalue()
    if duplicate:
        with zipfile.ZipFile(path) as archive:
            table = pq.read_table(pa.BufferReader(archive.read("items.parquet")))
        ids = table.column("id").to_pylist()
        table = table.set_column(0, "id", pa.array([ids[0], ids[0], *ids[2:]]))
        sink = io.BytesIO()
        pq.write_table(table, sink)
        replaced["items.parquet"] = sink.getvalue()
    if dim is not None:
        manifest["embedding"]["dim"] = dim
    for name, data in replaced.items():
        manifest["members"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    out = tmp_path / "changed.workbench"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = replaced.get(info.filename) or source.read(info.filename)
            target.writestr(info.filename, json.dumps(manifest) if info.filename == "manifest.json" else data)
    return out


def test_a_workspace_with_nan_vectors_a_false_dim_or_duplicate_ids_is_damaged(tmp_path: Path) -> None:
    import numpy as np

    from workbench.core.session import load_workspace

    nan = np.ones((4, 8), np.float32) / np.sqrt(8)
    nan[1, 3] = np.nan
    for case, path in {
        "NaN": workspace_with(tmp_path, vectors=nan),
        "dim": workspace_with(tmp_path, dim=16),
        "duplicate": workspace_with(tmp_path, duplicate=True),
    }.items():
        with pytest.raises(InputError, match="damaged"):
            load_workspace(path)
            pytest.fail(f"{case}: opened")


def test_a_temporary_file_left_by_a_killed_save_is_removed_by_the_next_save(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    from workbench.core.atomic import atomic_path

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f".w.workbench.{dead.pid}.0a1b2c3d.partial"
    left.write_bytes(b"\0" * 1024)
    a_while_ago = time.time() - 120
    os.utime(left, (a_while_ago, a_while_ago))
    with atomic_path(tmp_path / "w.workbench") as tmp:
        tmp.write_bytes(b"saved")
    assert not left.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["w.workbench"]


# -- 7: a length guard before the tokenizer ----------------------------------------------------------------------
class RecordingEmbedder(ZeroEmbedder):
    """Unit vectors, and the length of the longest text it was handed."""

    longest = 0

    def encode_documents(self, texts: list[str]):
        import numpy as np

        self.longest = max(self.longest, *(len(t) for t in texts))
        return [np.ones(4, np.float32) / 2 for _ in texts]

    encode_queries = encode_documents


def test_a_huge_text_is_cut_to_the_cap_before_it_reaches_the_model(monkeypatch, caplog) -> None:
    from workbench.core.cache import EmbeddingCache
    from workbench.core.embedding import DEFAULT_MAX_TEXT_CHARS, embed_items
    from workbench.core.items import Item

    assert DEFAULT_MAX_TEXT_CHARS == 1_000_000
    huge = Item.create("word " * 2_000_000)  # 10 MB on one line
    embedder, cache = RecordingEmbedder(), EmbeddingCache()
    result = embed_items([huge, Item.create("short")], embedder, cache)
    assert embedder.longest == DEFAULT_MAX_TEXT_CHARS
    assert result.items[0].text == huge.text  # the item keeps its text; only what the model reads is cut
    assert "cut" in caplog.text and "1,000,000" in caplog.text
    monkeypatch.setenv("WORKBENCH_MAX_TEXT_CHARS", "1000")
    embedder = RecordingEmbedder()
    embed_items([Item.create("other " * 1000)], embedder, cache)
    assert embedder.longest == 1000
    embedder = RecordingEmbedder()
    embed_items([Item.create("third " * 1000)], embedder, cache, max_text_chars=50)
    assert embedder.longest == 50
