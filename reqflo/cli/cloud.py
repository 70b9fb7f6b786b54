"""Server commands: ``reqflo run SLUG --cloud``, ``runs show|cancel|verify``, ``push``, ``login``.

A cloud run is dispatched through the JSON API with an idempotency key (a retried request
never starts a second run), followed by long-polling its progress (the same progress bar as a
local run), and reported from the server's stored evidence with the same reporters, so
``--reporter junit --output FILE`` reads the same for local and cloud runs. Exit codes are
DESIGN.md section 8's: 0 passed, 1 a run failed, 2 usage or Run check errors, 3 server or
authentication errors, 4 ``--timeout`` passed while waiting.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reqflo import __version__
from reqflo.cli import console as cli_console
from reqflo.cli.data import iter_rows
from reqflo.cli.errors import CliError, ExitCode
from reqflo.cli.output import ReportTarget, prepare, write_report
from reqflo.cli.server import Server, ServerConfig, ServerError, save_credentials, server_url
from reqflo.engine import RunResult, StepResult, numbers
from reqflo.engine.report import ReportMeta

# Long-poll length per progress request; the server caps it at 20 s.
POLL_WAIT_SECONDS = 10.0
# Server refusals that are the user's to fix (usage, Run check): exit 2, not 3.
USAGE_STATUSES = (400, 404, 422)


@dataclass(frozen=True)
class CloudArgs:
    """What ``reqflo run SLUG --cloud`` (or ``--tag``) was asked to do."""

    journeys: Sequence[str]
    tags: Sequence[str] = ()
    env: str | None = None
    case: str | None = None
    sets: Sequence[str] = ()
    data: Path | None = None
    version: int | None = None
    reporter: str = "cli"
    output: str | None = None
    no_wait: bool = False
    timeout: float | None = None
    runner: str | None = None
    runner_labels: str | None = None


@dataclass
class _Clock:
    deadline: float | None
    started: float = field(default_factory=time.monotonic)

    def left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()


def _usage_or_server(error: ServerError) -> CliError:
    if error.status in USAGE_STATUSES:
        return CliError(error.message, exit_code=ExitCode.USAGE)
    return error


def _open(streams: Any, what: str) -> Server:
    trigger = "ci" if streams.environ.get("CI", "").lower() in ("1", "true") else "cli"
    return Server(ServerConfig.from_environ(streams.environ, what=what), trigger=trigger)


def cloud_run_command(args: CloudArgs, streams: Any) -> ExitCode:
    """Dispatch, follow and report cloud runs; return the exit code."""
    if not args.env:
        raise CliError("reqflo run --cloud needs --env NAME (an environment on the server)")
    overrides = _sets(args.sets)
    target = ReportTarget.parse(args.reporter, args.output)
    server = _open(streams, "reqflo run --cloud")
    try:
        prepare(target)
        slugs = list(args.journeys) or _tagged(server, args.tags)
        key = uuid.uuid4().hex  # one key per invocation: a retried request is the same dispatch
        base: dict[str, Any] = {"environment": args.env, "case": args.case, "inputs": overrides}
        if args.version is not None:
            base["version"] = args.version
        if args.runner:
            base["runner"] = args.runner
        if args.runner_labels:
            base["runner_labels"] = [x for x in args.runner_labels.split(",") if x.strip()]
        try:
            labels: dict[str, str] = {}
            if args.data is not None:
                # The label column (case, else name) goes too: the server names the row by it
                # and runs none of the columns the journey does not declare.
                data_rows = list(iter_rows(args.data))
                rows = [row.values for row in data_rows]
                started = [
                    server.post(
                        "/batches",
                        {**base, "journey": slug, "rows": rows},
                        idempotency_key=f"{key}-{slug}",
                    )
                    for slug in slugs
                ]
                children = [run for batch in started for run in batch["runs"]]
                # Name each row's run as a local data run does: its case/name column, else row N.
                labels = {run["id"]: data_rows[run["batch_row"]].title for run in children}
                for batch in started:
                    streams.stderr.write(
                        f"Started batch {batch['id']} of {batch['total']} runs: {batch['url']}\n"
                    )
            else:
                runs = [
                    server.post("/runs", {**base, "journey": slug}, idempotency_key=f"{key}-{slug}")
                    for slug in slugs
                ]
                children = runs
                for run in runs:
                    streams.stderr.write(f"Started run {run['id']}: {run['url']}\n")
        except ServerError as error:
            raise _usage_or_server(error) from None
        if args.no_wait:
            for run in children:
                streams.stdout.write(f"{run['id']}\n")
            return ExitCode.PASSED
        urls = {run["id"]: run["url"] for run in children}
        steps = int(children[0]["step_count"]) if children else 0
        return _follow(server, urls, args, target, streams, labels=labels, steps=steps)
    finally:
        server.close()


def _sets(pairs: Sequence[str]) -> dict[str, str]:
    """Parse ``--set KEY=VALUE``; the server's Run check names an input the journey lacks."""
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CliError(f"--set expects KEY=VALUE, got '{pair}'")
        values[key.strip()] = value
    return values


def _tagged(server: Server, tags: Sequence[str]) -> list[str]:
    slugs: list[str] = []
    for tag in tags:
        slugs += [j["slug"] for j in server.get("/journeys", tag=tag) if j["slug"] not in slugs]
    if not slugs:
        raise CliError(f"no journey on the server has the tag {', '.join(tags)}")
    return slugs


def _follow(
    server: Server,
    urls: Mapping[str, str],
    args: CloudArgs,
    target: ReportTarget,
    streams: Any,
    *,
    labels: Mapping[str, str],
    steps: int,
) -> ExitCode:
    """Follow the runs (``urls``: their pages by id) to the end or ``--timeout``; report them."""
    run_ids, single = list(urls), len(urls) == 1
    human = (
        cli_console.make_console(streams.stderr)
        if target.reporter != "cli" and target.output is None
        else cli_console.make_console(streams.stdout)
    )
    observer = cli_console.ConsoleReporter(
        human,
        cli_console.make_console(streams.stderr),
        total=len(run_ids),
        data_run=not single,
        steps=steps,
    )
    clock = _Clock(None if args.timeout is None else time.monotonic() + args.timeout)
    unfinished: list[Mapping[str, Any]] = []

    def results() -> Iterator[RunResult]:
        for run_id in run_ids:
            last = _wait(server, run_id, clock, observer if single else None)
            if not last["finished"]:
                unfinished.append(last)
                continue
            result = RunResult.from_dict(server.get(f"/runs/{run_id}/result"))
            result.label = labels.get(run_id, result.label)
            yield result

    meta: ReportMeta = {
        "generator": f"reqflo {__version__}",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "environment": args.env,
        "case": args.case,
        "data_file": str(args.data) if args.data else None,
        "runner": "cloud",
    }
    write_report(target, observer.observe(results()), stdout=streams.stdout, meta=meta)
    if not unfinished:
        observer.print_summary(wall_ms=(time.monotonic() - clock.started) * 1000)
        return ExitCode.PASSED if observer.summary.status == "passed" else ExitCode.FAILED
    if observer.summary.runs:  # a summary of the runs that finished, said to be partial
        streams.stderr.write(f"Finished before the timeout: {observer.summary.runs} run(s):\n")
        observer.print_summary(wall_ms=(time.monotonic() - clock.started) * 1000)
    streams.stderr.write(
        f"reqflo: --timeout {args.timeout:g} s passed; {len(unfinished)} of {len(run_ids)} "
        "run(s) did not finish and keep going on the server (exit 4):\n"
    )
    for run in unfinished:
        progress = f"{run['next_step']} of {run['step_count']} steps done"
        streams.stderr.write(
            f"  run {run['id']} is still {run['status']} ({progress}): {urls[run['id']]}\n"
            f"    follow it with 'reqflo runs show {run['id']}', "
            f"stop it with 'reqflo runs cancel {run['id']}'\n"
        )
    return ExitCode.TIMED_OUT


def _wait(
    server: Server, run_id: str, clock: _Clock, observer: cli_console.ConsoleReporter | None
) -> Mapping[str, Any]:
    """Follow ``run_id`` until it finishes or the clock runs out; return its last state."""
    seen_steps, seen_status = 0, ""
    news: Mapping[str, Any] = {}
    while True:
        left = clock.left()
        if news and left is not None and left <= 0:
            return news
        wait = POLL_WAIT_SECONDS if left is None else max(0.0, min(POLL_WAIT_SECONDS, left))
        news = server.get(
            f"/runs/{run_id}/progress",
            seen_steps=seen_steps,
            seen_status=seen_status,
            wait=round(wait, 2),
        )
        for step in news["steps"]:
            if observer is not None:
                observer.on_step(StepResult.from_dict(step["evidence"]))
        seen_steps += len(news["steps"])
        seen_status = news["status"]
        if news["finished"]:
            return news


# --- runs show | cancel | verify ----------------------------------------------------------------


def runs_command(action: str, run_id: str, reporter: str | None, streams: Any) -> ExitCode:
    from reqflo.engine.digest import bundle_verdict

    if action == "verify" and Path(run_id).is_file():
        offline = bundle_verdict(_read_bundle(Path(run_id)))
        return _report_verdicts(
            streams,
            run_id,
            [("the bundle", (offline.verified, list(offline.problems)))],
            steps=offline.check.steps,
            head=offline.check.head,
        )
    server = _open(streams, f"reqflo runs {action}")
    try:
        try:
            if action == "show":
                return _show(server, run_id, reporter, streams)
            if action == "cancel":
                return _cancel(server, run_id, streams)
            said = server.get(f"/runs/{run_id}/verify")
            # The seal's signature needs the server's key: the server's verdict covers it.
            bundle = server.get(f"/runs/{run_id}/evidence")
        except ServerError as error:
            raise _usage_or_server(error) from None
    finally:
        server.close()
    # The server's verdict, and this command's own check of the evidence it sent (trusting
    # nothing the server says about it): both must hold.
    mine = bundle_verdict(bundle)
    verdicts = [
        ("the server", (bool(said["verified"]), [str(p) for p in said["problems"]])),
        ("this check of its evidence", (mine.verified, list(mine.problems))),
    ]
    return _report_verdicts(streams, run_id, verdicts, steps=mine.check.steps, head=mine.check.head)


def _report_verdicts(
    streams: Any,
    what: str,
    verdicts: Sequence[tuple[str, tuple[bool, list[str]]]],
    *,
    steps: int | None = None,
    head: str = "",
) -> ExitCode:
    """Print every verdict and every problem; exit 0 only when all verified."""
    verified = all(ok for _, (ok, _) in verdicts)
    if verified:
        chain = f" ({steps} step results, head {head[:16]}…)" if steps is not None else ""
        streams.stdout.write(f"{what}: verified{chain}\n")
    else:
        streams.stdout.write(f"{what}: NOT verified\n")
    for who, (ok, problems) in verdicts:
        streams.stdout.write(f"  {who}: {'verified' if ok else 'not verified'}\n")
        for problem in problems:
            streams.stdout.write(f"    - {problem}\n")
    return ExitCode.PASSED if verified else ExitCode.FAILED


def _cancel(server: Server, run_id: str, streams: Any) -> ExitCode:
    """Cancel a run; a run already cancelled (a retried cancel) is success too."""
    try:
        run = server.post(f"/runs/{run_id}/cancel")
    except ServerError as error:
        if error.code != "not_cancellable":
            raise
        run = server.get(f"/runs/{run_id}")
        if run["status"] != "cancelled":
            raise CliError(f"run {run_id} has already finished: {run['status']}") from None
    streams.stdout.write(f"run {run['id']} is {run['status']} (cancel requested)\n")
    return ExitCode.PASSED


def _show(server: Server, run_id: str, reporter: str | None, streams: Any) -> ExitCode:
    run = server.get(f"/runs/{run_id}")
    if not run["finished"]:
        if reporter == "json":
            streams.stdout.write(json.dumps(run, indent=2) + "\n")
        else:
            streams.stdout.write(
                f"run {run['id']} of {run['journey']} v{run['version']} on {run['environment']}: "
                f"{run['status']}, {run['next_step']}/{run['step_count']} steps\n{run['url']}\n"
            )
        return ExitCode.PASSED
    if reporter in ("json", "junit"):
        streams.stdout.write(server.text(f"/runs/{run_id}/report", format=reporter))
    else:
        result = RunResult.from_dict(server.get(f"/runs/{run_id}/result"))
        cli_console.make_console(streams.stdout).print(cli_console.run_block(result))
        streams.stdout.write(f"{run['url']}\n")
    return ExitCode.PASSED if run["status"] == "passed" else ExitCode.FAILED


def _read_bundle(path: Path) -> Any:
    try:
        return numbers.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read the evidence bundle {path}: {exc}") from None


# --- push, login ------------------------------------------------------------------------------


def push_command(file: Path, message: str, streams: Any) -> ExitCode:
    """Send a journey file to the server as a new version (nothing when unchanged)."""
    server = _open(streams, "reqflo push")
    try:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read journey file {file}: {exc}") from None
        pushed = server.post("/journeys", {"text": text, "message": message})
    except ServerError as error:
        raise _usage_or_server(error) from None
    finally:
        server.close()
    if pushed["journey_created"]:
        streams.stdout.write(f"created journey {pushed['journey']} v{pushed['version']}\n")
    elif pushed["created"]:
        streams.stdout.write(f"pushed {pushed['journey']} v{pushed['version']}\n")
    else:
        streams.stdout.write(
            f"{pushed['journey']} v{pushed['version']} already has this definition; "
            "nothing to push\n"
        )
    return ExitCode.PASSED


def login_command(url: str, token: str | None, streams: Any) -> ExitCode:
    """Check the token against the server, then store both in the user's config (mode 0600)."""
    url = server_url(url, source="--url")
    if not token:
        import getpass

        token = getpass.getpass("API token (input hidden): ").strip()
    server = Server(ServerConfig(url=url, token=token))
    try:
        journeys = server.get("/journeys")
    finally:
        server.close()
    path = save_credentials(streams.environ, url=url, token=token)
    streams.stdout.write(
        f"logged in to {url} ({len(journeys)} journeys visible); saved to {path}\n"
    )
    return ExitCode.PASSED


# --- reqflo run SLUG (the server's version, run here) ------------------------------------------


def server_journey_file(slug: str, version: int | None, folder: Path, streams: Any) -> Path:
    """Fetch version ``version`` (the latest when None) of ``slug`` into ``folder``; return it.

    The local engine compiles it to the very artifact the server holds for that version (same
    plan, same ``art_`` id), which is checked before anything is sent.
    """
    from reqflo.engine import compile_definition, load_definition

    server = _open(streams, f"reqflo run {slug}")
    try:
        try:
            number = version or server.get(f"/journeys/{slug}")["latest_version"]
            detail = server.get(f"/journeys/{slug}/versions/{number}")
            artifact = server.get(f"/journeys/{slug}/artifact", version=number)
        except ServerError as error:
            raise _usage_or_server(error) from None
    finally:
        server.close()
    text = json.dumps(detail["document"], ensure_ascii=False)
    local = compile_definition(load_definition(text, source=f"{slug} v{number}"))
    if local.id != artifact["artifact_id"]:
        raise CliError(
            f"{slug} v{number} compiles here to {local.id}, the server's artifact is "
            f"{artifact['artifact_id']}: update reqflo to the server's version",
            exit_code=ExitCode.SERVER,
        )
    path = folder / f"{slug}.json"
    path.write_text(text, encoding="utf-8")
    streams.stderr.write(f"Running {slug} v{number} ({local.id}) from the server, locally\n")
    return path
