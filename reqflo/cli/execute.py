"""Execute runs one after another or on a bounded thread pool, yielding results in row order.

At most twice `parallel` rows are read ahead of the oldest unfinished one, so memory stays flat
however long the data file is (a very slow row pauses new work once that window is full). With
`parallel` above 1, how many of those rows run at once follows what pays off, never more than
`parallel` (see `concurrency`): against a fast target more threads only fight over the GIL, and
while one row at a time pays best, rows run in the calling thread as with `--parallel 1`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from reqflo.cli.concurrency import AdaptiveLimit, debug_log
from reqflo.engine import Artifact, RunResult, StepResult, new_client, run_artifact
from reqflo.engine.tls import httpx_default_context

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

# How many rows may wait per worker ahead of the oldest running one.
_QUEUE_FACTOR = 2


@dataclass(frozen=True)
class Job:
    """One run to execute: its position, its inputs and the name it has in reports."""

    index: int
    inputs: dict[str, Any]
    label: str | None
    row: int | None = None  # 1-based data row number, for reports (labels may repeat)
    run_id: str | None = None  # chosen by the caller (a published run); else the engine's


@dataclass(frozen=True)
class RunContext:
    """What every run of one command shares: the compiled journey, environment and secrets."""

    artifact: Artifact
    environment: Mapping[str, Any]
    environment_name: str | None
    secrets: Mapping[str, str]
    on_step: Callable[[StepResult], None] | None = None


def execute(
    context: RunContext,
    jobs: Iterator[Job],
    *,
    parallel: int,
    transport: httpx.BaseTransport | None = None,
    limit: AdaptiveLimit | None = None,
) -> Iterator[RunResult]:
    """Run jobs with at most `parallel` in flight and yield their results in job order.

    `transport` replaces the connection pool the runs share (the benchmark passes an in-process
    one); it is closed at the end either way. `limit` tunes how many run at once (a new one
    bounded by `parallel` by default, logging to stderr with `REQFLO_DEBUG_PARALLEL=1`; tests
    and the benchmark pass theirs to read its levels).
    """
    if transport is None:
        limits = httpx.Limits(max_keepalive_connections=parallel * 2)
        # httpx's default CA choice, loaded at the first https handshake, not at start-up.
        transport = httpx.HTTPTransport(verify=httpx_default_context(), limits=limits)
    clients = _WorkerClients(_SharedTransport(transport))
    run_one = _runner(context, clients)
    try:
        if parallel <= 1:
            for job in jobs:
                yield run_one(job)
        else:
            gate = limit or AdaptiveLimit(parallel, log=debug_log())
            yield from _adaptive(run_one, jobs, parallel, gate)
    finally:
        clients.close()
        transport.close()


def _adaptive(
    run_one: Callable[[Job], RunResult], jobs: Iterator[Job], parallel: int, gate: AdaptiveLimit
) -> Iterator[RunResult]:
    """Run jobs with `gate.limit` in flight and yield their results in job order.

    While the limit is 1 a row runs here, in the calling thread, once the rows handed to the pool
    have finished: handing each row to a worker and back cost about 5% of a fast target's run
    (issue 17). The thread pool is started only when the limit first rises above 1.
    """
    pool: ThreadPoolExecutor | None = None
    pending: deque[Future[RunResult]] = deque()
    try:
        for job in jobs:
            # Results leave in row order: hand on every finished one before waiting.
            while pending and pending[0].done():
                yield pending.popleft().result()
            if gate.limit == 1:
                while pending:  # the last rows of a probe: at most one runs at a time now
                    yield pending.popleft().result()
                gate.enter()
                try:
                    result = run_one(job)
                finally:
                    gate.leave()
                yield result
                continue
            if len(pending) >= parallel * _QUEUE_FACTOR:
                yield pending.popleft().result()
            if pool is None:
                from concurrent.futures import ThreadPoolExecutor  # only once rows overlap

                pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="reqflo-run")
            gate.enter()
            future = pool.submit(run_one, job)
            future.add_done_callback(lambda _: gate.leave())
            pending.append(future)
        while pending:
            yield pending.popleft().result()
    finally:
        if pool is not None:
            # On Ctrl-C or a reporting error, drop queued rows instead of running them.
            pool.shutdown(wait=True, cancel_futures=True)


class _SharedTransport(httpx.BaseTransport):
    """Lend one connection pool to many clients; closing a client must not close the pool."""

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self._transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._transport.handle_request(request)

    def close(self) -> None:
        """Leave the pool open: `execute` closes it once every run has finished."""


class _WorkerClients:
    """Give each worker thread one client over the shared pool, with an empty jar per run.

    A run never sees another run's cookies: a worker runs one run at a time and its jar is
    cleared before each. Reusing the client saves building one (headers, SSL context lookup,
    cookie jar) for every data row.
    """

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self._transport = transport
        self._local = threading.local()
        self._made: list[httpx.Client] = []
        self._lock = threading.Lock()

    def for_run(self) -> httpx.Client:
        """Return this thread's client with its cookie jar emptied for a new run."""
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = new_client(verify_tls=True, transport=self._transport)
            self._local.client = client
            with self._lock:
                self._made.append(client)
        client.cookies.clear()
        return client

    def close(self) -> None:
        with self._lock:
            for client in self._made:
                client.close()
            self._made.clear()


def _runner(context: RunContext, clients: _WorkerClients) -> Callable[[Job], RunResult]:
    from reqflo.engine.redaction import Seeds

    seeds = Seeds()  # the rows' secrets registered once for all of them

    def run_one(job: Job) -> RunResult:
        return run_artifact(
            context.artifact,
            inputs=job.inputs,
            environment=context.environment,
            secrets=context.secrets,
            run_id=job.run_id,
            client=clients.for_run(),
            label=job.label,
            row=job.row,
            environment_name=context.environment_name,
            on_step=context.on_step,
            seeds=seeds,
        )

    return run_one
