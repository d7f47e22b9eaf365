"""A fake Gemini API on 127.0.0.1: a real HTTP server that answers like Google's, for the real google-genai client.

It answers `models/{m}:batchEmbedContents`, `models/{m}:embedContent`, `models/{m}:countTokens`,
`models/{m}:generateContent` (text: an answer made from the prompt by `reply`, by default `fake_reply`) and the model
list with the API's JSON shapes, and Batch mode as the SDK calls it (`models/{m}:asyncBatchEmbedContent` creates
a job from inlined requests, `GET batches/{id}` reports it: pending, then running, then its answers in
`metadata.output.inlinedResponses.inlinedResponses`, a failed request as an `error`, as the real API returns them).
It records every request (path, headers, body), and can be told to misbehave: answer an HTTP error (with a body
shaped like Google's, and Retry-After), drop the connection, return the wrong number of embeddings or the wrong
dimension, answer 200 with a body that is not the API's, be slow, or hang (read a request and never answer it until
the server stops). Vectors are deterministic from the text (not normalised unless 3072-d, as the real API), so tests
can check what reached the server.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

NATIVE_DIMS = {"gemini-embedding-001": 3072, "gemini-embedding-2": 3072, "text-embedding-004": 768}
RETIRED = {"gemini-embedding-exp-03-07", "text-embedding-004", "embedding-001"}


@dataclass
class Fault:
    """One scripted misbehaviour, used for the next matching request."""

    status: int = 0  # an HTTP error status to answer
    reason: str = ""  # Google's error.status, e.g. RESOURCE_EXHAUSTED, INVALID_ARGUMENT
    message: str = ""
    retry_after: float | None = None
    drop: bool = False  # close the connection without an answer
    wrong_count: bool = False
    wrong_dim: bool = False
    hang: bool = False  # read the request, then answer nothing (a dead server that keeps the connection open)
    raw_body: str = ""  # answer 200 with this body instead (HTML from a captive proxy, broken JSON)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


def fake_vector(text: str, dim: int) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).normal(size=dim) * 3.0
    if dim == 3072:
        vector /= np.linalg.norm(vector)
    return vector.astype(np.float32).tolist()


def fake_reply(prompt: str) -> str:
    """A deterministic answer: "Topic of" and the prompt's hint words (after "words are:"), or its first words."""
    hint = prompt.split("words are:", 1)[1].split(".\n", 1)[0] if "words are:" in prompt else prompt[:40]
    return f"Topic of {hint.strip()}\n"


def fake_token_count(text: str) -> int:
    """The fake's tokenizer for countTokens: one token per word or punctuation mark, plus one per 5 characters of
    a longer word (deterministic, so tests can say what the server must answer)."""
    return sum(1 + len(piece) // 5 for piece in re.findall(r"\w+|[^\w\s]", text))


@dataclass
class FakeGemini:
    """Start with `with FakeGemini() as server:`; `server.base_url` goes to the SDK."""

    delay: float = 0.0
    faults: deque[Fault] = field(default_factory=deque)
    count_faults: deque[Fault] = field(default_factory=deque)  # for countTokens requests only
    requests: list[Recorded] = field(default_factory=list)
    valid_keys: set[str] | None = None  # None accepts any key
    retired: set[str] = field(default_factory=lambda: set(RETIRED))
    reply: Any = None  # prompt -> answer text for :generateContent; None: fake_reply
    # Batch mode: jobs by name; how many polls a job answers "running" before it ends; how it ends; texts whose
    # request fails inside a job that succeeds (the per-request error the real API returns).
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    batch_polls_until_done: int = 1
    batch_polls_until: dict[str, int] = field(default_factory=dict)  # per job name, instead of the above
    batch_end_state: str = "BATCH_STATE_SUCCEEDED"
    batch_fail_texts: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> FakeGemini:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                server._handle(self, "GET")

            def do_POST(self) -> None:
                server._handle(self, "POST")

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()  # hung requests end now
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def generate_requests(self) -> list[Recorded]:
        return [r for r in self.requests if "generateContent" in r.path]

    def batch_requests(self) -> list[Recorded]:
        """Batch-mode calls: job creations and polls."""
        return [r for r in self.requests if "asyncBatchEmbedContent" in r.path or "/batches/" in r.path]

    def embed_requests(self) -> list[Recorded]:
        return [r for r in self.requests if "EmbedContents" in r.path or "embedContent" in r.path]

    # -- serving -----------------------------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else {}
        with self._lock:
            self.requests.append(Recorded(method, handler.path, dict(handler.headers), body, time.monotonic()))
            counting = handler.path.split("?")[0].endswith(":countTokens")
            queue = self.count_faults if counting else self.faults  # faults script embeddings; countTokens its own
            fault = queue.popleft() if queue and method == "POST" else None
        if self.delay:
            time.sleep(self.delay)
        if fault and fault.hang:
            self._stopping.wait(120)
            handler.close_connection = True
            return
        if fault and fault.drop:
            handler.close_connection = True
            handler.connection.shutdown(2)
            return
        key = handler.headers.get("x-goog-api-key", "")
        if self.valid_keys is not None and key not in self.valid_keys:
            return self._error(handler, 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                               reason="API_KEY_INVALID")  # fmt: skip
        if fault and fault.status:
            return self._error(handler, fault.status, fault.reason, fault.message, retry_after=fault.retry_after)
        if fault and fault.raw_body:
            data = fault.raw_body.encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html" if data.startswith(b"<") else "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            return
        path = handler.path.split("?")[0]
        if method == "GET" and path.rstrip("/").endswith("/models"):
            return self._json(handler, 200, {"models": [
                {"name": "models/gemini-embedding-001", "supportedGenerationMethods": ["embedContent"]},
                {"name": "models/gemini-embedding-2", "supportedGenerationMethods": ["embedContent"]},
                {"name": "models/gemini-2.5-flash", "supportedGenerationMethods": ["generateContent"]},
            ]})  # fmt: skip
        if method == "GET" and "/batches/" in path:
            return self._batch_status(handler, "batches/" + path.rsplit("/", 1)[-1])
        model = path.rsplit("/", 1)[-1].split(":")[0]
        if model in self.retired:
            return self._error(handler, 404, "NOT_FOUND", f"models/{model} is not found for API version v1beta.")
        if path.endswith(":batchEmbedContents"):
            requests = body.get("requests", [])
            if len(requests) > 100:
                return self._error(handler, 400, "INVALID_ARGUMENT", "at most 100 requests can be in one batch")
            embeddings = [self._embed(model, r) for r in requests]
            if fault and fault.wrong_count:
                embeddings = embeddings[:-1]
            if fault and fault.wrong_dim:
                embeddings = [{"values": e["values"][:-1]} for e in embeddings]
            return self._json(handler, 200, {"embeddings": embeddings})
        if path.endswith(":asyncBatchEmbedContent"):
            requests = body.get("batch", {}).get("inputConfig", {}).get("requests", {}).get("requests", [])
            with self._lock:
                name = f"batches/fake-{len(self.batches) + 1}"
                self.batches[name] = {"model": model, "requests": requests, "polls": 0,
                                      "displayName": body.get("batch", {}).get("displayName", "")}  # fmt: skip
            return self._json(handler, 200, self._batch_operation(name))
        if path.endswith(":embedContent"):
            return self._json(handler, 200, {"embedding": self._embed(model, body)})
        if path.endswith(":generateContent"):
            prompt = "".join(p.get("text", "") for c in body.get("contents", []) for p in c.get("parts", []))
            text = (self.reply or fake_reply)(prompt)
            return self._json(handler, 200, {
                "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP",
                                "index": 0}],
                "usageMetadata": {"promptTokenCount": len(prompt.split()), "candidatesTokenCount": len(text.split()),
                                  "totalTokenCount": len(prompt.split()) + len(text.split())},
                "modelVersion": model,
            })  # fmt: skip
        if path.endswith(":countTokens"):
            texts = [p.get("text", "") for c in body.get("contents", []) for p in c.get("parts", [])]
            return self._json(handler, 200, {"totalTokens": sum(fake_token_count(t) for t in texts)})
        return self._error(handler, 404, "NOT_FOUND", f"no route for {path}")

    def _batch_operation(self, name: str) -> dict[str, Any]:
        """A job as the API reports it: an operation whose metadata is the EmbedContentBatch."""
        job = self.batches[name]
        polls = job["polls"]
        state = "BATCH_STATE_PENDING" if polls == 0 else "BATCH_STATE_RUNNING"
        if polls > self.batch_polls_until.get(name, self.batch_polls_until_done):
            state = self.batch_end_state
        metadata: dict[str, Any] = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.EmbedContentBatch",
            "name": name, "model": f"models/{job['model']}", "displayName": job["displayName"], "state": state,
            "createTime": "2026-01-01T00:00:00Z",
        }  # fmt: skip
        done = state not in ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING")
        if state == "BATCH_STATE_SUCCEEDED":
            answers = []
            for entry in job["requests"]:
                request = entry.get("request", {})
                text = "".join(part.get("text", "") for part in request.get("content", {}).get("parts", []))
                if text in self.batch_fail_texts:
                    answers.append({"error": {"code": 400, "message": "Request contains an invalid argument."}})
                else:
                    answers.append({"response": {"embedding": self._embed(job["model"], request)}})
            failed = sum(1 for a in answers if "error" in a)
            metadata["output"] = {"inlinedResponses": {"inlinedResponses": answers}}
            metadata["batchStats"] = {"requestCount": str(len(answers)), "successfulRequestCount":
                                      str(len(answers) - failed), "failedRequestCount": str(failed)}  # fmt: skip
            metadata["endTime"] = "2026-01-01T01:00:00Z"
        return {"name": name, "metadata": metadata, "done": done}

    def _batch_status(self, handler: BaseHTTPRequestHandler, name: str) -> None:
        with self._lock:
            if name not in self.batches:
                return self._error(handler, 404, "NOT_FOUND", f"{name} not found")
            self.batches[name]["polls"] += 1
        return self._json(handler, 200, self._batch_operation(name))

    def _embed(self, model: str, request: dict[str, Any]) -> dict[str, Any]:
        text = "".join(part.get("text", "") for part in request.get("content", {}).get("parts", []))
        dim = int(request.get("outputDimensionality") or NATIVE_DIMS.get(model, 768))
        return {"values": fake_vector(text, dim)}

    def _json(self, handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any],
              headers: dict[str, str] | None = None) -> None:  # fmt: skip
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _error(self, handler: BaseHTTPRequestHandler, code: int, status: str, message: str,
               retry_after: float | None = None, reason: str = "") -> None:  # fmt: skip
        error: dict[str, Any] = {"code": code, "message": message, "status": status}
        if reason:
            error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason}]
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
        self._json(handler, code, {"error": error}, headers)
