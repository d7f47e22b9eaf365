"""One Gemini Batch-mode job at Google, as the SDK sees it: create it, ask how it stands, read its answers.

The run around these calls (what to submit, when to look, what goes into the cache) is `core/gemini_batch.py`.
Creating a job is retried only where asking again cannot create a second one; polling is always safe to repeat.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable

import numpy as np

from workbench.core.cache import BatchJobRecord, EmbeddingCache
from workbench.core.embedders.gemini import (
    RETRY_STATUSES,
    GeminiEmbedder,
    bare_model_name,
    http_errors,
    is_transport_error,
    prefixed_text,
    retry_after_seconds,
)
from workbench.core.errors import Cancelled, ServiceError
from workbench.core.items import ItemKind
from workbench.core.progress import CancelledFn

log = logging.getLogger("workbench.core.gemini_batch")

SUCCEEDED = frozenset({"JOB_STATE_SUCCEEDED", "JOB_STATE_PARTIALLY_SUCCEEDED"})
ENDED_WITHOUT_RESULTS = frozenset({"JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"})
_SLEEP_STEP_S = 0.05


def pause(seconds: float, cancelled: CancelledFn, message: str) -> None:
    """Sleep `seconds`, raising Cancelled(message) within ~50 ms of a cancel."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if cancelled():
            raise Cancelled(message)
        time.sleep(min(left, _SLEEP_STEP_S))


def _never_sent(error: Exception) -> bool:
    """A connection that failed before the request left (refused, unresolvable, connect timeout)."""
    return isinstance(error, (ConnectionRefusedError, *http_errors("ConnectError", "ConnectTimeout")))


def _create(embedder: GeminiEmbedder, call: Callable[[], object], texts: list[str], cancelled: CancelledFn) -> object:
    """`call()` (a job creation) with the embedder's retry policy where asking again cannot create a second job:
    an error answer (408/429/5xx: nothing was created) or a connection that never reached Google. A connection lost
    after the request left may have created the job, so that is said, not retried."""
    from google.genai import errors

    last: Exception | None = None
    for attempt in range(embedder.retry.attempts):
        retry_after = None
        try:
            return call()
        except errors.APIError as error:
            if error.code not in RETRY_STATUSES:
                raise embedder.explain(error, texts) from None
            last, retry_after = error, retry_after_seconds(error)
        except (ValueError, TypeError, AttributeError, KeyError) as error:
            raise ServiceError(
                f"Gemini at {embedder.endpoint_host()} sent something that is not an answer from the Gemini API "
                f"({type(error).__name__}); check the endpoint and any proxy in between."
            ) from None
        except Exception as error:
            if not is_transport_error(error):
                raise
            if not _never_sent(error):
                raise ServiceError(
                    f"The connection to Gemini at {embedder.endpoint_host()} was lost while a batch job of "
                    f"{len(texts)} texts was being submitted ({type(error).__name__}); Google may have created it "
                    f"(see your batch jobs in Google AI Studio). Nothing was recorded here, so a new run submits "
                    f"those texts again."
                ) from None
            last = error
        if attempt + 1 < embedder.retry.attempts:
            pause(embedder.retry.delay(attempt, retry_after), cancelled, "Cancelled.")
    detail = f"{last.code} {last.status}" if isinstance(last, errors.APIError) else type(last).__name__
    raise ServiceError(f"Gemini Batch mode kept failing ({detail}) after {embedder.retry.attempts} attempts.")


def submit_job(
    embedder: GeminiEmbedder, cache: EmbeddingCache, kind: ItemKind, texts: list[str], limit: int,
    label: str, cancelled: CancelledFn,
) -> BatchJobRecord:  # fmt: skip
    """One job for `texts` (one kind), remembered in the cache as soon as Google has named it."""
    from google.genai import types
    from google.genai._common import ExperimentalWarning

    spec, client = embedder.spec, embedder.client()
    task = spec.task_for(kind)
    is_v2 = bare_model_name(spec.model) == "gemini-embedding-2"
    config = types.EmbedContentConfig(task_type=None if is_v2 else task, output_dimensionality=spec.dim)
    contents = [prefixed_text(spec.model, task, text[:limit]) for text in texts]
    source = types.EmbeddingsBatchJobSource(inlined_requests=types.EmbedContentBatch(contents=contents, config=config))

    def create():
        with warnings.catch_warnings():  # "experimental" is the SDK's word for the method, not news for our user
            warnings.simplefilter("ignore", ExperimentalWarning)
            return client.batches.create_embeddings(
                model=spec.model, src=source, config=types.CreateEmbeddingsBatchJobConfig(display_name=label)
            )

    job = _create(embedder, create, texts, cancelled)
    if not getattr(job, "name", None):
        raise ServiceError(f"Gemini at {embedder.endpoint_host()} accepted a batch job but gave it no name.")
    record = cache.add_batch_job(job.name, spec, embedder.dim, kind, texts, job_state(job))
    log.info("submitted Gemini batch job %s (%d %s texts)", job.name, len(texts), kind)
    return record


def job_state(job: object) -> str:
    state = getattr(job, "state", None)
    return str(getattr(state, "value", state) or "JOB_STATE_UNSPECIFIED")


def job_answers(job: object, record: BatchJobRecord) -> list[tuple[list[float] | None, str]]:
    """(values, "") or (None, reason) per request of a finished job, in request order."""
    dest = getattr(job, "dest", None)
    embedded = getattr(dest, "inlined_embed_content_responses", None)
    if embedded is not None:
        answers: list[tuple[list[float] | None, str]] = []
        for answer in embedded:
            error = answer.error
            embedding = answer.response.embedding if answer.response is not None else None
            if error is not None:
                answers.append((None, f"{error.code or ''} {error.message or 'failed'}".strip()))
            elif embedding is None or not embedding.values:
                answers.append((None, "no embedding in the answer"))
            else:
                answers.append((list(embedding.values), ""))
        return answers
    generic = getattr(dest, "inlined_responses", None)
    if generic is not None:  # the SDK keeps this name when no answer holds an embedding: every request failed
        return [
            (None, f"{a.error.code or ''} {a.error.message or 'failed'}".strip() if a.error else "no embedding")
            for a in generic
        ]
    raise ServiceError(f"Gemini batch job {record.name} finished without inlined answers; nothing was stored.")


def vector_problem(values: list[float], dim: int) -> str:
    array = np.asarray(values, dtype=np.float32)
    if len(array) != dim:
        return f"a {len(array)}-d vector where {dim}-d was expected"
    if not np.isfinite(array).all():
        return "a vector with NaN or infinite values"
    if not array.any():
        return "an all-zero vector"
    return ""


def poll_job(embedder: GeminiEmbedder, record: BatchJobRecord) -> object | None:
    """The job as Gemini reports it now; None when Gemini could not be asked this time (asked again next poll)."""
    from google.genai import errors

    client = embedder.client()
    try:
        return client.batches.get(name=record.name)
    except errors.APIError as error:
        if error.code == 404:
            return GoneJob()
        if error.code in RETRY_STATUSES:
            log.info("polling %s failed (%s %s); asking again at the next poll", record.name, error.code, error.status)
            return None
        raise embedder.explain(error, [""]) from None
    except Exception as error:
        if is_transport_error(error):
            return None
        raise


class GoneJob:
    """A job Gemini no longer knows (deleted, or past its retention): its texts are failed, to be resubmitted."""

    state = "JOB_STATE_EXPIRED"
