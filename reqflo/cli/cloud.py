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
from reqflo.cli.server import Server, ServerConfig, ServerError, save_credentials
from reqflo.engine import RunResult, StepResult
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
        try:
            if args.data is not None:
                # The label column (case, else name) goes too: the server names the row by it
                # and runs none of the columns the journey does not declare.
                rows = [row.values for row in iter_rows(args.data)]
                started = [
                    server.post(
                        "/batches",
                        {**base, "journey": slug, "rows": rows},
                        idempotency_key=f"{key}-{slug}",
                    )
                    for slug in slugs
                ]
                run_ids = [run["id"] for batch in started for run in batch["runs"]]
                for batch in started:
                    streams.stderr.write(
                        f"Started batch {batch['id']} of {batch['total']} runs: {batch['url']}\n"
                    )
            else:
                runs = [
                    server.post("/runs", {**base, "journey": slug}, idempotency_key=f"{key}-{slug}")
                    for slug in slugs
                ]
                run_ids = [run["id"] for run in runs]
                for run in runs:
                    streams.stderr.write(f"Started run {run['id']}: {run['url']}\n")
        except ServerError as error:
            raise _usage_or_server(error) from None
        if args.no_wait:
            for run_id in run_ids:
                streams.stdout.write(f"{run_id}\n")
            return ExitCode.PASSED
        return _follow(server, run_ids, args, target, streams, single=len(run_ids) == 1)
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
    run_ids: list[str],
    args: CloudArgs,
    target: ReportTarget,
    streams: Any,
    *,
    single: bool,
) -> ExitCode:
    human = (
        cli_console.make_console(streams.stderr)
        if target.reporter != "cli" and target.output is None
        else cli_console.make_console(streams.stdout)
    )
    first = server.get(f"/runs/{run_ids[0]}")
    observer = cli_console.ConsoleReporter(
        human,
        cli_console.make_console(streams.stderr),
        total=len(run_ids),
        data_run=not single,
        steps=int(first["step_count"]),
    )
    clock = _Clock(None if args.timeout is None else time.monotonic() + args.timeout)
    timed_out: list[str] = []

    def results() -> Iterator[RunResult]:
        for run_id in run_ids:
            finished = _wait(server, run_id, clock, observer if single else None)
            if not finished:
                timed_out.append(run_id)
                continue
            yield RunResult.from_dict(server.get(f"/runs/{run_id}/result"))

    meta: ReportMeta = {
        "generator": f"reqflo {__version__}",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "environment": args.env,
        "case": args.case,
        "data_file": str(args.data) if args.data else None,
        "runner": "cloud",
    }
    write_report(target, observer.observe(results()), stdout=streams.stdout, meta=meta)
    observer.print_summary(wall_ms=(time.monotonic() - clock.started) * 1000)
    if timed_out:
        streams.stderr.write(
            f"reqflo: timed out after {args.timeout:g} s waiting for {len(timed_out)} run(s): "
            f"{', '.join(timed_out)} (they keep running; see 'reqflo runs show RUN_ID')\n"
        )
        return ExitCode.TIMED_OUT
    return ExitCode.PASSED if observer.summary.status == "passed" else ExitCode.FAILED


def _wait(
    server: Server, run_id: str, clock: _Clock, observer: cli_console.ConsoleReporter | None
) -> bool:
    """Follow ``run_id`` until it finishes (True) or the clock runs out (False)."""
    seen_steps, seen_status = 0, ""
    while True:
        left = clock.left()
        if left is not None and left <= 0:
            return False
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
            return True


# --- runs show | cancel | verify ----------------------------------------------------------------


def runs_command(action: str, run_id: str, reporter: str | None, streams: Any) -> ExitCode:
    if action == "verify" and Path(run_id).is_file():
        return _verify_bundle(_read_bundle(Path(run_id)), run_id, streams)
    server = _open(streams, f"reqflo runs {action}")
    try:
        try:
            if action == "show":
                return _show(server, run_id, reporter, streams)
            if action == "cancel":
                return _cancel(server, run_id, streams)
            bundle = server.get(f"/runs/{run_id}/evidence")
            # The seal's signature needs the server's key: the server checks that part.
            signed = server.get(f"/runs/{run_id}/verify")
        except ServerError as error:
            raise _usage_or_server(error) from None
        return _verify_bundle(bundle, run_id, streams, server_check=signed)
    finally:
        server.close()


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
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read the evidence bundle {path}: {exc}") from None


def _verify_bundle(
    bundle: Mapping[str, Any],
    what: str,
    streams: Any,
    *,
    server_check: Mapping[str, Any] | None = None,
) -> ExitCode:
    """Check the bundle here (chain, head, seal digest); the server's check adds the signature."""
    from reqflo.engine.digest import verify_bundle

    check = verify_bundle(bundle)
    if not check.ok:
        where = f" at step result {check.broken_at}" if check.broken_at is not None else ""
        streams.stdout.write(
            f"{what}: the evidence digest chain is broken{where}: {check.reason}\n"
        )
        return ExitCode.FAILED
    if server_check is not None and not server_check.get("ok"):
        streams.stdout.write(f"{what}: the server's check failed: {server_check.get('reason')}\n")
        return ExitCode.FAILED
    unfinished = bundle.get("run", {}).get("status") in ("queued", "running")
    if unfinished:
        sealed = "; the run is unfinished, so it has no seal yet"
    elif server_check is not None and server_check.get("signed"):
        sealed = "; its facts match the seal, signed by the server"
    else:
        sealed = (
            "; its facts match the seal (its signature is checked only by the server: "
            "reqflo runs verify RUN_ID)"
        )
    streams.stdout.write(
        f"{what}: the evidence digest chain verifies ({check.steps} step results, "
        f"head {check.head[:16]}…){sealed}\n"
    )
    return ExitCode.PASSED


# --- push, login ------------------------------------------------------------------------------


def push_command(file: Path, message: str, streams: Any) -> ExitCode:
    """Send a journey file to the server as a new version (nothing when unchanged)."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read journey file {file}: {exc}") from None
    server = _open(streams, "reqflo push")
    try:
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
    if not token:
        import getpass

        token = getpass.getpass("API token (input hidden): ").strip()
    server = Server(ServerConfig(url=url.rstrip("/"), token=token))
    try:
        journeys = server.get("/journeys")
    finally:
        server.close()
    path = save_credentials(streams.environ, url=url.rstrip("/"), token=token)
    streams.stdout.write(
        f"logged in to {url.rstrip('/')} ({len(journeys)} journeys visible); saved to {path}\n"
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
