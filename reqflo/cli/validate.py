"""`reqflo validate FILE...`: the offline Run check, for editors, pre-commit hooks and CI.

A file named `reqflo.yaml` is checked as the configuration. For a journey, besides the journey
itself it checks the journey's cases in `reqflo.yaml`: unknown input names
and values that do not fit an input's type are errors (`reqflo run --case` would refuse them),
a required input a case leaves empty is a warning (it may come from `--set`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reqflo.cli.config import CONFIG_NAME, find_config, load_config
from reqflo.cli.errors import CliError, ExitCode
from reqflo.cli.journey_file import load_journey
from reqflo.cli.streams import Streams
from reqflo.engine import Definition, DefinitionError, Issue, run_check


def validate_command(
    files: Sequence[Path], *, env: str | None, config: Path | None, streams: Streams
) -> ExitCode:
    """Check every file and print its problems; exit 2 when any file has an error."""
    failed = False
    for path in files:
        try:
            failed |= not _validate(path, env=env, config=config, streams=streams)
        except CliError as error:
            streams.stderr.write(f"reqflo: error: {error.message}\n")
            failed = True
    return ExitCode.USAGE if failed else ExitCode.PASSED


def _validate(path: Path, *, env: str | None, config: Path | None, streams: Streams) -> bool:
    if path.name == CONFIG_NAME:
        # `reqflo validate dir/*.yaml` also matches the config file: check it as a config.
        load_config(path)
        streams.stdout.write(f"✓ {path}: configuration is valid\n")
        return True
    definition = load_journey(path)
    project = load_config(config or find_config(path, cwd=streams.cwd))
    environment = project.environment(env) if env is not None else None
    # Inputs and secrets are unknown offline (None): their checks belong to `reqflo run`.
    issues = run_check(definition, environment=environment)
    for name, values in project.journey(slug=definition.slug, file=path).cases.items():
        issues.extend(case_issues(definition, name, values))
    errors = [issue for issue in issues if issue.severity == "error"]
    warnings = len(issues) - len(errors)
    if not issues:
        streams.stdout.write(f"✓ {path}: journey '{definition.slug}' is valid\n")
        return True
    verdict = "✗" if errors else "✓"
    streams.stdout.write(f"{verdict} {path}: {len(errors)} error(s), {warnings} warning(s)\n")
    for issue in issues:
        streams.stdout.write(f"  {issue.severity}: {issue}\n")
    return not errors


def case_issues(definition: Definition, name: str, values: Mapping[str, Any]) -> list[Issue]:
    """Return the problems of one case from `reqflo.yaml`, with paths under `cases['name']`."""
    where = f"cases[{name!r}]"
    declared = {decl.name for decl in definition.inputs}
    issues = [
        Issue(
            "error", "unknown_input", f"{where}.{key}", f"'{key}' is not an input of this journey"
        )
        for key in values
        if key not in declared
    ]
    known = {key: value for key, value in values.items() if key in declared}
    # Here, not at the top: input merging loads the compiler (and OpenSSL's hashes), which a
    # journey without cases never needs.
    from reqflo.engine import merge_inputs

    try:
        merged = merge_inputs(definition, case=known)
    except DefinitionError as exc:
        return issues + [
            Issue("error", issue.code, f"{where}.{issue.path}", issue.message)
            for issue in exc.issues
        ]
    for issue in run_check(definition, inputs=merged):
        if issue.code == "missing_input":
            message = f"{issue.message.split(' (')[0]} in this case; pass it with --set"
            issues.append(Issue("warning", issue.code, f"{where}.{issue.path}", message))
    return issues
