"""Issue 14's findings, one test (or a few) each: secrets, outputs, time, hostile files, bad values.

Gemini runs against the fake server on 127.0.0.1 with the real google-genai client.
"""

from __future__ import annotations

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
