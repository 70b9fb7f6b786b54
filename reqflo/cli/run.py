"""Orchestrate `reqflo run FILE`: load, Run check, execute every row, report, pick the exit code.

Nothing is sent before the whole command is known to be valid: the journey parses, the
environment and case exist, every `--set` names an input, the data file is readable to its last
row, and the Run check has no errors. Rows then stream through a bounded thread pool and out to
the reporters in row order, so memory stays flat however many rows there are.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reqflo import __version__
from reqflo.cli.config import ProjectConfig, find_config, load_config
from reqflo.cli.data import iter_rows
from reqflo.cli.errors import CliError, ExitCode
from reqflo.cli.inputs import (
    check_case_keys,
    parse_sets,
    row_inputs,
    secret_names,
    secrets_from_environ,
    unknown_columns,
)
from reqflo.cli.journey_file import issue_block, load_journey
from reqflo.cli.output import REPORTERS, ReportTarget, prepare, write_report
from reqflo.cli.process import resume_collection
from reqflo.cli.streams import Streams
from reqflo.engine import (
    Artifact,
    Definition,
    DefinitionError,
    Issue,
    Redactor,
    RunResult,
    compile_definition,
    merge_inputs,
    run_check,
)

if TYPE_CHECKING:
    from reqflo.cli.execute import Job
    from reqflo.cli.publish import Publisher
    from reqflo.engine.report import ReportMeta

__all__ = ["REPORTERS", "RunArgs", "Streams", "load_journey", "run_command"]


@dataclass(frozen=True)
class RunArgs:
    """What `reqflo run` was asked to do, already parsed from the command line."""

    journey: str
    env: str | None = None
    case: str | None = None
    sets: Sequence[str] = ()
    data: Path | None = None
    parallel: int = 1
    reporter: str | None = None
    output: str | None = None
    config: Path | None = None
    publish: bool = False  # publish each finished run to the server (reqflo.cli.publish)


@dataclass(frozen=True)
class Plan:
    """Everything resolved before the first request: the compiled journey and its context."""

    definition: Definition
    artifact: Artifact
    environment_name: str | None
    environment: dict[str, Any]
    secrets: dict[str, str]
    case: dict[str, Any]
    overrides: dict[str, Any]
    total: int


def run_command(args: RunArgs, streams: Streams) -> ExitCode:
    """Run a journey file once or per data row and report; return the process exit code."""
    # Imported here, not at the top: `reqflo validate` shares this module and needs neither
    # httpx nor rich.
    from reqflo.cli import console as cli_console
    from reqflo.cli.execute import RunContext, execute

    path = Path(args.journey)
    reporter = _reporter(args)
    definition = load_journey(path)
    config = load_config(args.config or find_config(path, cwd=streams.cwd))
    plan = _plan(args, definition, config, path, streams)
    target = ReportTarget.parse(reporter, args.output)
    human = _human_console(target, streams)
    progress = cli_console.make_console(streams.stderr)
    data_run = args.data is not None
    observer = cli_console.ConsoleReporter(
        human, progress, total=plan.total, data_run=data_run, steps=len(definition.steps)
    )
    publisher = _publisher(args, path, plan, streams) if args.publish else None
    prepare(target)
    started = time.perf_counter()
    context = RunContext(
        artifact=plan.artifact,
        environment=plan.environment,
        environment_name=plan.environment_name,
        secrets=plan.secrets,
        on_step=None if data_run else observer.on_step,
    )
    jobs = _jobs(args, plan, run_ids=publisher is not None)
    # Start-up is over: from the first row on, cyclic garbage is collected (rows may be many).
    resume_collection()
    runs = observer.observe(execute(context, jobs, parallel=args.parallel))
    if publisher is not None:
        runs = _publishing(runs, publisher)
    try:
        write_report(target, runs, stdout=streams.stdout, meta=_meta(args, path, plan))
    finally:
        if publisher is not None:
            publisher.close()
    observer.print_summary(wall_ms=(time.perf_counter() - started) * 1000)
    local = ExitCode.PASSED if observer.summary.status == "passed" else ExitCode.FAILED
    return local if publisher is None else publisher.exit_code(local)


def _publisher(args: RunArgs, path: Path, plan: Plan, streams: Streams) -> Publisher:
    """Check the server settings and prepare publishing, before anything is sent."""
    from reqflo.cli.publish import Publisher, publish_target
    from reqflo.cli.streams import SECRET_PREFIX

    target = publish_target(
        streams.environ,
        definition_text=path.read_text(encoding="utf-8"),
        environment=plan.environment_name,
        environment_base_url=str(plan.environment.get("base_url") or ""),
        case=args.case,
        sets=args.sets,
    )
    # Every secret this process knows, masked again before anything is digested and sent.
    secret_inputs = {decl.name for decl in plan.definition.inputs if decl.secret}
    known = [v for k, v in streams.environ.items() if k.startswith(SECRET_PREFIX)]
    known += [
        str(v)
        for layer in (plan.case, plan.overrides)
        for k, v in layer.items()
        if k in secret_inputs and v is not None
    ]
    publisher = Publisher(target, Redactor([*plan.secrets.values(), *known]), streams.stderr)
    try:
        publisher.check_access()
    except BaseException:
        publisher.close()
        raise
    return publisher


def _publishing(runs: Iterator[RunResult], publisher: Publisher) -> Iterator[RunResult]:
    """Hand each run to the reporter first, then publish it (a report never waits on it)."""
    for result in runs:
        yield result
        publisher.publish(result)


def _reporter(args: RunArgs) -> str:
    if args.reporter is not None:
        return args.reporter
    # `--output report.xml` alone means a JUnit file; CI users rarely want the table in a file.
    suffix = Path(args.output).suffix.lower() if args.output else ""
    return {".xml": "junit", ".json": "json"}.get(suffix, "cli")


def _plan(
    args: RunArgs, definition: Definition, config: ProjectConfig, path: Path, streams: Streams
) -> Plan:
    env_name = args.env or config.default_env
    environment = config.environment(env_name) if env_name else {}
    case: dict[str, Any] = {}
    if args.case is not None:
        case = config.case(slug=definition.slug, file=path, name=args.case)
        check_case_keys(case, definition, f"case '{args.case}' in {config.path}")
    overrides: dict[str, Any] = parse_sets(args.sets, definition)
    secrets = secrets_from_environ(secret_names(definition), streams.environ)
    redactor = Redactor(secrets.values())
    first_row: dict[str, Any] = {}
    total = 1
    if args.data is not None:
        first_row, total = _check_rows(args.data, definition, case, overrides, streams)
    inputs = _merged(definition, case, overrides, first_row, str(path))
    issues = run_check(
        definition, inputs=inputs, environment=environment, secret_names=list(secrets)
    )
    _report_issues(path, issues, streams, redactor, env_name=env_name)
    return Plan(
        definition=definition,
        artifact=compile_definition(definition),
        environment_name=env_name,
        environment=environment,
        secrets=secrets,
        case=case,
        overrides=overrides,
        total=total,
    )


def _check_rows(
    data: Path,
    definition: Definition,
    case: dict[str, Any],
    overrides: dict[str, Any],
    streams: Streams,
) -> tuple[dict[str, Any], int]:
    """Read every row once before running: types convert and required inputs are present.

    Return the first row's inputs (the Run check uses them) and the number of rows.
    """
    first: dict[str, Any] | None = None
    count = 0
    required = [d.name for d in definition.inputs if d.required and not d.has_default]
    for row in iter_rows(data):
        values = row_inputs(row.values, definition)
        if first is None:
            first = values
            unknown = unknown_columns(row.values, definition)
            if unknown:
                streams.stderr.write(
                    f"reqflo: warning: {data.name}: {', '.join(unknown)} are not inputs of "
                    f"journey '{definition.slug}'; those values are ignored\n"
                )
        merged = _merged(definition, case, overrides, values, f"{data.name} line {row.line}")
        # Only this part of the Run check depends on the row: JSON rows may each lack a key.
        missing = [name for name in required if merged.get(name) is None]
        if missing:
            raise CliError(
                f"{data.name} line {row.line}: required input(s) {', '.join(missing)} "
                "have no value in this row, the case or --set"
            )
        count += 1
    if first is None:
        raise CliError(f"{data.name}: the file has no data rows")
    return first, count


def _report_issues(
    path: Path, issues: list[Issue], streams: Streams, redactor: Redactor, *, env_name: str | None
) -> None:
    errors = [issue for issue in issues if issue.severity == "error"]
    warnings = [issue for issue in issues if issue.severity == "warning"]
    for issue in warnings:
        streams.stderr.write(f"reqflo: warning: {path}: {redactor.redact(str(issue))}\n")
    if errors:
        message = issue_block(path, errors, redactor)
        if env_name is None and any(issue.code == "no_base_url" for issue in errors):
            message += "\n  (no environment selected: pass --env NAME from reqflo.yaml)"
        if any(issue.code == "missing_secret" for issue in errors):
            message += "\n  (secrets come from REQFLO_SECRET_<NAME> environment variables)"
        raise CliError("Run check failed, nothing was sent:\n" + message)


def _jobs(args: RunArgs, plan: Plan, *, run_ids: bool = False) -> Iterator[Job]:
    from reqflo.cli.execute import Job

    merge = partial(_merged, plan.definition, plan.case, plan.overrides)

    def run_id() -> str | None:
        if not run_ids:
            return None
        # Only a published run needs the server's run id (and the publishing module).
        from reqflo.cli.publish import new_run_id

        return new_run_id()

    if args.data is None:
        yield Job(index=0, inputs=merge({}, "the inputs"), label=args.case, run_id=run_id())
        return
    for row in iter_rows(args.data):
        values = row_inputs(row.values, plan.definition)
        where = f"{args.data.name} line {row.line}"
        yield Job(
            index=row.index,
            inputs=merge(values, where),
            label=row.title,
            row=row.index + 1,
            run_id=run_id(),
        )


def _merged(
    definition: Definition,
    case: dict[str, Any],
    overrides: dict[str, Any],
    row: dict[str, Any],
    where: str,
) -> dict[str, Any]:
    try:
        return merge_inputs(definition, case=case, overrides=overrides, row=row)
    except DefinitionError as exc:
        # "'1234x' is not a whole number" must not show the value of a secret input.
        secret = {decl.name for decl in definition.inputs if decl.secret}
        values = [v for layer in (case, overrides, row) for k, v in layer.items() if k in secret]
        message = Redactor(values).redact("; ".join(map(str, exc.issues)))
        raise CliError(f"{where}: {message}") from None


def _human_console(target: ReportTarget, streams: Streams) -> Any:
    from reqflo.cli import console as cli_console

    # A machine report on stdout must stay parseable, so the tables move to stderr then.
    if target.reporter != "cli" and target.output is None:
        return cli_console.make_console(streams.stderr)
    return cli_console.make_console(streams.stdout)


def _meta(args: RunArgs, path: Path, plan: Plan) -> ReportMeta:
    return {
        "generator": f"reqflo {__version__}",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "journey_file": str(path),
        "environment": plan.environment_name,
        "case": args.case,
        "data_file": str(args.data) if args.data else None,
        "parallel": args.parallel,
        "runner": "local",
    }
