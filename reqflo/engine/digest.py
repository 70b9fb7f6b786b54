"""Tamper-evident evidence: a SHA-256 digest chain over a run's stored step results.

Each stored step result carries ``digest = sha256(canonical(record) + previous digest)``, where
the previous digest of the first step is the empty string, and a finished run stores the last
step's digest as its head (the empty string for a run without step results). Changing, removing,
reordering or moving any step result, or cutting the tail, changes a digest the next link or the
head no longer matches. The rule comes from DESIGN.md section 6 ("Evidence digest chain");
docs/cloud-runner.md states the canonical form for anyone verifying without this code.

The canonical form of one step result (``canonical_record``) is the UTF-8 bytes of the JSON
object ``{"evidence": …, "index": …, "run": …, "status": …, "step_id": …}`` (the run id as
text, the other four as stored), written with keys sorted at every level, no whitespace
(separators ``,`` and ``:``), non-ASCII characters as themselves, and these number rules so that
the stored and read-back values give the same bytes on every database:

- an integral float is written as the integer its shortest text denotes (``3.0`` → ``3``,
  ``3.768739945393074e+16`` → ``37687399453930740``), as PostgreSQL ``jsonb`` returns it;
- any other finite float in Python's shortest round-trip form (``0.1``, ``1.5e-07``);
- NaN and the infinities as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``;
- a finite Decimal (an exact number: ``100.10``, ``1e400``, 20 digits) as the number a JSON
  column gives back for it: an integer written without point or exponent (``00012``) as that
  integer; one that is a float's value with as many places after the point (``0.50``
  is not, ``5e-1`` and ``0.00000015`` are) by the float rules above; any other as a JSON number
  in the General Decimal Arithmetic scientific-string form (``100.10``, ``1E+400``, ``-0``);
  a Decimal NaN or infinity as the strings above.

Rows stored before exact numbers were kept (issue 13) hold such a number as a string (the
text ``numbers.plain`` wrote), whose canonical form is that string: their digests verify as
they did.

A finished run is also **sealed**: ``seal_digest`` is a SHA-256 over the run's facts that live
outside the chain (``seal_facts``: status, planned and stored step counts, the head, the
artifact, a digest of the inputs and the attempt count), and the server signs that digest with
an HMAC-SHA256 key of its own (``seal_signature``). The digest catches edited facts and dropped
trailing steps; the signature catches a chain and seal recomputed by someone who can write the
database but does not hold the server's key. Offline (no key) the signature is not checked.

This module imports no Django: ``verify_bundle`` checks an exported evidence bundle offline.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reqflo.engine import numbers

DIGEST_ALGORITHM = "sha256"
SEAL_FORMAT = "reqflo-seal/1"
UNFINISHED = ("queued", "running")
# The previous digest of a run's first step.
GENESIS = ""


def _normal(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        # From its shortest text, as a database parsing that text would (1e16 written out).
        return int(Decimal(repr(value))) if value.is_integer() else value
    if isinstance(value, Decimal):
        return _normal_decimal(value)
    if isinstance(value, Mapping):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    raise TypeError(f"{type(value).__name__} is not stored evidence (JSON values only)")


def _normal_decimal(value: Decimal) -> Any:
    """Return the canonical form of an exact number: the same for the number as the engine
    made it and as a JSON column (or ``numbers.loads`` of its ``numbers.dumps`` text) gives it
    back, and for a float that PostgreSQL ``jsonb`` once rewrote positionally (``1.5e-07`` as
    ``0.00000015``)."""
    if value.is_nan():
        return "NaN"
    if value.is_infinite():
        return "Infinity" if value > 0 else "-Infinity"
    # An integer written without exponent or point (`00012`, `+5`) reads back as an int.
    if value.as_tuple().exponent == 0 and not (value.is_zero() and value.is_signed()):
        return int(value)
    as_float = float(value)
    if math.isfinite(as_float):
        shortest = Decimal(repr(as_float))
        # The same value with as many places after the point: a float's text, however written.
        if shortest == value and _places(shortest) == _places(value):
            return _normal(as_float)
    # Any other: the plain Decimal, written as a JSON number in its scientific-string form.
    return Decimal(Decimal.__str__(value))


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _canonical(value: Any) -> bytes:
    text = numbers.dumps(
        _normal(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def seal_facts(
    *,
    run_id: str,
    status: str,
    step_count: int,
    steps: int,
    head: str,
    artifact_id: str,
    inputs: Mapping[str, Any],
    attempts: int,
) -> dict[str, Any]:
    """Return the run facts a seal covers: what the chain of step results does not hold."""
    return {
        "format": SEAL_FORMAT,
        "run": str(run_id),
        "status": status,
        "step_count": step_count,
        "steps": steps,
        "head": head,
        "artifact": artifact_id,
        "inputs": hashlib.sha256(_canonical(dict(inputs))).hexdigest(),
        "attempts": attempts,
    }


def seal_digest(facts: Mapping[str, Any]) -> str:
    """Return ``sha256`` of the canonical form of ``facts`` (``seal_facts``), as hex."""
    return hashlib.sha256(_canonical(dict(facts))).hexdigest()


def seal_signature(key: bytes, digest: str) -> str:
    """Return ``HMAC-SHA256(key, digest)`` as hex: only the holder of ``key`` can make it."""
    return hmac.new(key, digest.encode("ascii"), hashlib.sha256).hexdigest()


def canonical_record(
    *, run_id: str, index: int, step_id: str, status: str, evidence: Mapping[str, Any]
) -> bytes:
    """Return the canonical bytes of one stored step result (the form is in the module text).

    Raises ``TypeError`` for a value JSON cannot hold.
    """
    record = {
        "evidence": evidence,
        "index": index,
        "run": str(run_id),
        "status": status,
        "step_id": step_id,
    }
    return _canonical(record)


def chain_digest(previous: str, canonical: bytes) -> str:
    """Return ``sha256(canonical + previous)`` as 64 lowercase hex digits.

    ``previous`` is the previous step's digest (hex text), ``GENESIS`` for the first step.
    """
    return hashlib.sha256(canonical + previous.encode("ascii")).hexdigest()


def step_digest(
    previous: str,
    *,
    run_id: str,
    index: int,
    step_id: str,
    status: str,
    evidence: Mapping[str, Any],
) -> str:
    """Return the chained digest of one step result given the previous step's digest."""
    canonical = canonical_record(
        run_id=run_id, index=index, step_id=step_id, status=status, evidence=evidence
    )
    return chain_digest(previous, canonical)


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """The outcome of verifying a chain.

    ``ok`` is True when every link and the head match. Otherwise ``broken_at`` is the index of
    the first step result that does not verify (None when only the head is wrong or missing)
    and ``reason`` says what was found, in a sentence.
    """

    ok: bool
    steps: int
    head: str
    broken_at: int | None = None
    reason: str = ""
    # Whether the seal's signature was checked with the server's key (never offline).
    signed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "steps": self.steps,
            "head": self.head,
            "broken_at": self.broken_at,
            "reason": self.reason,
            "signed": self.signed,
        }


def verify_records(
    run_id: str,
    records: Sequence[Mapping[str, Any]],
    *,
    head: str | None,
) -> ChainCheck:
    """Verify step records (``index``, ``step_id``, ``status``, ``evidence``, ``digest``).

    ``records`` are in index order; ``head`` is the digest the run stores, or None for a run
    still running (then only the links are checked). Never raises for bad data: a missing field
    or a value that is not JSON is reported as the break.
    """
    previous = GENESIS
    for position, record in enumerate(records):
        index = record.get("index")
        if index != position:
            return ChainCheck(
                False,
                len(records),
                previous,
                broken_at=position,
                reason=f"step result {position} is missing (found index {index!r} in its place)",
            )
        try:
            expected = step_digest(
                previous,
                run_id=run_id,
                index=position,
                step_id=record["step_id"],
                status=record["status"],
                evidence=record["evidence"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            return ChainCheck(
                False,
                len(records),
                previous,
                broken_at=position,
                reason=f"step result {position} cannot be read: {type(exc).__name__}: {exc}",
            )
        if record.get("digest") != expected:
            return ChainCheck(
                False,
                len(records),
                previous,
                broken_at=position,
                reason=f"step result {position} does not match its digest: its evidence, "
                "status or place was changed after it was stored",
            )
        previous = expected
    if head is not None and head != previous:
        return ChainCheck(
            False,
            len(records),
            previous,
            reason="the run's head digest does not match its last step result: step results "
            "were removed, added or replaced after the run finished",
        )
    return ChainCheck(True, len(records), previous)


def verify_bundle(bundle: Mapping[str, Any], *, key: bytes | None = None) -> ChainCheck:
    """Verify an exported evidence bundle (no database), from its parsed JSON.

    The bundle is ``{"run": {"id", "status", "step_count", "head_digest", "artifact_id",
    "inputs", "attempts"}, "steps": [{"index", "step_id", "status", "evidence", "digest"},
    ...], "seal": {"digest", "signature"}}`` as ``reqflo.runs.selectors.run_evidence_bundle``
    writes it. A run still ``queued`` or ``running`` has no head or seal yet: only its links
    are checked. A finished run's facts must match its seal's digest, and a passed run must
    hold every planned step; with ``key`` (the server's) the seal's signature is checked too.
    """
    run = bundle.get("run")
    steps = bundle.get("steps")
    if not isinstance(run, Mapping) or not isinstance(run.get("id"), str):
        return ChainCheck(False, 0, GENESIS, reason="the bundle has no run id (run.id)")
    if not isinstance(steps, list) or not all(isinstance(s, Mapping) for s in steps):
        return ChainCheck(False, 0, GENESIS, reason="the bundle's steps are not a list of objects")
    finished = run.get("status") not in UNFINISHED
    head = run.get("head_digest")
    if finished and not isinstance(head, str):
        return ChainCheck(False, len(steps), GENESIS, reason="the finished run has no head digest")
    check = verify_records(run["id"], steps, head=head if finished else None)
    if not check.ok or not finished:
        return check
    return _verify_seal(run, len(steps), bundle.get("seal"), check, key)


def _verify_seal(
    run: Mapping[str, Any], stored: int, seal: Any, check: ChainCheck, key: bytes | None
) -> ChainCheck:
    def broken(reason: str) -> ChainCheck:
        return ChainCheck(False, check.steps, check.head, reason=reason)

    if not isinstance(seal, Mapping) or not isinstance(seal.get("digest"), str):
        return broken("the finished run has no seal over its facts")
    try:
        facts = seal_facts(
            run_id=run["id"],
            status=run["status"],
            step_count=run["step_count"],
            steps=stored,
            head=run["head_digest"],
            artifact_id=run["artifact_id"],
            inputs=run["inputs"],
            attempts=run["attempts"],
        )
        digest = seal_digest(facts)
    except (KeyError, TypeError, ValueError) as exc:
        return broken(f"the run's facts cannot be read: {type(exc).__name__}: {exc}")
    if not hmac.compare_digest(digest, seal["digest"]):
        return broken(
            "the run's facts (status, step counts, head, artifact, inputs or attempts) do not "
            "match its seal: they were changed, or step results removed, after it finished"
        )
    if run["status"] == "passed" and stored != run["step_count"]:
        return broken(f"the run passed but holds {stored} of its {run['step_count']} step results")
    if key is None:
        return check
    signature = seal.get("signature")
    if not isinstance(signature, str) or not hmac.compare_digest(
        signature, seal_signature(key, digest)
    ):
        return broken(
            "the seal's signature does not match: the chain and seal were recomputed by "
            "someone without this server's key"
        )
    return ChainCheck(True, check.steps, check.head, signed=True)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a run's evidence holds: the chain (``check``) and its facts agree (``problems``)."""

    check: ChainCheck
    problems: tuple[str, ...]

    @property
    def verified(self) -> bool:
        return not self.problems


def run_fact_problems(bundle: Mapping[str, Any]) -> list[str]:
    """Return how the bundle's recorded run status disagrees with its step results.

    The chain covers the step results, not the run row: a run recorded as passed whose steps
    failed, or as failed whose steps all passed, was changed after it finished. The rule is the
    engine's (``runner._run_status``): the first failed or error step decides, else the run
    passed. A run with every step result stored must have exactly that status. One with fewer
    (ended by a time limit, a crash or a cancel, or still going) cannot have passed, and can
    have failed only through a failed step.
    """
    run, steps = bundle.get("run"), bundle.get("steps")
    if not isinstance(run, Mapping) or not isinstance(steps, list):
        return []
    status, count = run.get("status"), run.get("step_count")
    statuses = [str(s.get("status")) for s in steps if isinstance(s, Mapping)]
    bad = next(((i, s) for i, s in enumerate(statuses) if s in ("failed", "error")), None)
    given = "every step result passed" if bad is None else f"step result {bad[0]} is {bad[1]}"
    derived = "passed" if bad is None else bad[1]
    if isinstance(count, int) and len(statuses) == count:
        if status in ("passed", "failed", "error") and status != derived:
            return [f"the run is recorded as {status}, but {given}"]
        return []
    if status == "passed":
        return [
            f"the run is recorded as passed with {count} steps, but {len(statuses)} step "
            "results are stored"
        ]
    if status == "failed" and derived != "failed":
        return [f"the run is recorded as failed, but no step result failed ({given})"]
    return []


def bundle_verdict(bundle: Mapping[str, Any], *, key: bytes | None = None) -> Verdict:
    """Verify a bundle's digest chain, seal and run facts (``run_fact_problems``) together.

    With ``key`` (the server's seal key) the seal's signature is checked too (``verify_bundle``).
    """
    check = verify_bundle(bundle, key=key)
    problems = [] if check.ok else [_chain_problem(check)]
    return Verdict(check, tuple(problems + run_fact_problems(bundle)))


def _chain_problem(check: ChainCheck) -> str:
    where = f" at step result {check.broken_at}" if check.broken_at is not None else ""
    return f"the evidence digest chain is broken{where}: {check.reason}"
