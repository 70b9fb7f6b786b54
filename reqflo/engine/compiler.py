"""Compile a Definition into a canonical, content-addressed Artifact.

The plan is the normalised definition plus, per step and variable, every reference classified by
its source kind. It holds input declarations (and authored defaults) but never run inputs or
secret values, because it is built from the definition alone.
"""

from __future__ import annotations

import hashlib
from typing import Any

from reqflo.engine import numbers
from reqflo.engine.check import run_check
from reqflo.engine.definition import Definition
from reqflo.engine.errors import DefinitionError, errors_only

COMPILER_VERSION = 1


def canonical_json(data: Any) -> str:
    """Return the plan's JSON text: sorted keys, no spaces, every digit of a Decimal."""
    return numbers.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


class Artifact:
    """An immutable execution plan; `id` is `art_` + 16 hex of its canonical JSON's SHA-256."""

    __slots__ = ("_json", "_prepared", "id", "plan")

    def __init__(self, plan: dict[str, Any]) -> None:
        self._json = canonical_json(plan)
        # A fresh copy: the plan never aliases the definition it was compiled from.
        self.plan: dict[str, Any] = numbers.loads(self._json)
        self.id = "art_" + hashlib.sha256(self._json.encode()).hexdigest()[:16]
        # Filled by the runner on first use so a batch of runs prepares templates only once.
        self._prepared: Any = None

    def to_json(self) -> str:
        return self._json

    @classmethod
    def from_json(cls, text: str) -> Artifact:
        return cls(numbers.loads(text))

    @property
    def journey_name(self) -> str:
        return str(self.plan["journey"]["name"])

    @property
    def journey_slug(self) -> str:
        return str(self.plan["journey"]["slug"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Artifact) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"<Artifact {self.id} {self.journey_slug}>"


def compile_definition(definition: Definition) -> Artifact:
    """Build the artifact; raise DefinitionError if the context-free Run check finds errors."""
    errors = errors_only(run_check(definition))
    if errors:
        raise DefinitionError(errors)
    doc = definition.document
    refs_by_owner: dict[tuple[str, int | str], list[dict[str, Any]]] = {}
    for site in definition.references:
        owner: tuple[str, int | str]
        if site.step_index is not None:
            owner = ("step", site.step_index)
            at = site.path.split(".", 1)[1]
        else:
            owner = ("variable", site.variable or "")
            at = "value"
        refs_by_owner.setdefault(owner, []).append({**site.ref.describe(), "at": at})
    steps = []
    for index, step in enumerate(doc["steps"]):
        planned = {
            "id": step["id"],
            "name": step["name"],
            "description": step.get("description", ""),
            "tags": step["tags"],
            "request": step["request"],
            "timeout_ms": step.get("timeout_ms"),
            "assertions": step["assertions"],
            "outputs": step["outputs"],
            "retries": step.get("retries") or {"count": 0, "delay_ms": 0},
            "always": step["always"],
            "follow_redirects": step.get("follow_redirects"),
            "idempotency_key": step.get("idempotency_key"),
            "references": refs_by_owner.get(("step", index), []),
        }
        steps.append(planned)
    plan = {
        "compiler_version": COMPILER_VERSION,
        "journey": {
            "name": doc["name"],
            "slug": doc["slug"],
            "description": doc["description"],
            "tags": doc["tags"],
            "idempotency_key": doc["idempotency_key"],
        },
        "inputs": [
            {
                "name": decl.name,
                "required": decl.required,
                "type": decl.type,
                "secret": decl.secret,
                **({"default": decl.default} if decl.has_default else {}),
            }
            for decl in definition.inputs
        ],
        "variables": [
            {"name": name, "value": value, "references": refs_by_owner.get(("variable", name), [])}
            for name, value in definition.variables.items()
        ],
        "steps": steps,
    }
    return Artifact(plan)
