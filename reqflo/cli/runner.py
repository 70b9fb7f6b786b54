"""``reqflo runner start``: a self-hosted runner, claiming runs from a Reqflo server.

The process speaks the runner protocol (``/api/v1/runner/…``, docs/self-hosted-runners.md):

- it claims a run only while it has a free slot, by long-poll; the claim carries the lease
  (fencing token, attempt, lease length), the capped plan, the inputs and environment, the
  secrets the run needs (kept in memory only, and masked in everything it prints) and the
  checkpoint to resume from;
- one heartbeat thread renews every held lease in one call and learns which runs were
  cancelled or lost; a run stops before its next request (and between retries of a step) once
  it is. No request is sent without a current lease: a claim is started only once a heartbeat
  sent after it arrived renewed it (a claim that arrives after its lease ran out by the
  server's clock, e.g. in a process paused mid-poll, is not started), and a lease that ran out
  on this process's clock (never later than the server's) holds the run until it is renewed;
- an unreachable server is retried with jittered exponential backoff for as long as it takes:
  an outage is not a lost lease (the server does not settle leases that ran out while it was
  down), the run resumes once its lease is renewed;
- every step is checkpointed through the same engine loop as the CLI and the Cloud Runner
  (``run_steps``), each checkpoint and the completion retried until the server acknowledges
  it; a stale token (409 ``lease_lost``) stops the run at once;
- SIGTERM or Ctrl-C stops claiming, lets each run finish its step in progress, releases it
  for immediate requeue and exits 0; a revoked or rotated token (401), or this process
  replaced by a newer one of the same runner (409 ``stale_boot``), stops every run and exits 3.

Every connection a run makes goes through the egress policy (``reqflo.engine.egress``): the
workspace's allow-list, and private addresses allowed unless ``--deny-private`` (reaching
private services is what a self-hosted runner is for). Nothing is written to disk.
"""

from __future__ import annotations

import contextlib
import random
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from reqflo import __version__
from reqflo.cli.errors import CliError, ExitCode
from reqflo.engine.runner_labels import MAX_LABELS, label_problem

API_PREFIX = "/api/v1/runner"
POLL_SECONDS = 20.0
DEFAULT_CAPACITY = 4
# Jittered exponential backoff while the server is unreachable: 0.5 s doubling, at most 15 s.
BACKOFF_FIRST = 0.5
BACKOFF_MOST = 15.0
DEFAULT_HEARTBEAT_SECONDS = 5.0


def backoff(failures: int, *, first: float = BACKOFF_FIRST, most: float = BACKOFF_MOST) -> float:
    """Return how long to wait after ``failures`` failed calls in a row (full jitter, halved)."""
    # The exponent is capped: an outage of hours must not overflow the float.
    ceiling = min(most, first * 2 ** min(max(0, failures - 1), 30))
    return float(ceiling * random.uniform(0.5, 1.0))


class Unreachable(Exception):
    """The server did not answer (connection error, timeout or a 5xx): try again later."""


class Refused(Exception):
    """The server refused the call (4xx); ``code`` is the API's error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class Stop(Exception):
    """This run must stop now (its lease is gone, or the runner is being revoked).

    ``code``: the server's refusal code when a write was refused (``lease_lost``,
    ``checkpoint_out_of_order``, ``run_timed_out``, ...), else empty.
    """

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


# How a write's refusal stops its run: the job's ``stop_reason`` for each code.
REFUSAL_STOPS = {
    "lease_lost": "lost",
    "checkpoint_out_of_order": "out_of_order",
    "run_timed_out": "timeout",
}


class Protocol:
    """JSON calls to the runner protocol; one per thread (each has its own connections)."""

    def __init__(self, url: str, token: str) -> None:
        import httpx

        self._httpx = httpx
        self._client = httpx.Client(
            base_url=url.rstrip("/") + API_PREFIX,
            headers={"Authorization": f"Bearer {token}", "User-Agent": f"reqflo/{__version__}"},
            timeout=httpx.Timeout(15.0, read=POLL_SECONDS + 15.0),
            trust_env=False,
        )

    def close(self) -> None:
        self._client.close()

    def call(self, path: str, body: Mapping[str, Any]) -> Any:
        from reqflo.engine import numbers

        try:
            # The engine's JSON both ways: numbers go and come back as written.
            response = self._client.post(
                path,
                content=numbers.dumps(dict(body)).encode(),
                headers={"Content-Type": "application/json"},
            )
        except self._httpx.TransportError as exc:
            raise Unreachable(type(exc).__name__) from None
        if response.status_code >= 500:
            raise Unreachable(f"HTTP {response.status_code}")
        try:
            answer = numbers.loads(response.content)
        except ValueError:
            raise Unreachable(f"HTTP {response.status_code} without JSON") from None
        if response.status_code >= 400:
            code = str(answer.get("code", "")) if isinstance(answer, dict) else ""
            message = str(answer.get("message", "")) if isinstance(answer, dict) else ""
            raise Refused(response.status_code, code, message or f"HTTP {response.status_code}")
        return answer


@dataclass
class Job:
    """One claimed run as this process holds it.

    ``expires`` is on this process's monotonic clock and never later than the server's expiry:
    a claim's lease time left (by the server's database clock) counted from when the claim was
    *sent* plus how long the server says it waited, then each renewal's lease counted from when
    the heartbeat was sent. ``confirmed``: a heartbeat sent after the claim arrived renewed it
    (the server then counts the claim as delivered).

    ``deadline`` (same clock) is the run's time limit: its start plus the workspace's run
    timeout by the server's database clock, counted from when the claim's answer *arrived*, so
    never earlier than the server's (the server agrees the run is past it once this passes).
    ``interrupted``: the deadline stopped the step in progress between its retries (that step
    is not stored); ``detail``: why the run stopped, for its completion.
    """

    run_id: str
    token: int
    attempt: int
    lease_seconds: float
    expires: float
    deadline: float | None = None
    confirmed: bool = False
    stop_reason: str | None = None
    interrupted: bool = False
    detail: str = ""
    changed: threading.Condition = field(default_factory=threading.Condition)

    def lease(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "token": self.token, "attempt": self.attempt}

    def renewed(self, sent_at: float) -> None:
        with self.changed:
            self.expires = max(self.expires, sent_at + self.lease_seconds)
            self.confirmed = True
            self.changed.notify_all()

    def stop(self, reason: str) -> None:
        with self.changed:
            if self.stop_reason is None:
                self.stop_reason = reason
            self.changed.notify_all()

    def lapsed(self) -> bool:
        return time.monotonic() >= self.expires

    def past_deadline(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def usable(self) -> bool:
        """Whether a request may be sent now: the lease is confirmed and has not run out."""
        return self.confirmed and not self.lapsed()

    def wait(self, seconds: float) -> None:
        with self.changed:
            if self.stop_reason is None and not self.usable():
                self.changed.wait(seconds)


@dataclass
class RunnerOptions:
    url: str
    token: str
    capacity: int | None = None
    labels: list[str] = field(default_factory=list)
    deny_private: bool = False
    poll_seconds: float = POLL_SECONDS


class SelfHostedRunner:
    """The runner process: a claim loop, a heartbeat thread and one thread per run."""

    def __init__(self, options: RunnerOptions, *, out: TextIO) -> None:
        from reqflo.engine import Redactor

        self.options = options
        self.out = out
        self.boot_id = uuid.uuid4().hex
        # Until the server says (its ``slots``: the registered capacity, or less with
        # --capacity), the process assumes --capacity; the server never hands out more.
        self.capacity = options.capacity or DEFAULT_CAPACITY
        self.capacity_known = False
        # Set to send a heartbeat now (a new claim to confirm, a lease to renew).
        self.beat = threading.Event()
        self.jobs: dict[str, Job] = {}
        self.threads: list[threading.Thread] = []
        self.slots = threading.Condition()
        self.stopping = threading.Event()
        self.fatal: str | None = None
        self.heartbeat_seconds = DEFAULT_HEARTBEAT_SECONDS
        self._print = threading.Lock()
        # The token and every secret of every run this process holds: nothing it prints shows
        # one. Rebuilt without a run's secrets once the run is let go (`_forget`), so a runner
        # up for weeks does not mask, and pay for, every secret it ever held.
        self.redactor = Redactor([options.token])
        self._held_texts: dict[tuple[str, int], tuple[str, ...]] = {}

    # --- output --------------------------------------------------------------------------

    def log(self, message: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
        line = self.redactor.redact(f"{stamp} {message}")
        with self._print:
            self.out.write(line + "\n")
            self.out.flush()

    def presence(self) -> dict[str, Any]:
        return {
            "boot_id": self.boot_id,
            "version": __version__,
            "hostname": socket.gethostname(),
            "capacity": self.options.capacity,
            "labels": self.options.labels,
        }

    # --- the process -----------------------------------------------------------------------

    def run(self) -> ExitCode:
        """Claim and run until stopped; return the exit code."""
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, self._on_signal)
        self.log(
            f"Runner {self.boot_id[:8]} starting (reqflo {__version__}) against "
            f"{self.options.url}"
            + (f", --capacity {self.options.capacity}" if self.options.capacity else "")
            + (f", labels {','.join(self.options.labels)}" if self.options.labels else "")
        )
        beat = threading.Thread(
            target=self._heartbeats, name="reqflo-runner-heartbeat", daemon=True
        )
        beat.start()
        claims = threading.Thread(target=self._claims, name="reqflo-runner-claims", daemon=True)
        claims.start()
        self.stopping.wait()
        if self.fatal is not None:
            # Refused: nothing this process sends is accepted any more, so it does not wait
            # for a request in flight (the server has already released its runs).
            self.log(f"Stopping: {self.fatal}")
            for thread in list(self.threads):
                thread.join(timeout=1)
            return ExitCode.SERVER
        self.log("Stopping: no new claims; runs in progress are released after their current step")
        # Tell the server first: it ends this process's claim in flight, so no run is claimed
        # now only to be given back.
        self._last_heartbeat()
        claims.join(timeout=self.options.poll_seconds + 15)
        for thread in list(self.threads):
            thread.join()
        self._last_heartbeat()
        self.log("Stopped")
        return ExitCode.PASSED

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self.stopping.is_set():
            return
        self.stopping.set()
        self.beat.set()

    def _slots(self, answer: Any) -> None:
        """Take the server's word for how many runs this process may hold, and say it once."""
        if not isinstance(answer, dict) or not isinstance(answer.get("slots"), int):
            return
        slots, registered = int(answer["slots"]), answer.get("capacity")
        if self.capacity_known and slots == self.capacity:
            return
        with self.slots:
            self.capacity, self.capacity_known = slots, True
            self.slots.notify_all()
        given = f", --capacity {self.options.capacity}" if self.options.capacity else ""
        self.log(f"Capacity: up to {slots} runs at once (registered {registered}{given})")

    @staticmethod
    def _is_fatal(refused: Refused) -> bool:
        # A revoked or rotated token, or this process replaced by a newer one of the runner.
        return refused.status == 401 or refused.code == "stale_boot"

    def _fatal(self, refused: Refused) -> None:
        self.fatal = f"the server refused this runner ({refused.code}): {refused.message}"
        with self.slots:
            for job in self.jobs.values():
                job.stop("revoked")
        self.stopping.set()

    def _free(self) -> int:
        return self.capacity - len(self.jobs)

    # --- claims ----------------------------------------------------------------------------

    def _claims(self) -> None:
        protocol = Protocol(self.options.url, self.options.token)
        failures = 0
        try:
            while not self.stopping.is_set():
                with self.slots:
                    while self._free() < 1 and not self.stopping.is_set():
                        self.slots.wait(0.5)
                if self.stopping.is_set():
                    return
                sent_at = time.monotonic()
                try:
                    answer = protocol.call(
                        "/claim",
                        {
                            **self.presence(),
                            "wait_seconds": self.options.poll_seconds,
                            "free_slots": self._free(),
                        },
                    )
                except Unreachable as exc:
                    failures += 1
                    wait = backoff(failures)
                    if failures == 1 or failures % 10 == 0:
                        self.log(f"Server unreachable ({exc}); retrying in {wait:.1f} s")
                    self.stopping.wait(wait)
                    continue
                except Refused as refused:
                    if self._is_fatal(refused):
                        self._fatal(refused)
                        return
                    failures += 1
                    self.log(f"Claim refused ({refused.code}): {refused.message}")
                    self.stopping.wait(backoff(failures))
                    continue
                if failures:
                    self.log("Server reachable again")
                failures = 0
                self._slots(answer)
                job = answer.get("job") if isinstance(answer, dict) else None
                if job:
                    self._start(job, protocol, sent_at)
                elif isinstance(answer, dict) and answer.get("retry_after"):
                    # The server's long-polls are all taken: come back later, not in lockstep.
                    self.stopping.wait(float(answer["retry_after"]) * random.uniform(1.0, 1.5))
        finally:
            protocol.close()

    def _hold_texts(self, payload: dict[str, Any]) -> tuple[str, int]:
        """Mask a claimed run's secrets in everything printed until `_forget`; return its key."""
        key = (str(payload["run_id"]), int(payload["lease"]["token"]))
        texts = (*payload.get("secrets", {}).values(), *payload.get("redact", []))
        with self.slots:
            self._held_texts[key] = texts
            self.redactor.add(*texts)
        return key

    def _forget(self, key: tuple[str, int]) -> None:
        """Stop masking a run's secrets that no other held run shares: a new redactor of the
        token and the runs still held (a redactor only grows, and each value makes the next
        `add` and every scan dearer)."""
        with self.slots:
            if self._held_texts.pop(key, None) is None:
                return
            held = [text for texts in self._held_texts.values() for text in texts]
            self.redactor = type(self.redactor)([self.options.token, *held])

    def _start(self, payload: dict[str, Any], protocol: Protocol, sent_at: float) -> None:
        key = self._hold_texts(payload)
        lease = payload["lease"]
        seconds = float(lease["seconds"])
        # The earliest the server's lease may end, on this clock: its time left when the server
        # answered, which was no earlier than the claim was sent plus the server's wait.
        left = float(lease.get("remaining_seconds", seconds))
        # The run's time limit, the other way round: counted from now (the answer arrived after
        # the server made it), so the run is never stopped before the server's deadline.
        deadline = payload.get("deadline") or {}
        until = deadline.get("remaining_seconds")
        job = Job(
            run_id=str(payload["run_id"]),
            token=int(lease["token"]),
            attempt=int(lease["attempt"]),
            lease_seconds=seconds,
            expires=sent_at + float(payload.get("waited_seconds", 0)) + left,
            deadline=None if until is None else time.monotonic() + float(until),
        )
        self.heartbeat_seconds = min(
            DEFAULT_HEARTBEAT_SECONDS, float(lease.get("heartbeat_seconds") or 5)
        )
        if job.lapsed():
            # The answer sat unread past its lease (this process was paused or starved): the
            # run may be another runner's already. Nothing is sent; give it back if it is not.
            self.log(
                f"Claim of run {job.run_id} arrived after its lease ran out by the server's "
                "clock; not started"
            )
            with contextlib.suppress(Unreachable, Refused):
                protocol.call(
                    f"/runs/{job.run_id}/release",
                    {**self._write(job), "detail": "The claim reached its runner too late."},
                )
            self._forget(key)
            return
        if self.stopping.is_set():  # claimed while stopping: give it back at once
            with contextlib.suppress(Stop):  # refused: it is not this process's any more
                self._deliver(protocol, job, "release", {"detail": "The runner is stopping."})
            self._forget(key)
            return
        with self.slots:
            earlier = self.jobs.get(job.run_id)
            if earlier is not None:  # its earlier lease of this run is gone: that thread stops
                earlier.stop("lost")
            self.jobs[job.run_id] = job
        self.beat.set()  # its first heartbeat confirms the claim before any request is sent
        thread = threading.Thread(
            target=self._work,
            args=(payload, job),
            name=f"reqflo-run-{job.run_id[:8]}",
            daemon=True,  # a refused runner exits without waiting for a request in flight
        )
        self.threads.append(thread)
        thread.start()

    # --- heartbeats ------------------------------------------------------------------------

    def _heartbeat_once(self, protocol: Protocol, *, stopping: bool = False) -> None:
        with self.slots:
            held = list(self.jobs.values())
        sent_at = time.monotonic()
        answer = protocol.call(
            "/heartbeat",
            {
                **self.presence(),
                "leases": [j.lease() for j in held],
                "stopping": stopping or self.stopping.is_set(),
            },
        )
        self._slots(answer)
        verdicts = {str(a["run_id"]): a["state"] for a in answer.get("leases", [])}
        for job in held:
            state = verdicts.get(job.run_id, "lost")
            if state in ("renewed", "cancelled", "timeout"):
                job.renewed(sent_at)
            if state in ("cancelled", "timeout"):
                if state == "timeout" and job.stop_reason is None:
                    job.detail = "the server's heartbeat answer"
                job.stop(state)
            elif state == "lost":
                job.stop("lost")

    def _heartbeats(self) -> None:
        protocol = Protocol(self.options.url, self.options.token)
        failures = 0
        try:
            while True:
                if failures:
                    # Backing off: a run asking for a renewal does not hasten it.
                    time.sleep(backoff(failures, most=self.heartbeat_seconds))
                else:
                    self.beat.wait(self.heartbeat_seconds)
                self.beat.clear()
                if self.stopping.is_set() and not self.jobs:
                    return
                try:
                    self._heartbeat_once(protocol)
                except Unreachable as exc:
                    failures += 1
                    if failures == 1:
                        self.log(f"Heartbeat failed ({exc}); retrying")
                    continue
                except Refused as refused:
                    if self._is_fatal(refused):
                        self._fatal(refused)
                        return
                    failures += 1
                    continue
                failures = 0
        finally:
            protocol.close()

    def _last_heartbeat(self) -> None:
        """Send one heartbeat now, saying this process is stopping (it claims nothing more)."""
        protocol = Protocol(self.options.url, self.options.token)
        try:
            self._heartbeat_once(protocol, stopping=True)
        except (Unreachable, Refused):
            pass
        finally:
            protocol.close()

    # --- one run ---------------------------------------------------------------------------

    def _write(self, job: Job) -> dict[str, Any]:
        return {"token": job.token, "attempt": job.attempt, "boot_id": self.boot_id}

    def _deliver(self, protocol: Protocol, job: Job, what: str, body: Mapping[str, Any]) -> Any:
        """Send one write of ``job`` until the server acknowledges it; raise ``Stop`` if refused.

        An unreachable server is retried with jittered backoff for as long as it takes (an
        outage is not a lost lease: the server does not hand the run on while it is down), until
        the run is known lost, or the runner is stopping and the lease has run out.
        """
        failures = 0
        path = f"/runs/{job.run_id}/{what}"
        while True:
            sent_at = time.monotonic()
            try:
                answer = protocol.call(path, {**self._write(job), **body})
            except Unreachable as exc:
                failures += 1
                if job.stop_reason in ("lost", "revoked") or (
                    self.stopping.is_set() and job.lapsed()
                ):
                    job.stop("lease_lapsed")
                    raise Stop(f"the server stayed unreachable ({exc}) past the lease") from None
                if failures == 1 or failures % 10 == 0:
                    self.log(f"Run {job.run_id}: {what} not acknowledged ({exc}); retrying")
                time.sleep(backoff(failures, most=max(0.5, job.lease_seconds / 4)))
                continue
            except Refused as refused:
                if self._is_fatal(refused):
                    self._fatal(refused)
                job.stop(REFUSAL_STOPS.get(refused.code, "refused"))
                raise Stop(
                    f"{what} refused ({refused.code}): {refused.message}", refused.code
                ) from None
            if what == "checkpoint":
                job.renewed(sent_at)  # a stored checkpoint renews the lease, as a heartbeat does
            return answer

    @staticmethod
    def _check_deadline(job: Job) -> bool:
        """Stop the run once its deadline (from the claim) passed; return whether it did."""
        if not job.past_deadline():
            return False
        if job.stop_reason is None:
            job.detail = "its deadline from the claim"
        job.stop("timeout")
        return True

    def _should_stop(self, job: Job, *, during_step: bool = False) -> bool:
        """The check before every step and between a step's retries: True stops the run.

        The run stops at its deadline (the claim's, or a heartbeat's or checkpoint's
        ``timeout``), as the Cloud Runner does; ``during_step`` (the engine asking between
        retries) marks the step in progress interrupted, so it is not stored. A request is
        sent only under a lease the server confirmed and that has not run out on this
        process's clock; otherwise it waits (asking for a heartbeat now) until a renewal
        confirms it, or the server says it is lost or cancelled. A runner that is stopping
        does not wait out an outage: its run is left for the lease to expire.
        """
        self._check_deadline(job)
        if during_step and job.stop_reason == "timeout":
            job.interrupted = True
        told = False
        asked = 0.0
        while job.stop_reason is None and not job.usable():
            if self.stopping.is_set() and job.lapsed():
                job.stop("lease_lapsed")
                break
            if self._check_deadline(job):
                break
            if job.confirmed and not told:
                told = True
                self.log(
                    f"Run {job.run_id}: its lease ran out on this process's clock; nothing is "
                    "sent until the server renews it"
                )
            if time.monotonic() - asked >= 1.0:  # a heartbeat now, then at most one a second
                asked = time.monotonic()
                self.beat.set()
            job.wait(0.25)
        if told and job.stop_reason is None:
            self.log(f"Run {job.run_id}: lease renewed; carrying on")
        return job.stop_reason is not None

    def _work(self, payload: dict[str, Any], job: Job) -> None:
        protocol = Protocol(self.options.url, self.options.token)
        try:
            self._execute(payload, job, protocol)
        except Stop as stop:
            self.log(f"Run {job.run_id} stopped: {stop}")
        except Exception as exc:  # a bug here must not take the other runs down
            self.log(f"Run {job.run_id} failed in the runner: {type(exc).__name__}: {exc}")
            with contextlib.suppress(Stop):
                self._deliver(
                    protocol,
                    job,
                    "complete",
                    {
                        "outcome": "error",
                        "message": self.redactor.redact(
                            f"The self-hosted runner failed: {type(exc).__name__}: {exc}"
                        ),
                    },
                )
        finally:
            protocol.close()
            with self.slots:
                if self.jobs.get(job.run_id) is job:
                    del self.jobs[job.run_id]
                self.slots.notify_all()
            self._forget((job.run_id, job.token))

    def _state(self, payload: dict[str, Any], job: Job) -> Any:
        from reqflo.engine import Artifact, RunOptions, RunState, merge_inputs, new_client, numbers
        from reqflo.engine import StepResult as EngineStepResult
        from reqflo.engine.egress import EgressTransport

        artifact = Artifact(payload["plan"])
        client = new_client(
            verify_tls=True,
            transport=EgressTransport(
                allow=payload.get("egress_allow_hosts", []),
                allow_private=not self.options.deny_private,
            ),
        )
        options = RunOptions(
            default_timeout_ms=float(payload["options"]["default_timeout_ms"]),
            stop_requested=lambda: self._should_stop(job, during_step=True),
        )
        common: dict[str, Any] = {
            "inputs": merge_inputs(artifact, overrides=payload["inputs"]),
            "environment": payload["environment"]["values"],
            "secrets": payload["secrets"],
            "options": options,
            "client": client,
        }
        checkpoint = payload.get("checkpoint")
        if checkpoint:
            state = RunState.restore(
                artifact,
                numbers.loads(checkpoint["snapshot"]),
                results=[EngineStepResult.from_dict(e) for e in checkpoint["results"]],
                **common,
            )
        else:
            state = RunState(artifact, run_id=job.run_id, **common)
        state.redactor.add(*payload.get("redact", []))
        return state

    def _execute(self, payload: dict[str, Any], job: Job, protocol: Protocol) -> None:
        from reqflo.engine import RedactionStopped, StepResult, numbers, run_steps

        state = self._state(payload, job)
        count, start = int(payload["step_count"]), int(payload["next_step"])
        self.log(
            f"Claimed run {job.run_id} (attempt {job.attempt})"
            + (f", resuming at step {start + 1} of {count}" if start else f", {count} steps")
        )

        def after_step(result: StepResult, amended: list[StepResult]) -> bool:
            if job.stop_reason in ("lost", "revoked", "lease_lapsed", "refused"):
                raise Stop(
                    f"its lease is gone ({job.stop_reason}); step {result.index + 1} was not stored"
                )
            if job.interrupted:
                # The deadline stopped this step between its retries: like the Cloud Runner's
                # time limit, it is not stored (its evidence would blame the target).
                return False
            try:
                ack = self._deliver(
                    protocol,
                    job,
                    "checkpoint",
                    {
                        "index": result.index,
                        "evidence": result.to_dict(),
                        "snapshot": numbers.dumps(state.snapshot(), default=str),
                        "amended": {str(e.index): e.to_dict() for e in amended},
                    },
                )
            except Stop as stop:
                if stop.code == "run_timed_out":
                    job.interrupted = True  # not stored: the run ends at its time limit
                    job.detail = "the server refused the late checkpoint"
                    return False
                if stop.code == "checkpoint_out_of_order":
                    # The lease still holds: this process's progress is not the stored one.
                    job.detail = str(stop)
                    return False
                raise
            if isinstance(ack, dict) and ack.get("stop") in ("cancelled", "timeout"):
                if ack["stop"] == "timeout" and job.stop_reason is None:
                    job.detail = "the server's checkpoint answer"
                job.stop(str(ack["stop"]))
            sent = result.attempts[-1].request if result.attempts else None
            self.log(
                f"Run {job.run_id} step {result.index + 1}/{count} {result.step_id}: "
                f"{result.status} {sent.url if sent else '(not sent)'}"
            )
            more = result.index + 1 < count
            if more and self.stopping.is_set() and job.stop_reason is None:
                job.stop("shutdown")
            return not (more and self._should_stop(job))

        try:
            finished = start >= count or (
                not self._should_stop(job) and run_steps(state, start=start, after_step=after_step)
            )
        except RedactionStopped:
            # Asked to stop while masking a long answer: that step is not stored.
            if job.stop_reason not in ("cancelled", "timeout"):
                raise Stop(f"its lease is gone ({job.stop_reason})") from None
            job.interrupted = job.stop_reason == "timeout"
            finished = False
        finally:
            state.client.close()
        self._end(protocol, job, finished)

    def _end(self, protocol: Protocol, job: Job, finished: bool) -> None:
        if finished:
            answer = self._deliver(protocol, job, "complete", {"outcome": "finished"})
            self.log(f"Run {job.run_id} finished: {answer.get('status')}")
        elif job.stop_reason == "cancelled":
            self._deliver(protocol, job, "complete", {"outcome": "cancelled"})
            self.log(f"Run {job.run_id} cancelled")
        elif job.stop_reason == "timeout":
            self._deliver(
                protocol, job, "complete", {"outcome": "timeout", "during_step": job.interrupted}
            )
            where = "during its step in progress" if job.interrupted else "before its next step"
            self.log(
                f"Run {job.run_id} timed out {where}: it reached its time limit"
                + (f" ({job.detail})" if job.detail else "")
            )
        elif job.stop_reason == "out_of_order":
            message = self.redactor.redact(
                f"The self-hosted runner's steps did not follow the stored ones: {job.detail}"
            )
            self._deliver(protocol, job, "complete", {"outcome": "error", "message": message})
            self.log(f"Run {job.run_id} ended: {message}")
        elif job.stop_reason == "shutdown":
            self._deliver(protocol, job, "release", {"detail": "The runner is stopping."})
            self.log(f"Run {job.run_id} released for another runner")
        else:
            raise Stop(f"its lease is gone ({job.stop_reason})")


def runner_start_command(
    *,
    url: str | None,
    token: str | None,
    capacity: int | None,
    labels: str | None,
    deny_private: bool,
    environ: Mapping[str, str],
    out: TextIO,
    runner_factory: Callable[[RunnerOptions], SelfHostedRunner] | None = None,
) -> ExitCode:
    """Start a runner from the command line (``--url``/``--token``, else the environment)."""
    url = url or environ.get("REQFLO_URL", "")
    token = token or environ.get("REQFLO_RUNNER_TOKEN", "")
    if not url or not token:
        raise CliError(
            "reqflo runner start needs --url URL and --token TOKEN (or REQFLO_URL and "
            "REQFLO_RUNNER_TOKEN); register a runner on the server's Admin → Runners page"
        )
    if not url.startswith(("http://", "https://")):
        raise CliError(f"--url must start with http:// or https:// (got '{url[:80]}')")
    if not token.startswith("rqr_"):
        raise CliError(
            "--token is not a runner token (they start with rqr_; API tokens, rqf_, do not "
            "start runners)"
        )
    cleaned = sorted({part.strip().lower() for part in (labels or "").split(",") if part.strip()})
    for label in cleaned:
        problem = label_problem(label)
        if problem:
            raise CliError(f"--labels: {problem}")
    if len(cleaned) > MAX_LABELS:
        raise CliError(f"--labels: at most {MAX_LABELS} labels (got {len(cleaned)})")
    poll = environ.get("REQFLO_RUNNER_POLL_SECONDS", "")
    try:
        poll_seconds = float(poll) if poll else POLL_SECONDS
    except ValueError:
        raise CliError(f"REQFLO_RUNNER_POLL_SECONDS must be a number (got '{poll}')") from None
    options = RunnerOptions(
        url=url,
        token=token,
        capacity=capacity,
        labels=cleaned,
        deny_private=deny_private,
        poll_seconds=max(0.5, min(poll_seconds, 25.0)),
    )
    runner = (runner_factory or (lambda o: SelfHostedRunner(o, out=out)))(options)
    return runner.run()
