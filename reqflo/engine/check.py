"""The Run check: reference and context problems that block a run, and warnings that do not.

Variables are expanded transitively, so a step using `variables.auth` that is built from
`steps.login.outputs.token` must itself come after `login`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from reqflo.engine.definition import Definition, RefSite
from reqflo.engine.errors import Issue, suggest
from reqflo.engine.schema_check import plainly_valid
from reqflo.engine.values import Ref


def run_check(
    definition: Definition,
    *,
    inputs: Mapping[str, Any] | None = None,
    environment: Mapping[str, Any] | None = None,
    secret_names: Collection[str] | None = None,
) -> list[Issue]:
    """Return every error and warning; a None context argument skips the checks needing it."""
    checker = _Checker(definition, inputs, environment, secret_names)
    return checker.run()


class _Checker:
    def __init__(
        self,
        definition: Definition,
        inputs: Mapping[str, Any] | None,
        environment: Mapping[str, Any] | None,
        secret_names: Collection[str] | None,
    ) -> None:
        self.d = definition
        self.inputs = inputs
        self.environment = environment
        self.secret_names = secret_names
        self.issues: list[Issue] = []
        self._suggested: dict[tuple[str, str], str] = {}
        self.step_index = {step.id: step.index for step in definition.steps}
        self.var_refs: dict[str, list[RefSite]] = {name: [] for name in definition.variables}
        for site in definition.references:
            if site.variable is not None:
                self.var_refs[site.variable].append(site)

    def error(self, code: str, path: str, message: str) -> None:
        self.issues.append(Issue("error", code, path, message))

    def warning(self, code: str, path: str, message: str) -> None:
        self.issues.append(Issue("warning", code, path, message))

    def suggest(self, kind: str, word: str, choices: Collection[str]) -> str:
        """Return ``errors.suggest(word, choices)``, worked out once per run for each (kind,
        word): ``kind`` names the choices, which stay the same for the run ("step", "output
        of login"). A 1,500-step journey without its login step names it 1,499 times; each
        suggestion compares the word with every step id (about 1 ms), 1.7 s in all.
        """
        key = (kind, word)
        if key not in self._suggested:
            self._suggested[key] = suggest(word, choices)
        return self._suggested[key]

    def run(self) -> list[Issue]:
        for site in self.d.references:
            self.check_reference(site)
        cyclic = self.check_variable_cycles()
        for site in self.d.references:
            if site.step_index is not None and site.ref.kind == "variable":
                self.check_variable_order(site, cyclic)
        self.check_inputs()
        self.check_unused_variables()
        self.check_schema_references()
        for step in self.d.steps:
            if step.assertion_count == 0:
                self.warning(
                    "no_assertions", f"steps[{step.index}]", f"step '{step.id}' has no assertions"
                )
        return self.issues

    def check_reference(self, site: RefSite) -> None:
        ref, path = site.ref, site.path
        kind = ref.kind  # a property: read once, not once per branch (thousands of references)
        if kind == "input" and self.d.input(ref.name) is None:
            names = [i.name for i in self.d.inputs]
            self.error(
                "unknown_reference",
                path,
                f"unknown input '{ref.name}'{self.suggest('input', ref.name, names)}",
            )
        elif kind == "variable" and ref.name not in self.d.variables:
            self.error(
                "unknown_reference",
                path,
                f"unknown variable '{ref.name}'"
                f"{self.suggest('variable', ref.name, self.d.variables)}",
            )
        elif kind == "secret":
            if self.secret_names is not None and ref.name not in self.secret_names:
                self.error(
                    "missing_secret",
                    path,
                    f"Missing secret {ref.name}: no secret of that name is provided"
                    f"{self.suggest('secret', ref.name, self.secret_names)}",
                )
        elif kind == "env":
            self.check_env(ref, path)
        elif kind == "step":
            self.check_step(ref, path, site.step_index)

    def check_env(self, ref: Ref, path: str) -> None:
        if self.environment is None or ref.name in self.environment:
            return
        if ref.name == "base_url":
            self.error("no_base_url", path, "the environment has no base_url")
        else:
            self.error(
                "unknown_env",
                path,
                f"the environment has no value '{ref.name}'"
                f"{self.suggest('env', ref.name, self.environment)}",
            )

    def check_step(self, ref: Ref, path: str, user_index: int | None) -> None:
        target = self.d.step(ref.name)
        if target is None:
            self.error(
                "unknown_reference",
                path,
                f"unknown step '{ref.name}'{self.suggest('step', ref.name, self.step_index)}",
            )
            return
        if user_index is not None and target.index >= user_index:
            where = "this step itself" if target.index == user_index else "a later step"
            self.error(
                "later_step",
                path,
                f"'{ref.text}' refers to {where}; a step sees only outputs of earlier steps",
            )
        if ref.segments[1] == "outputs" and ref.segments[2] not in target.output_names:
            name = str(ref.segments[2])
            hint = self.suggest("output of " + target.id, name, target.output_names)
            self.error(
                "unknown_reference", path, f"step '{target.id}' has no output '{name}'{hint}"
            )

    def check_variable_cycles(self) -> set[str]:
        cyclic: set[str] = set()
        for name in self.d.variables:
            if self._reaches(name, name, set()):
                cyclic.add(name)
                index = list(self.d.variables).index(name)
                self.error(
                    "variable_cycle",
                    f"variables[{index}].value",
                    f"variable '{name}' refers back to itself",
                )
        return cyclic

    def _reaches(self, start: str, target: str, seen: set[str]) -> bool:
        for site in self.var_refs.get(start, []):
            if site.ref.kind != "variable":
                continue
            name = site.ref.name
            if name == target:
                return True
            if name not in seen:
                seen.add(name)
                if self._reaches(name, target, seen):
                    return True
        return False

    def expanded_step_refs(self, variable: str, seen: set[str]) -> list[Ref]:
        refs: list[Ref] = []
        for site in self.var_refs.get(variable, []):
            if site.ref.kind == "step":
                refs.append(site.ref)
            elif site.ref.kind == "variable" and site.ref.name not in seen:
                seen.add(site.ref.name)
                refs.extend(self.expanded_step_refs(site.ref.name, seen))
        return refs

    def check_variable_order(self, site: RefSite, cyclic: set[str]) -> None:
        if site.ref.name in cyclic or site.step_index is None:
            return
        for ref in self.expanded_step_refs(site.ref.name, {site.ref.name}):
            target = self.d.step(ref.name)
            if target is not None and target.index >= site.step_index:
                self.error(
                    "later_step",
                    site.path,
                    f"variable '{site.ref.name}' uses '{ref.text}', which is not run before "
                    "this step",
                )

    def check_inputs(self) -> None:
        used = {site.ref.name for site in self.d.references if site.ref.kind == "input"}
        for index, decl in enumerate(self.d.inputs):
            path = f"inputs[{index}]"
            if decl.name not in used:
                self.warning("unused_input", path, f"input '{decl.name}' is never used")
            if (
                self.inputs is not None
                and decl.required
                and not decl.has_default
                and self.inputs.get(decl.name) is None
            ):
                self.error(
                    "missing_input",
                    path,
                    f"required input '{decl.name}' has no value (give it in a case, "
                    "with --set or in a data row)",
                )
        if self.inputs is not None:
            declared = [i.name for i in self.d.inputs]
            for name in self.inputs:
                if name not in declared:
                    self.warning(
                        "unknown_input",
                        f"inputs.{name}",
                        f"'{name}' is not an input of this journey{suggest(name, declared)}",
                    )

    def check_schema_references(self) -> None:
        """Refuse JSON Schema references that lead outside the schema document.

        Nothing is fetched or read for a schema (a cloud worker would otherwise reach a URL
        around the egress policy, or a file on its disk), so such a reference could never
        resolve; the run is stopped before it starts, naming the reference.
        """
        for index, step in enumerate(self.d.document.get("steps", [])):
            for number, assertion in enumerate(step.get("assertions", [])):
                if assertion.get("type") != "json_schema" or plainly_valid(assertion.get("schema")):
                    continue  # a plainly valid schema holds no reference keyword at all
                # Imported here: jsonschema is loaded only for schemas that may hold references.
                from reqflo.engine.json_schemas import schema_reference_problems

                path = f"steps[{index}].assertions[{number}].schema"
                for where, message in schema_reference_problems(assertion.get("schema")):
                    self.error("schema_reference", path + where, message)

    def check_unused_variables(self) -> None:
        used_vars = {site.ref.name for site in self.d.references if site.ref.kind == "variable"}
        for index, name in enumerate(self.d.variables):
            if name not in used_vars:
                self.warning(
                    "unused_variable", f"variables[{index}]", f"variable '{name}' is never used"
                )
