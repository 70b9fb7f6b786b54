"""What a ``{{ reference }}`` may name at one place of a journey, for the editor's suggestions."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from reqflo.journeys.editor import EditorState


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One reference in scope: ``text`` goes between the braces, ``detail`` says what it is."""

    text: str
    kind: str
    detail: str


def references_in_scope(
    state: EditorState,
    *,
    step_index: int | None,
    env_names: Iterable[str],
    secret_names: Collection[str] | None,
) -> list[Suggestion]:
    """Return every reference usable at step ``step_index`` (None: in a variable).

    Earlier steps only: a step's outputs are visible to later steps, never to itself.
    """
    found: list[Suggestion] = []
    for row in state.inputs:
        if row.name.strip():
            detail = "input" + (f", default {row.default}" if row.default.strip() else "")
            found.append(Suggestion(f"inputs.{row.name.strip()}", "input", detail))
    for variable in state.variables:
        if variable.name.strip():
            found.append(Suggestion(f"variables.{variable.name.strip()}", "variable", "variable"))
    for name in sorted({"base_url", *env_names}):
        found.append(Suggestion(f"env.{name}", "env", "environment value"))
    for name in sorted(secret_names or ()):
        found.append(Suggestion(f"secrets.{name}", "secret", "secret (masked in evidence)"))
    last = len(state.steps) if step_index is None else step_index
    for step in state.steps[: max(last, 0)]:
        if not step.id:
            continue
        for output in step.outputs:
            if output.name:
                found.append(
                    Suggestion(
                        f"steps.{step.id}.outputs.{output.name}",
                        "output",
                        f"output of step {step.id}" + (" (secret)" if output.secret else ""),
                    )
                )
        found.append(Suggestion(f"steps.{step.id}.status", "step", f"status of step {step.id}"))
        found.append(Suggestion(f"steps.{step.id}.body.", "step", f"response body of {step.id}"))
        found.append(
            Suggestion(f"steps.{step.id}.headers.", "step", f"response headers of {step.id}")
        )
    found.append(Suggestion("run.id", "run", "this run's id"))
    return found


def filter_suggestions(suggestions: Iterable[Suggestion], prefix: str) -> list[Suggestion]:
    """Return the suggestions starting with ``prefix`` (what was typed after ``{{``)."""
    wanted = prefix.strip().lower()
    return [item for item in suggestions if item.text.lower().startswith(wanted)]
