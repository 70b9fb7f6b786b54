"""The `reqflo` console script: parse the command line and map every outcome to an exit code.

Exit codes (DESIGN.md section 8): 0 all passed, 1 a run failed, 2 invalid usage or Run check
errors, 3 server, authentication or runner error, 4 timed out waiting. A user mistake prints one
clean `reqflo: error: ...` message, never a traceback.

CI calls the CLI many times a day, so it starts light: each command imports its own module (and
through it httpx, jsonschema or rich) only once the command line has been parsed, and `--help`
loads none of them. tests/cli/test_startup.py keeps it that way; `bench/startup.py` times it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from reqflo import __version__
from reqflo.cli import start_cache
from reqflo.cli.errors import CliError, ExitCode
from reqflo.cli.output import REPORTERS
from reqflo.cli.process import leave, pause_collection, resume_collection
from reqflo.cli.streams import Streams

# httpx imports its own command-line client whenever click, pygments and rich are installed
# (they are: Celery needs click): ~65 ms of every start, for a tool `reqflo` never calls. A None
# entry in sys.modules makes exactly that import fail, and httpx then defines a stub `httpx.main`.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

JOURNEY_SUFFIXES = (".yaml", ".yml", ".json")


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, sized without importing `shutil` (~4 ms of every start).

    argparse makes a formatter for every argument added (to check its metavar), and the stock
    one imports `shutil` to ask the terminal's width. The width is found here as shutil finds
    it: `COLUMNS`, else the terminal of stdout, else 80 columns; minus 2, as argparse does.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose help formatter (and its sub-commands' ones) is `_HelpFormatter`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Return the `reqflo` parser: every command, each with its arguments.

    With `command` (the word that names it in argv, "" for none), only what parsing that argv
    needs is built: the named command alone when it is one, else every command's name and help
    line (all that `reqflo --help` and an unknown command's message show) without arguments.
    Building everything costs ~6 ms of every start (argparse translates each text it adds).
    """
    names = {name for name, *_ in _COMMANDS}
    parser = _Parser(
        prog="reqflo",
        description="Run API journeys from YAML/JSON files, locally or in CI.",
        epilog="Exit codes: 0 passed, 1 a run failed, 2 invalid usage or Run check errors, "
        "3 server/auth/runner error, 4 timed out.",
    )
    parser.add_argument("--version", action="version", version=f"reqflo {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_line, description, arguments in _COMMANDS:
        if command in names and name != command:
            continue
        parser_of_command = commands.add_parser(name, help=help_line, description=description)
        if command is None or name == command:
            arguments(parser_of_command)
    return parser


def _run_arguments(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "journey",
        metavar="JOURNEY",
        nargs="?",
        help="a journey .yaml/.json file, or a journey slug on the server",
    )
    run.add_argument("--env", metavar="NAME", help="environment from reqflo.yaml")
    run.add_argument(
        "--case", metavar="NAME", help="case (reqflo.yaml; on the server matched forgivingly)"
    )
    run.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        dest="sets",
        help="set an input; repeatable; beats the case, loses to a data row",
    )
    run.add_argument(
        "--data", metavar="FILE", type=Path, help="CSV or JSON array file: one run per row"
    )
    run.add_argument(
        "--parallel", metavar="N", type=_positive_int, default=1, help="rows run at once"
    )
    run.add_argument(
        "--reporter",
        choices=REPORTERS,
        help="output format (default: cli, or from --output's .json/.xml suffix)",
    )
    run.add_argument(
        "--output",
        metavar="PATH",
        help="write the report to a file, or to a directory (one file per run)",
    )
    run.add_argument("--config", metavar="FILE", type=Path, help="path to reqflo.yaml")
    server = run.add_argument_group("server modes (need a Reqflo server)")
    server.add_argument("--cloud", action="store_true", help="run on the Cloud Runner")
    server.add_argument(
        "--runner",
        choices=("cloud", "self_hosted"),
        help="with --cloud: where the run goes (default: the workspace's default runner)",
    )
    server.add_argument(
        "--runner-labels",
        metavar="A,B",
        help="with --cloud: only self-hosted runners with every one of these labels",
    )
    server.add_argument("--publish", action="store_true", help="publish results to the server")
    server.add_argument("--no-wait", action="store_true", help="do not wait for a cloud run")
    server.add_argument(
        "--version", dest="journey_version", metavar="N", type=_positive_int, help="server version"
    )
    server.add_argument("--tag", action="append", default=[], help="run server journeys by tag")
    server.add_argument(
        "--timeout", metavar="SECONDS", type=float, help="stop waiting (exit 4) after this long"
    )


def _validate_arguments(validate: argparse.ArgumentParser) -> None:
    validate.add_argument("files", metavar="FILE", nargs="+", type=Path)
    validate.add_argument(
        "--env", metavar="NAME", help="also check references against this environment"
    )
    validate.add_argument("--config", metavar="FILE", type=Path, help="path to reqflo.yaml")


def _import_arguments(importer: argparse.ArgumentParser) -> None:
    kinds = importer.add_subparsers(dest="kind", metavar="KIND", required=True)
    common = _Parser(add_help=False)
    common.add_argument("--out", metavar="DIR", type=Path, default=Path("."), help="folder")
    common.add_argument("--dry-run", action="store_true", help="print the report, write nothing")
    common.add_argument("--force", action="store_true", help="overwrite existing journey files")
    literal = _Parser(add_help=False)
    literal.add_argument("--name", help="name of the journey")
    literal.add_argument(
        "--include-sensitive",
        action="store_true",
        help="keep cookies and credential headers, as secret references",
    )
    postman = kinds.add_parser("postman", parents=[common], help="Postman Collection v2.0/v2.1")
    postman.add_argument("source", metavar="FILE", nargs=1)
    postman.add_argument("--environment", metavar="FILE", type=Path, help="Postman environment")
    postman.add_argument("--split", choices=("folders", "collection"), default="folders")
    openapi = kinds.add_parser("openapi", parents=[common], help="OpenAPI 3.0/3.1, Swagger 2.0")
    openapi.add_argument("source", metavar="FILE|URL", nargs=1)
    openapi.add_argument("--group", choices=("tags", "operations"), default="tags")
    openapi.add_argument(
        "--operation",
        metavar="ID",
        action="append",
        default=[],
        dest="operations",
        help="operationId or 'GET /path'; repeatable; one journey in this order",
    )
    curl = kinds.add_parser(
        "curl",
        parents=[common, literal],
        help="curl commands: one quoted argument, the words after --, or stdin",
    )
    curl.add_argument("source", metavar="COMMAND", nargs="*")
    har = kinds.add_parser("har", parents=[common, literal], help="HAR 1.2 file")
    har.add_argument("source", metavar="FILE", nargs=1)
    har.add_argument("--include-assets", action="store_true", help="keep images, scripts...")


def _runs_arguments(runs: argparse.ArgumentParser) -> None:
    runs.add_argument("action", choices=("show", "cancel", "verify"))
    runs.add_argument("run_id", metavar="RUN_ID")
    runs.add_argument("--reporter", choices=REPORTERS)


def _push_arguments(push: argparse.ArgumentParser) -> None:
    push.add_argument("file", type=Path)
    push.add_argument("--message", "-m", default="", help="the version's message")


def _login_arguments(login: argparse.ArgumentParser) -> None:
    login.add_argument(
        "--url", required=True, help="the Reqflo server, e.g. https://reqflo.example"
    )
    login.add_argument("--token", help="API token (asked for, hidden, when not given)")


def _runner_arguments(runner: argparse.ArgumentParser) -> None:
    runner.add_argument("action", choices=("start",))
    runner.add_argument("--url", help="the Reqflo server (default: REQFLO_URL)")
    runner.add_argument(
        "--token", help="the runner's token from Admin → Runners (default: REQFLO_RUNNER_TOKEN)"
    )
    runner.add_argument(
        "--capacity",
        type=_positive_int,
        help="runs at once (the smaller of this and the registered capacity)",
    )
    runner.add_argument("--labels", help="labels added to the registered ones, e.g. vpn,eu")
    runner.add_argument(
        "--deny-private",
        action="store_true",
        help="refuse private, loopback and link-local addresses (default: allowed)",
    )


# Every command, in `reqflo --help`'s order: name, help line, description, its arguments.
_COMMANDS: tuple[tuple[str, str, str | None, Callable[[argparse.ArgumentParser], None]], ...] = (
    (
        "run",
        "run a journey file (once, per case, or per data row)",
        "Run a journey file. Secrets come from REQFLO_SECRET_<NAME> variables.",
        _run_arguments,
    ),
    (
        "validate",
        "Run check journey files offline (exit 0 ok or warnings, 2 errors)",
        "Check journey files without sending anything.",
        _validate_arguments,
    ),
    (
        "import",
        "turn a Postman collection, OpenAPI document, curl commands or HAR into journeys",
        "Convert, print the report of what did not map, and write journey files "
        "(and reqflo.yaml). Exit 2 when nothing could be imported.",
        _import_arguments,
    ),
    (
        "runs",
        "show, cancel or verify runs stored on the server",
        "show RUN_ID, cancel RUN_ID, verify RUN_ID|BUNDLE.json (evidence digests)",
        _runs_arguments,
    ),
    ("push", "create a new journey version on the server", None, _push_arguments),
    (
        "login",
        "store a server URL and API token in your config (mode 0600)",
        None,
        _login_arguments,
    ),
    ("runner", "start a self-hosted runner", None, _runner_arguments),
)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def dispatch(args: argparse.Namespace, streams: Streams) -> ExitCode:
    # Each command imports its own module: `validate` never loads httpx or rich.
    if args.command == "validate":
        from reqflo.cli.validate import validate_command

        return validate_command(args.files, env=args.env, config=args.config, streams=streams)
    on_server = args.command == "run" and bool(
        args.cloud or args.tag or args.runner or args.runner_labels
    )
    if args.command != "run" or on_server:
        # Server commands and the runner may poll for a long time: collect as usual. A local
        # run resumes collecting just before its first row (`run_command`).
        resume_collection()
    if args.command == "import":
        from reqflo.cli.imports import ImportArgs, import_command

        return import_command(
            ImportArgs(
                kind=args.kind,
                source=list(args.source),
                out=args.out,
                environment=getattr(args, "environment", None),
                split=getattr(args, "split", "folders"),
                group=getattr(args, "group", "tags"),
                operations=tuple(getattr(args, "operations", ())),
                name=getattr(args, "name", None),
                include_sensitive=getattr(args, "include_sensitive", False),
                include_assets=getattr(args, "include_assets", False),
                dry_run=args.dry_run,
                force=args.force,
            ),
            streams,
        )
    if args.command == "run":
        if on_server:  # --runner and --runner-labels say where on the server: --cloud implied
            return _cloud_run(args, streams)
        if args.journey is None:
            raise CliError("reqflo run needs a JOURNEY (a file or a server slug), or --tag")
        if args.no_wait:
            raise CliError("--no-wait goes with --cloud")
        if _is_server_slug(args.journey, streams):
            return _server_journey_run(args, streams)
        if args.journey_version:
            raise CliError("--version picks a version of a server journey, not of a file")
        from reqflo.cli.run import RunArgs, run_command

        return run_command(
            RunArgs(
                journey=args.journey,
                env=args.env,
                case=args.case,
                sets=args.sets,
                data=args.data,
                parallel=args.parallel,
                reporter=args.reporter,
                output=args.output,
                config=args.config,
                publish=args.publish,
            ),
            streams,
        )
    if args.command == "runner":
        from reqflo.cli.runner import runner_start_command

        return runner_start_command(
            url=args.url,
            token=args.token,
            capacity=args.capacity,
            labels=args.labels,
            deny_private=args.deny_private,
            environ=streams.environ,
            out=streams.stderr,
        )
    from reqflo.cli import cloud

    if args.command == "runs":
        return cloud.runs_command(args.action, args.run_id, args.reporter, streams)
    if args.command == "push":
        return cloud.push_command(args.file, args.message, streams)
    if args.command == "login":
        return cloud.login_command(args.url, args.token, streams)
    raise CliError(f"reqflo {args.command} is not available in this version")


def _is_server_slug(journey: str, streams: Streams) -> bool:
    path = Path(journey)
    if not path.is_absolute():
        path = streams.cwd / path
    return (
        not path.exists() and not journey.lower().endswith(JOURNEY_SUFFIXES) and "/" not in journey
    )


def _server_journey_run(args: argparse.Namespace, streams: Streams) -> ExitCode:
    import tempfile

    from reqflo.cli import cloud
    from reqflo.cli.run import RunArgs, run_command

    with tempfile.TemporaryDirectory(prefix="reqflo-") as folder:
        journey = cloud.server_journey_file(
            args.journey, args.journey_version, Path(folder), streams
        )
        config = args.config
        if config is None and (streams.cwd / "reqflo.yaml").is_file():
            config = streams.cwd / "reqflo.yaml"
        return run_command(
            RunArgs(
                journey=str(journey),
                env=args.env,
                case=args.case,
                sets=args.sets,
                data=args.data,
                parallel=args.parallel,
                reporter=args.reporter,
                output=args.output,
                config=config,
                publish=args.publish,
            ),
            streams,
        )


def _cloud_run(args: argparse.Namespace, streams: Streams) -> ExitCode:
    from reqflo.cli import cloud

    if args.publish:
        raise CliError("--cloud runs on the server's runners; leave out --publish")
    if args.journey and args.journey.lower().endswith(JOURNEY_SUFFIXES):
        raise CliError(
            f"--cloud runs a journey stored on the server; push the file first "
            f"(reqflo push {args.journey}) and run its slug"
        )
    journeys = [args.journey] if args.journey else []
    reporter = args.reporter or {".xml": "junit", ".json": "json"}.get(
        Path(args.output).suffix.lower() if args.output else "", "cli"
    )
    return cloud.cloud_run_command(
        cloud.CloudArgs(
            journeys=journeys,
            tags=args.tag,
            env=args.env,
            case=args.case,
            sets=args.sets,
            data=args.data,
            version=args.journey_version,
            reporter=reporter,
            output=args.output,
            no_wait=args.no_wait,
            timeout=args.timeout,
            runner=args.runner,
            runner_labels=args.runner_labels,
        ),
        streams,
    )


def _command(argv: Sequence[str] | None) -> str:
    """Return the command named in `argv` (its first word: `reqflo` has no option with a value)."""
    words = sys.argv[1:] if argv is None else argv
    return next((word for word in words if not word.startswith("-")), "")


def main(argv: Sequence[str] | None = None, streams: Streams | None = None) -> int:
    """Run the `reqflo` command and return its exit code (the console script exits with it)."""
    streams = streams or Streams()
    try:
        with contextlib.redirect_stdout(streams.stdout), contextlib.redirect_stderr(streams.stderr):
            args = build_parser(_command(argv)).parse_args(argv)
    except SystemExit as exit_:
        # argparse exits 0 for --help/--version and 2 for usage errors, as we want.
        return int(exit_.code or 0)
    # Last line of defence: whatever goes wrong, a secret or the API token from the environment
    # is never echoed. The redactor is built only for a message (most runs print none).
    confidential = streams.confidential_values()

    def redact(text: str) -> str:
        from reqflo.engine.redaction import Redactor

        return Redactor(confidential).redact(text)

    try:
        return int(dispatch(args, streams))
    except CliError as error:
        streams.stderr.write(f"reqflo: error: {redact(error.message)}\n")
        return int(error.exit_code)
    except KeyboardInterrupt:
        streams.stderr.write("reqflo: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`reqflo run ... --reporter json | head`): stop quietly, and
        # point stdout at /dev/null so the interpreter's final flush does not fail again.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.FAILED)
    except Exception as error:  # a bug in reqflo, not in the user's input
        if streams.environ.get("REQFLO_DEBUG"):
            import traceback  # only here: every other start would pay for it

            # Masked like the message below: the exception may quote a secret.
            streams.stderr.write(redact(traceback.format_exc()))
        streams.stderr.write(
            f"reqflo: internal error: {type(error).__name__}: {redact(str(error))} "
            "(set REQFLO_DEBUG=1 for the traceback)\n"
        )
        return int(ExitCode.SERVER)


def entry() -> NoReturn:
    """The console script: `main()` without the garbage collector's start-up work and without
    the interpreter's teardown (`reqflo.cli.process`), with what imports compile (regular
    expressions, dataclass methods) compiled once for all starts (`reqflo.cli.start_cache`),
    exiting with its code."""
    pause_collection()
    start_cache.install(os.environ)
    code = main()
    start_cache.save()
    leave(code)


if __name__ == "__main__":  # pragma: no cover - `python -m reqflo.cli.main`
    entry()
