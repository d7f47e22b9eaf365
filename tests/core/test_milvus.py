"""core.milvus against a real Milvus Lite database in a temp dir: nothing is mocked."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.embedders.base import EmbeddingSpec, l2_normalise
from workbench.core.errors import Cancelled, InputError, ServiceError
from workbench.core.items import Item
from workbench.core.milvus import (
    INDEX_TYPES,
    REQUEST_BUDGET_BYTES,
    MilvusTarget,
    batch_bounds,
    field_equals,
    open_milvus,
    other_model_message,
    recall_at_k,
    render_filter,
    search_filter,
    value_like,
)
from workbench.core.milvus.target import MilvusUnreachable

SPEC = EmbeddingSpec(provider="local", model="test-model", dim=16)
TOPICS = ("space", "finance", "cats")


def corpus(n: int, dim: int = 16, seed: int = 0) -> tuple[list[Item], np.ndarray]:
    rng = np.random.default_rng(seed)
    items = [Item.create(f"text number {i}", metadata={"topic": TOPICS[i % 3], "n": i}) for i in range(n)]
    return items, l2_normalise(rng.normal(size=(n, dim)))


@pytest.fixture
def target(tmp_path: Path) -> MilvusTarget:
    return MilvusTarget(str(tmp_path / "test.db"))


def all_ids(db, name: str) -> list[str]:
    db.count(name)  # loads the collection
    return [str(r["id"]) for r in db.client.query(name, filter="", output_fields=["id"], limit=16_384)]


def test_create_then_reuse_then_refuse_what_differs(target: MilvusTarget) -> None:
    items, vectors = corpus(50)
    with open_milvus(target) as db:
        first = db.push("docs", items, vectors, SPEC)
        again = db.push("docs", items, vectors, SPEC)
        assert (first.created, again.created) == (True, False)
        info = db.describe("docs")
        assert (info.rows, info.dim, info.metric, info.index_type) == (50, 16, "COSINE", "AUTOINDEX")
        with pytest.raises(InputError, match="its metric is COSINE, not IP"):
            db.push("docs", items, vectors, SPEC, metric="IP")
        wide = l2_normalise(np.random.default_rng(1).normal(size=(50, 32)))
        with pytest.raises(InputError, match="holds 16-d vectors, these are 32-d"):
            db.push("docs", items, wide, SPEC)
        with pytest.raises(InputError, match="must be letters"):
            db.push("bad name; drop", items, vectors, SPEC)
        assert [c.name for c in db.collections()] == ["docs"]
        db.drop("docs")
        assert db.describe("docs") is None


def test_upsert_twice_keeps_the_count_and_rows_round_trip(target: MilvusTarget) -> None:
    items, vectors = corpus(300)
    with open_milvus(target) as db:
        db.push("docs", items, vectors, SPEC, max_batch_rows=64)
        report = db.push("docs", items, vectors, SPEC, max_batch_rows=64)
        assert (report.pushed, report.rows_after, report.batches) == (300, 300, 5)
        assert sorted(all_ids(db, "docs")) == sorted(i.id for i in items)
        row = db.client.get("docs", ids=[items[7].id], output_fields=["*"])[0]
    assert row["text"] == "text number 7" and row["kind"] == "document"
    assert row["metadata"] == {"topic": "finance", "n": 7}
    assert (row["provider"], row["model"], row["task"], row["dim"]) == ("local", "test-model", "document", 16)
    np.testing.assert_allclose(row["vector"], vectors[7], rtol=1e-6)


@pytest.mark.parametrize("index_type", INDEX_TYPES)
def test_search_returns_the_planted_nearest_neighbour_first(target: MilvusTarget, index_type: str) -> None:
    items, vectors = corpus(400)
    query = l2_normalise(vectors[123] + 0.05 * np.random.default_rng(9).normal(size=16))[0]
    with open_milvus(target) as db:
        db.push("docs", items, vectors, SPEC, index_type=index_type)
        assert db.describe("docs").index_type == index_type
        hits = db.search("docs", query, k=10)[0]
        exact, scanned = db.exact_search("docs", query, k=10)
    assert hits[0].id == items[123].id and hits[0].text == "text number 123"
    assert hits[0].score == pytest.approx(float(vectors[123] @ query), abs=1e-5)
    assert scanned == 400 and exact[0].id == items[123].id
    truth = np.argsort(-(vectors @ query))[:10]
    assert [h.id for h in exact] == [items[i].id for i in truth]
    assert recall_at_k([h.id for h in hits], [h.id for h in exact], 10) >= 0.8


def test_l2_scores_are_squared_distances_like_the_exact_ranking(target: MilvusTarget) -> None:
    items, vectors = corpus(60)
    with open_milvus(target) as db:
        db.push("docs", items, vectors, SPEC, metric="L2", index_type="FLAT")
        hits = db.search("docs", vectors[5], k=3)[0]
        exact, _ = db.exact_search("docs", vectors[5], k=3)
    assert [h.id for h in hits] == [h.id for h in exact]
    assert hits[0].score == pytest.approx(0.0, abs=1e-5)
    assert hits[1].score == pytest.approx(exact[1].score, rel=1e-4)


def test_a_filter_with_a_value_selects_and_a_malicious_value_cannot_change_it(target: MilvusTarget) -> None:
    items, vectors = corpus(90)
    expression = field_equals("metadata", "topic", "topic")
    with open_milvus(target) as db:
        db.push("docs", items, vectors, SPEC)
        hits = db.search("docs", vectors[0], k=90, expression=expression, params={"topic": "finance"})[0]
        assert len(hits) == 30 and {h.metadata["topic"] for h in hits} == {"finance"}
        for evil in ('finance" or metadata["topic"] != "', 'x\\" or true or \\"', "finance' or true or '"):
            assert db.search("docs", vectors[0], k=90, expression=expression, params={"topic": evil}) == [[]]
        exact, scanned = db.exact_search("docs", vectors[0], k=5, expression=expression, params={"topic": "cats"})
        assert scanned == 30 and {h.metadata["topic"] for h in exact} == {"cats"}
        with pytest.raises(InputError, match="rejected the filter"):
            db.search("docs", vectors[0], expression="metadata[ ==")
        with pytest.raises(InputError, match="has no value"):
            db.search("docs", vectors[0], expression="kind == {kind}", params={"other": 1})


def test_render_filter_quotes_values_and_leaves_literals_alone() -> None:
    assert render_filter('a == {v} and b == "{v}"', {"v": 'x" or "'}) == 'a == "x\\" or \\"" and b == "{v}"'
    assert render_filter("n in {ns} and f == {f}", {"ns": [1, 2], "f": True}) == "n in [1, 2] and f == true"
    with pytest.raises(InputError):
        render_filter("a == {v}", {"v": float("nan")})
    with pytest.raises(InputError, match="not a"):
        render_filter("a == {not ok}", {})


@pytest.fixture(scope="module")
def topic_db(tmp_path_factory):
    target = MilvusTarget(str(tmp_path_factory.mktemp("milvus") / "topics.db"))
    with open_milvus(target) as db:
        db.push("t", [Item.create("decoy", metadata={"topic": "decoy"})], corpus(1)[1], SPEC)
        yield db


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=20))
def test_any_text_value_matches_only_itself(topic_db, value: str) -> None:
    item = Item.create("row", metadata={"topic": value}, item_id="probe")
    topic_db.push("t", [item], np.ones((1, 16), np.float32) / 4, SPEC)
    expression = field_equals("metadata", "topic", "v")
    hits = topic_db.search("t", np.ones(16, np.float32), k=5, expression=expression, params={"v": value})[0]
    assert [(h.id, h.metadata["topic"]) for h in hits] == [("probe", value)]


def test_cancel_mid_push_keeps_finished_batches_and_a_re_push_completes(target: MilvusTarget) -> None:
    items, vectors = corpus(500)
    seen: list[int] = []
    with open_milvus(target) as db:
        with pytest.raises(Cancelled, match="Push again"):
            db.push(
                "docs",
                items,
                vectors,
                SPEC,
                max_batch_rows=100,
                progress=lambda d, t: seen.append(d),
                cancelled=lambda: len(seen) >= 3,
            )
        assert seen == [0, 100, 200] and db.count("docs") == 200
        report = db.push("docs", items, vectors, SPEC, max_batch_rows=100)
        assert report.rows_after == 500 and sorted(all_ids(db, "docs")) == sorted(i.id for i in items)


KILLED_PUSH = textwrap.dedent(
    """
    import sys, numpy as np
    from tests.core.test_milvus import SPEC, corpus
    from workbench.core.milvus import MilvusTarget, open_milvus
    items, vectors = corpus(int(sys.argv[2]))
    with open_milvus(MilvusTarget(sys.argv[1])) as db:
        db.push("docs", items, vectors, SPEC, max_batch_rows=100, progress=lambda d, t: print(d, flush=True))
    """
)


def test_a_process_killed_mid_push_leaves_a_database_that_opens_and_completes(target: MilvusTarget) -> None:
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_PUSH, target.uri, "3000"], cwd=root, stdout=subprocess.PIPE, text=True
    )
    acknowledged = 0
    for line in child.stdout:
        acknowledged = int(line)
        if acknowledged >= 500:
            break
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    assert child.returncode == -signal.SIGKILL and 500 <= acknowledged < 3000
    items, vectors = corpus(3000)
    with open_milvus(target) as db:
        assert acknowledged <= db.count("docs") < 3000
        assert db.push("docs", items, vectors, SPEC).rows_after == 3000
        ids = all_ids(db, "docs")
    assert len(ids) == len(set(ids)) == 3000


HOLDER = (
    "import sys; from workbench.core.milvus import *\nwith open_milvus(MilvusTarget(sys.argv[1])):\n"
    "    print('ready', flush=True); sys.stdin.read()"
)


def test_a_database_held_by_another_process_is_a_clear_service_error(target: MilvusTarget) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, target.uri], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(ServiceError, match="in use by another program"), open_milvus(target):
            pass
    finally:
        holder.communicate("", timeout=30)
    with open_milvus(target) as db:  # released by the holder's exit, and ours releases it after each use
        assert db.collections() == []
    other = subprocess.run([sys.executable, "-c", HOLDER, target.uri], input="", capture_output=True, text=True)
    assert other.returncode == 0, other.stderr


def test_nan_vectors_and_duplicate_ids_are_refused_before_milvus(target: MilvusTarget) -> None:
    items, vectors = corpus(10)
    vectors[4, 3] = np.nan
    with open_milvus(target) as db:
        with pytest.raises(InputError, match=f"Item '{items[4].id}'.*NaN or infinite"):
            db.push("docs", items, vectors, SPEC)
        with pytest.raises(InputError, match="appears twice"):
            db.push("docs", [items[0], items[0]], np.ones((2, 16), np.float32), SPEC)
        assert db.describe("docs") is None


def test_texts_over_the_byte_limit_are_cut_at_a_character_boundary(target: MilvusTarget) -> None:
    long_text = "é" * 40_000 + "€"  # 80 003 UTF-8 bytes but only 40 001 characters
    items = [Item.create(long_text), Item.create("short")]
    with open_milvus(target) as db:
        report = db.push("docs", items, np.ones((2, 16), np.float32) / 4, SPEC)
        stored = db.client.get("docs", ids=[items[0].id], output_fields=["text"])[0]["text"]
    assert report.truncated_ids == [items[0].id] and "cut to fit" in report.warnings[0]
    assert stored == "é" * 32_767 and len(stored.encode("utf-8")) <= 65_535


def test_pushing_another_models_vectors_warns(target: MilvusTarget) -> None:
    items, vectors = corpus(20)
    other = EmbeddingSpec(provider="gemini", model="gemini-embedding-001", dim=16)
    with open_milvus(target) as db:
        assert db.push("docs", items, vectors, SPEC).warnings == []
        warnings = db.push("docs", items, vectors, other, index_type="HNSW").warnings
    assert any("local · test-model" in w and "gemini · gemini-embedding-001" in w for w in warnings)
    assert any("keeps its AUTOINDEX index" in w for w in warnings)


def test_a_search_filter_carries_user_values_as_parameters() -> None:
    assert search_filter("", "", "", "") == ("", {})
    expression, params = search_filter("document", "topic", 'x" or kind != "', "n > 3")
    assert expression == 'kind == {kind} and metadata["topic"] == {value} and (n > 3)'
    assert params == {"kind": "document", "value": 'x" or kind != "'}
    assert search_filter("", "year", 0, "") == ('metadata["year"] == {value}', {"value": 0})  # 0 is a value
    assert value_like("2020", [1999, 2.5]) == 2020 and value_like("2.5", [1]) == 2.5
    assert value_like("x", [1]) == "x" and value_like("2020", ["1999"]) == "2020" and value_like("1", [True]) == "1"


def test_the_other_model_message_names_both_models_and_only_when_they_differ() -> None:
    message = other_model_message("docs", ("local", "test-model", 16), EmbeddingSpec("gemini", "g-1", 16))
    assert message == (
        "Collection 'docs' holds vectors from local · test-model, not from gemini · g-1: "
        "scores between the two models mean nothing."
    )
    assert other_model_message("docs", None, SPEC) is None  # an empty collection
    assert other_model_message("docs", ("local", "test-model", 8), SPEC) is None  # a dim differs: an error elsewhere


def test_batches_stay_under_the_request_budget() -> None:
    row = 3072 * 4 + 60_000
    bounds = batch_bounds([row] * 1000, max_rows=2000)
    assert bounds[0] == (0, REQUEST_BUDGET_BYTES // row) and bounds[-1][1] == 1000
    assert all(row * (end - start) <= REQUEST_BUDGET_BYTES for start, end in bounds)
    assert batch_bounds([10] * 5, max_rows=2) == [(0, 2), (2, 4), (4, 5)]


def test_an_unreachable_server_is_a_service_error_without_the_token() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    target = MilvusTarget(f"http://user:pw@127.0.0.1:{port}", token="s3cret-token", timeout=3)
    assert "s3cret" not in repr(target) and target.display == f"http://***@127.0.0.1:{port}"
    with pytest.raises(MilvusUnreachable, match="Cannot reach Milvus") as caught, open_milvus(target):
        pass
    assert "s3cret" not in str(caught.value) and "pw" not in str(caught.value)


def test_a_filtered_read_that_cannot_reach_milvus_is_not_blamed_on_the_filter(target: MilvusTarget) -> None:
    """Known by type (MilvusUnreachable, from pymilvus' connection code 2), not by our sentence's wording."""
    from pymilvus.exceptions import MilvusException

    def unreachable() -> None:
        raise MilvusException(code=2, message="Fail connecting to server on 127.0.0.1:9")

    def refused() -> None:
        raise MilvusException(code=1100, message="cannot parse expression: topic ==")

    items, vectors = corpus(5)
    with open_milvus(target) as db:
        db.push("docs", items, vectors, SPEC)
        with pytest.raises(MilvusUnreachable, match="Cannot reach Milvus"):
            db._run_filtered("query 'docs'", unreachable, "topic == 'cats'")
        with pytest.raises(InputError, match="rejected the filter 'topic =='"):
            db._run_filtered("query 'docs'", refused, "topic ==")


def test_a_lite_path_must_end_in_db(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"must end in \.db"), open_milvus(MilvusTarget(str(tmp_path / "x.sqlite"))):
        pass


def test_threads_opening_one_lite_database_at_once_share_it(target: MilvusTarget) -> None:
    """The app's tasks may open the database together (a list while a push ends); none may see it 'locked'."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    barrier = Barrier(6)

    def open_and_list(_: int) -> int:
        barrier.wait(10)
        with open_milvus(target) as db:
            return len(db.collections())

    for _ in range(3):
        with ThreadPoolExecutor(6) as pool:
            assert list(pool.map(open_and_list, range(6))) == [0] * 6


def test_a_missing_collection_is_its_own_error_and_other_refusals_are_not(target: MilvusTarget) -> None:
    """Callers (the search lab's "push the documents first") know a missing collection by its type, which
    survives the pickling that carries it out of the app's Milvus process; a different refusal is no such thing."""
    import pickle

    from workbench.core.milvus.rebuild import rebuild_with_fulltext
    from workbench.core.milvus.target import MissingCollection

    items, vectors = corpus(5)
    with open_milvus(target) as db:
        db.push("docs", items, vectors, SPEC)
        with pytest.raises(MissingCollection, match=r"^There is no collection 'absent' at ") as missing:
            db.search("absent", vectors[:1], k=3)
        with pytest.raises(MissingCollection, match=r"^There is no collection 'absent' at "):
            rebuild_with_fulltext(db, "absent")
        with pytest.raises(InputError, match="holds 16-d vectors") as other:
            db.search("docs", vectors[:1, :8], k=3)  # a query of another dim: refused, but the collection is there
    assert not isinstance(other.value, MissingCollection)
    crossed = pickle.loads(pickle.dumps(missing.value))
    assert type(crossed) is MissingCollection and str(crossed) == str(missing.value)
