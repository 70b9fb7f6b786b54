"""`reqflo validate FILE...`: the offline Run check, for editors, pre-commit hooks and CI."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reqflo.cli.config import find_config, load_config
from reqflo.cli.errors import CliError, ExitCode
from reqflo.cli.run import Streams, load_journey
from reqflo.engine import run_check


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
    definition = load_journey(path)
    environment = None
    if env is not None:
        project = load_config(config or find_config(path, cwd=streams.cwd))
        environment = project.environment(env)
    # Inputs and secrets are unknown offline (None): their checks belong to `reqflo run`.
    issues = run_check(definition, environment=environment)
    errors = [issue for issue in issues if issue.severity == "error"]
    warnings = len(issues) - len(errors)
    if not issues:
        streams.stdout.write(f"✓ {path}: journey '{definition.slug}' is valid\n")
        return True
    verdict = "✗" if errors else "✓"
    counts = f"{len(errors)} error(s), {warnings} warning(s)"
    streams.stdout.write(f"{verdict} {path}: {counts}\n")
    for issue in issues:
        streams.stdout.write(f"  {issue.severity}: {issue}\n")
    return not errors
