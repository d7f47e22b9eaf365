"""Gemini Batch mode for embeddings: half the price, results within a day, and nothing lost when the app closes.

A run in Batch mode submits the texts the cache lacks as jobs (`client.batches.create_embeddings` with inlined
requests, which the SDK sends as `POST models/{model}:asyncBatchEmbedContent`), writes each job's name and its
texts' hashes into the cache database the moment Google has named it, then polls the jobs (`client.batches.get`,
`GET batches/{id}`) and stores every vector a finished job returns in the cache. Because the job names live in the
cache, a closed app or a new CLI run with the same texts and model collects those jobs instead of paying again;
`wait=False` (the CLI's --no-wait) submits, looks once and returns.

What a caller may rely on:
- Vectors are the synchronous path's vectors: the same text prefixes and task types (`gemini.prefixed_text`), the
  same cut to `max_text_chars`, L2-normalised float32, keyed in the cache by the whole text.
- Texts a job failed (an error in its answer, a vector of the wrong size, a job that failed, was cancelled or
  expired) are reported by the run that collects them, as a ServiceError naming them; every other vector is
  already cached, so the next run resubmits only the failed texts.
- A job holds at most JOB_MAX_TEXTS texts of one kind. Inlined requests carry no key to match an answer to its
  request, and Google documents answers "in the same order as the requests"; users report that order breaking
  for jobs of thousands of texts (googleapis/js-genai#1207), so jobs stay well under that size.

Where money can be lost: a crash after Google accepted a job and before its name was written (one SQLite commit
later), and a connection lost while a job was being submitted (said, not retried: see `gemini_batch_jobs`). Two
runs started at the same moment for the same texts may both submit them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

from workbench.core.cache import BatchJobRecord, EmbeddingCache
from workbench.core.embedders.base import l2_normalise
from workbench.core.embedders.gemini import GeminiEmbedder
from workbench.core.embedding import EmbeddingResult, text_char_limit
from workbench.core.env import positive_env_number
from workbench.core.errors import Cancelled, InputError, ServiceError, WorkbenchError
from workbench.core.gemini_batch_jobs import (
    ENDED_WITHOUT_RESULTS,
    SUCCEEDED,
    GoneJob,
    job_answers,
    job_state,
    pause,
    poll_job,
    submit_job,
    vector_problem,
)
from workbench.core.items import ITEM_KINDS, Item, ItemKind, text_hash
from workbench.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress

log = logging.getLogger("workbench.core.gemini_batch")

JOB_MAX_TEXTS = 500
JOB_MAX_CHARS = 8_000_000  # inlined requests must stay under the API's 20 MB request size
DEFAULT_POLL_S = 30.0
POLL_FAILURES = 5  # polls in a row that fail to reach Gemini before a run gives up (the jobs stay remembered)


def poll_interval_s() -> float:
    """WORKBENCH_GEMINI_BATCH_POLL_S when it is a positive number, else DEFAULT_POLL_S."""
    return positive_env_number("WORKBENCH_GEMINI_BATCH_POLL_S", DEFAULT_POLL_S)


@dataclass(frozen=True)
class FailedText:
    kind: ItemKind
    text: str
    reason: str


@dataclass
class BatchStatus:
    """Where a Batch-mode run stands: texts with vectors, the jobs still at Google, the texts that failed."""

    total: int  # distinct texts of the run
    done: int  # of them, with a vector in the cache
    jobs: list[BatchJobRecord] = field(default_factory=list)  # the run's jobs not yet collected
    failed: list[FailedText] = field(default_factory=list)
    submitted: int = 0  # jobs this run submitted

    @property
    def finished(self) -> bool:
        return not self.jobs

    def summary(self) -> str:
        """One line: 'Gemini Batch: 300 of 1 500 texts back; 2 jobs at Google (running, since 14:02).'"""
        parts = [f"Gemini Batch: {self.done:,} of {self.total:,} texts back".replace(",", " ")]
        if self.submitted:
            parts.append(f"{self.submitted} job{'s' if self.submitted != 1 else ''} submitted now")
        if self.jobs:
            states = ", ".join(sorted({job.state.removeprefix("JOB_STATE_").lower() for job in self.jobs}))
            since = datetime.fromtimestamp(min(job.submitted for job in self.jobs)).strftime("%H:%M")
            count = len(self.jobs)
            parts.append(f"{count} job{'s' if count != 1 else ''} at Google ({states}, since {since})")
        if self.failed:
            parts.append(f"{len(self.failed)} failed (named when the other jobs are done)")
        return "; ".join(parts) + "."


@dataclass
class BatchOutcome:
    """The status, and the embedding once every text has its vector (None while jobs are still running)."""

    status: BatchStatus
    result: EmbeddingResult | None


# -- the run --------------------------------------------------------------------------------------------------
def _chunks(texts: list[str]) -> list[list[str]]:
    jobs: list[list[str]] = [[]]
    chars = 0
    for text in texts:
        if jobs[-1] and (len(jobs[-1]) >= JOB_MAX_TEXTS or chars + len(text) > JOB_MAX_CHARS):
            jobs.append([])
            chars = 0
        jobs[-1].append(text)
        chars += len(text)
    return [job for job in jobs if job]


def embed_items_in_batches(
    items: Sequence[Item],
    embedder: GeminiEmbedder,
    cache: EmbeddingCache,
    wait: bool = True,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
    on_status: Callable[[BatchStatus], None] | None = None,
    max_text_chars: int | None = None,
    poll_s: float | None = None,
    failed_before: Sequence[FailedText] = (),
) -> BatchOutcome:
    """Vectors for `items` through Gemini Batch mode and the cache; see the module docstring for the guarantees.

    `progress(done, total)` counts distinct texts with a vector; `on_status` receives the status after each poll.
    A cancel stops waiting (the jobs keep running at Google and stay remembered) and raises Cancelled.
    `failed_before`: texts an earlier look of the same run saw fail (`wait=False` returns them in the status
    while other jobs run); they are not submitted again and count as failed, with their reasons.
    """
    items = list(items)
    if not isinstance(embedder, GeminiEmbedder):
        raise InputError("Batch mode is Gemini's: choose the Gemini provider for it.")
    limit = text_char_limit(max_text_chars)
    poll_s = poll_s if poll_s is not None else poll_interval_s()
    spec, dim = embedder.spec, embedder.dim
    unique = {kind: list(dict.fromkeys(i.text for i in items if i.kind == kind)) for kind in ITEM_KINDS}
    total = sum(len(texts) for texts in unique.values())
    known = {kind: cache.get_many(spec, dim, kind, unique[kind]) for kind in ITEM_KINDS}
    from_cache = sum(len(v) for v in known.values())
    # what this run still needs, by (kind, text hash): a job's answers are known by hash only
    wanted = {(kind, text_hash(text)): text for kind in ITEM_KINDS for text in unique[kind] if text not in known[kind]}
    jobs = [
        job
        for job in cache.batch_jobs(spec, dim)
        if job.task == spec.task_for(job.kind) and any((job.kind, h) in wanted for h in job.text_hashes)
    ]
    covered = {(job.kind, h) for job in jobs for h in job.text_hashes}
    status = BatchStatus(total, from_cache)
    for failure in failed_before:  # not submitted again: a failure seen once is reported, not paid for in a loop
        key = (failure.kind, text_hash(failure.text))
        if key in wanted and key not in covered:
            covered.add(key)
            status.failed.append(failure)
    if total == 0:
        return BatchOutcome(status, EmbeddingResult(items, np.zeros((0, 0), np.float32), spec, 0, 0, 0))
    stopped = (
        "Stopped waiting; the Gemini batch jobs keep running at Google and are remembered: run again (Batch mode) "
        "to collect them."
    )
    for kind in ITEM_KINDS:
        fresh = [
            text for (of_kind, digest), text in wanted.items() if of_kind == kind and (kind, digest) not in covered
        ]
        chunks = _chunks(fresh)
        for number, chunk in enumerate(chunks, start=1):
            if cancelled():
                raise Cancelled(stopped if jobs else "Cancelled before any batch job was submitted.")
            label = f"workbench {'queries' if kind == 'query' else 'documents'} {number}/{len(chunks)}"
            jobs.append(submit_job(embedder, cache, kind, chunk, limit, label, cancelled))
            status.submitted += 1

    _collect_other_jobs(embedder, cache, {job.name for job in jobs})
    collected = 0
    failures_in_a_row: dict[str, int] = {}
    while True:
        still: list[BatchJobRecord] = []
        for record in jobs:
            job = poll_job(embedder, record)
            if job is None:
                failures_in_a_row[record.name] = failures_in_a_row.get(record.name, 0) + 1
                if failures_in_a_row[record.name] >= POLL_FAILURES:
                    raise ServiceError(
                        f"Cannot reach Gemini at {embedder.endpoint_host()} to ask about batch job {record.name}; "
                        f"it is remembered: run again later to collect it."
                    )
                still.append(record)
                continue
            failures_in_a_row.pop(record.name, None)
            state = job_state(job)
            if state in SUCCEEDED:
                collected += _collect(job, record, cache, dim, wanted, known, status)
            elif state in ENDED_WITHOUT_RESULTS:
                reason = f"the batch job {record.name} ended as {state}"
                status.failed += [FailedText(record.kind, wanted[(record.kind, h)], reason)
                                  for h in record.text_hashes if (record.kind, h) in wanted]  # fmt: skip
                cache.remove_batch_job(record.name)
            else:
                if state != record.state:
                    cache.set_batch_job_state(record.name, state)
                    record = replace(record, state=state)
                still.append(record)
        jobs = still
        status.jobs = list(jobs)
        status.done = from_cache + collected
        progress(status.done, total)
        if on_status is not None:
            on_status(status)
        if not jobs or not wait:
            break
        pause(poll_s, cancelled, stopped)

    if status.jobs:
        return BatchOutcome(status, None)
    if status.failed:
        raise ServiceError(_failure_sentence(status))
    vectors = np.stack([known[i.kind][i.text] for i in items]).astype(np.float32, copy=False)
    result = EmbeddingResult(items, vectors, spec, dim, encoded=collected, from_cache=from_cache)
    return BatchOutcome(status, result)


def _collect_other_jobs(embedder: GeminiEmbedder, cache: EmbeddingCache, skip: set[str]) -> None:
    """Jobs of earlier runs that this run does not need (other texts, another model): a finished one is stored in
    the cache (it is paid for) and forgotten, one that ended without results is forgotten, the rest wait. So no job
    stays announced as pending for ever because its texts were never embedded again."""
    for record in cache.batch_jobs():
        if record.name in skip or record.provider != "gemini":
            continue
        try:
            job = poll_job(embedder, record)
        except WorkbenchError:  # e.g. a job of another key: left for a run that can see it
            continue
        if job is None or isinstance(job, GoneJob):  # unreachable now, or unknown to this key: left as it is
            continue
        state = job_state(job)
        if state in SUCCEEDED:
            with contextlib.suppress(ServiceError):  # an answer count that does not match: the job is dropped
                _collect(job, record, cache, record.dim, {}, {}, BatchStatus(0, 0))
        elif state in ENDED_WITHOUT_RESULTS:
            cache.remove_batch_job(record.name)
        elif state != record.state:
            cache.set_batch_job_state(record.name, state)


def _collect(
    job: object, record: BatchJobRecord, cache: EmbeddingCache, dim: int,
    wanted: dict[tuple[ItemKind, str], str], known: dict[ItemKind, dict[str, np.ndarray]], status: BatchStatus,
) -> int:  # fmt: skip
    """Store a finished job's vectors in the cache, note its failed texts, forget the job; how many of this run's
    texts got a vector."""
    answers = job_answers(job, record)
    if len(answers) != len(record.text_hashes):
        cache.remove_batch_job(record.name)
        raise ServiceError(
            f"Gemini batch job {record.name} returned {len(answers)} answers for {len(record.text_hashes)} texts; "
            f"nothing of it was stored (run again to resubmit them)."
        )
    good_hashes, good_values = [], []
    for digest, (values, reason) in zip(record.text_hashes, answers, strict=True):
        problem = reason or vector_problem(values or [], dim)
        key = (record.kind, digest)
        if problem:
            if key in wanted:
                status.failed.append(FailedText(record.kind, wanted[key], problem))
            continue
        good_hashes.append(digest)
        good_values.append(values)
    gathered = 0
    if good_hashes:
        vectors = l2_normalise(np.asarray(good_values, dtype=np.float32))
        cache.put_hashed(record.provider, record.model, dim, record.task, good_hashes, vectors)
        for digest, vector in zip(good_hashes, vectors, strict=True):
            text = wanted.pop((record.kind, digest), None)
            if text is not None:
                known[record.kind][text] = vector
                gathered += 1
    cache.remove_batch_job(record.name)
    log.info("collected Gemini batch job %s: %d vectors", record.name, len(good_hashes))
    return gathered


def _failure_sentence(status: BatchStatus) -> str:
    count = len(status.failed)
    shown = "; ".join(f"“{f.text[:40]}{'…' if len(f.text) > 40 else ''}” ({f.reason})" for f in status.failed[:3])
    more = f"; and {count - 3} more" if count > 3 else ""
    return (
        f"Gemini Batch mode could not embed {count} of {status.total} texts: {shown}{more}. The other "
        f"{status.done} are cached: run again to resubmit only the failed ones."
    )


def pending_jobs_sentence(cache: EmbeddingCache) -> str:
    """'' when no Batch-mode job waits to be collected, else a sentence saying how many and what to do."""
    jobs = cache.batch_jobs()
    if not jobs:
        return ""
    texts = sum(len(job.text_hashes) for job in jobs)
    models = ", ".join(sorted({job.model for job in jobs}))
    since = datetime.fromtimestamp(min(job.submitted for job in jobs)).strftime("%Y-%m-%d %H:%M")
    return (
        f"{len(jobs)} Gemini batch job{'s' if len(jobs) != 1 else ''} ({texts} text{'s' if texts != 1 else ''}, "
        f"{models}, since {since}) "
        f"{'are' if len(jobs) != 1 else 'is'} not collected yet: Embed the same texts in Batch mode to collect "
        f"{'them' if len(jobs) != 1 else 'it'} without paying again."
    )
