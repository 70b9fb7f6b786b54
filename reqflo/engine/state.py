"""The state of one run between steps, and how references resolve against it.

A durable runner executes one step, stores its StepResult plus `RunState.snapshot()`, and after a
crash rebuilds the state with `RunState.restore(...)` to continue at the next step. The snapshot
holds raw (unredacted) outputs: store it like a secret (encrypted), never as evidence.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from reqflo.engine.compiler import Artifact
from reqflo.engine.deadline import enforce_deadlines
from reqflo.engine.http import new_client
from reqflo.engine.prepare import PreparedPlan, prepare_plan
from reqflo.engine.redaction import Redactor, Seeds
from reqflo.engine.results import StepResult
from reqflo.engine.values import (
    GENERATOR_NAMESPACE,
    Ref,
    ResolutionError,
    generate,
    walk_path,
)

DEFAULT_BODY_LIMIT = 256 * 1024
DEFAULT_MAX_RESPONSE = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run: limits and transport behaviour (journey settings come from the artifact)."""

    body_limit_bytes: int = DEFAULT_BODY_LIMIT
    default_timeout_ms: float = 30_000
    follow_redirects: bool = True
    verify_tls: bool = True
    max_response_bytes: int = DEFAULT_MAX_RESPONSE
    idempotency_keys: bool | None = None
    # Asked before each retry of a step (and during its delay): True stops the retries, so a
    # cancelled run sends nothing more. The step ends with the attempts made so far.
    stop_requested: Callable[[], bool] | None = None


@dataclass(slots=True)
class StepContext:
    """What later steps may reference from a finished step (raw values, never redacted)."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "headers": self.headers,
            "outputs": self.outputs,
            "body": self.body,
            "has_body": self.has_body,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepContext:
        return cls(
            status=data.get("status"),
            headers=dict(data.get("headers", {})),
            outputs=dict(data.get("outputs", {})),
            body=data.get("body"),
            has_body=bool(data.get("has_body")),
        )


def prepared(artifact: Artifact) -> PreparedPlan:
    """Return the artifact's runnable plan, built on first use and then reused by every run."""
    if artifact._prepared is None:
        artifact._prepared = prepare_plan(artifact.plan)
    plan: PreparedPlan = artifact._prepared
    return plan


class RunState:
    """Everything one run needs between steps; resolves `{{ }}` references (the Resolver)."""

    def __init__(
        self,
        artifact: Artifact,
        *,
        inputs: Mapping[str, Any],
        environment: Mapping[str, Any],
        secrets: Mapping[str, str],
        run_id: str | None = None,
        options: RunOptions | None = None,
        client: httpx.Client | None = None,
        seeds: Seeds | None = None,
    ) -> None:
        self.artifact = artifact
        self.plan = prepared(artifact)
        self.run_id = run_id or f"run_{os.urandom(10).hex()}"
        self.inputs = dict(inputs)
        self.environment = dict(environment)
        self.secrets = dict(secrets)
        self.options = options or RunOptions()
        self.owns_client = client is None
        self.client = client or new_client(verify_tls=self.options.verify_tls)
        # A client made elsewhere gets the step deadlines too (a no-op for one from new_client).
        enforce_deadlines(self.client)
        self.contexts: dict[str, StepContext] = {}
        self.results: dict[int, StepResult] = {}
        self.failed_step: str | None = None
        self._resolving: list[str] = []
        self.variable_values: dict[str, tuple[Any, bool]] = {}
        # A cancel (or a lost lease) stops a long redaction too, not only the next request.
        secret_inputs = (self.inputs[n] for n in self.plan.secret_inputs if n in self.inputs)
        stop = self.options.stop_requested
        if seeds is None:
            self.redactor = Redactor(self.secrets.values(), stop=stop)
            self.redactor.add(*secret_inputs)
        else:  # the same registration, done once for a command's rows
            self.redactor = seeds.redactor(self.secrets.values(), secret_inputs, stop=stop)

    def close(self) -> None:
        if self.owns_client:
            self.client.close()

    def __enter__(self) -> RunState:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def snapshot(self) -> dict[str, Any]:
        """Return the JSON-safe raw state a checkpoint needs (contains secret outputs)."""
        return {
            "run_id": self.run_id,
            "failed_step": self.failed_step,
            "contexts": {step_id: ctx.to_dict() for step_id, ctx in self.contexts.items()},
            "variables": {name: list(pair) for name, pair in self.variable_values.items()},
            "cookies": [
                {"name": c.name, "value": c.value, "domain": c.domain, "path": c.path}
                for c in self.client.cookies.jar
            ],
        }

    @classmethod
    def restore(
        cls,
        artifact: Artifact,
        snapshot: Mapping[str, Any],
        *,
        inputs: Mapping[str, Any],
        environment: Mapping[str, Any],
        secrets: Mapping[str, str],
        results: list[StepResult] | None = None,
        options: RunOptions | None = None,
        client: httpx.Client | None = None,
    ) -> RunState:
        """Rebuild a state from a snapshot (and the stored step results) to continue a run."""
        state = cls(
            artifact,
            inputs=inputs,
            environment=environment,
            secrets=secrets,
            run_id=snapshot["run_id"],
            options=options,
            client=client,
        )
        state.failed_step = snapshot.get("failed_step")
        for step_id, data in snapshot.get("contexts", {}).items():
            context = StepContext.from_dict(data)
            state.contexts[step_id] = context
            secret_names = state.plan.secret_outputs.get(step_id, frozenset())
            state.redactor.add(*(v for k, v in context.outputs.items() if k in secret_names))
        for name, (value, sensitive) in snapshot.get("variables", {}).items():
            state.variable_values[name] = (value, sensitive)
            if sensitive:
                state.redactor.add(value)
        for cookie in snapshot.get("cookies", []):
            state.client.cookies.set(
                cookie["name"], cookie["value"], domain=cookie["domain"], path=cookie["path"]
            )
        for result in results or []:
            state.results[result.index] = result
        return state

    def taint(self, text: str) -> None:
        self.redactor.add(text, derived=True)

    def resolve(self, ref: Ref) -> tuple[Any, bool]:
        """Return (value, sensitive); raise ResolutionError saying what is missing."""
        namespace, name, rest = ref.namespace, ref.name, ref.segments[1:]
        if namespace == "run":
            return self.run_id, False
        if namespace == GENERATOR_NAMESPACE:
            return generate(name), False
        if namespace == "secrets":
            if name not in self.secrets:
                raise ResolutionError(f"{ref.text}: secret '{name}' is not provided")
            return self.secrets[name], True
        if namespace == "inputs":
            if name not in self.inputs:
                raise ResolutionError(f"{ref.text}: input '{name}' has no value")
            return _walk(self.inputs[name], rest, ref), name in self.plan.secret_inputs
        if namespace == "env":
            if name not in self.environment:
                raise ResolutionError(f"{ref.text}: the environment has no value '{name}'")
            return _walk(self.environment[name], rest, ref), False
        if namespace == "variables":
            return self._variable(ref, name, rest)
        return self._step(ref, name, rest)

    def _variable(self, ref: Ref, name: str, rest: tuple[Any, ...]) -> tuple[Any, bool]:
        if name in self.variable_values:
            value, sensitive = self.variable_values[name]
            return _walk(value, rest, ref), sensitive
        template = self.plan.variables.get(name)
        if template is None:
            raise ResolutionError(f"{ref.text}: there is no variable '{name}'")
        if name in self._resolving:
            chain = " -> ".join([*self._resolving, name])
            raise ResolutionError(f"{ref.text}: variables refer to each other in a cycle ({chain})")
        self._resolving.append(name)
        try:
            value, sensitive = template.render(self)
        finally:
            self._resolving.pop()
        # Fixed once resolved: a variable only uses earlier steps (the Run check makes sure),
        # and a generated value like "user-{{ $uuid }}" must stay the same for the whole run.
        self.variable_values[name] = (value, sensitive)
        return _walk(value, rest, ref), sensitive

    def _step(self, ref: Ref, step_id: str, rest: tuple[Any, ...]) -> tuple[Any, bool]:
        context = self.contexts.get(step_id)
        if context is None:
            raise ResolutionError(f"{ref.text}: step '{step_id}' has not run")
        field_name = rest[0]
        if field_name == "status":
            if context.status is None:
                raise ResolutionError(f"{ref.text}: step '{step_id}' got no response")
            return context.status, False
        if field_name == "headers":
            header = str(rest[1]).lower()
            if header not in context.headers:
                raise ResolutionError(
                    f"{ref.text}: step '{step_id}' received no header '{rest[1]}'"
                )
            return context.headers[header], False
        if field_name == "outputs":
            output = str(rest[1])
            if output not in context.outputs:
                raise ResolutionError(f"{ref.text}: step '{step_id}' did not capture '{output}'")
            secret = output in self.plan.secret_outputs.get(step_id, frozenset())
            return _walk(context.outputs[output], rest[2:], ref), secret
        if not context.has_body:
            raise ResolutionError(f"{ref.text}: step '{step_id}' has no usable response body")
        return _walk(context.body, rest[1:], ref), False


def _walk(value: Any, path: tuple[Any, ...], ref: Ref) -> Any:
    """`walk_path`, without spelling the reference (for its errors) when there is no path."""
    return walk_path(value, path, ref.text) if path else value
