"""`reqflo import postman|openapi|curl|har`: convert, print the report, write journey files.

Nothing is written when any target file exists (unless `--force`) or with `--dry-run`. An
existing `reqflo.yaml` is never rewritten (its comments would be lost): the environments to
add are printed instead. Exit 0 when at least one journey was imported, 2 when none was.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reqflo.cli.config import CONFIG_NAME
from reqflo.cli.errors import CliError, ExitCode
from reqflo.cli.inputs import secret_env_name
from reqflo.cli.run import Streams
from reqflo.engine.imports import (
    MAX_SOURCE_BYTES,
    ImportResult,
    SourceError,
    fetch_source,
    import_curl,
    import_har,
    import_openapi,
    import_postman,
    journey_text,
)


@dataclass(frozen=True)
class ImportArgs:
    kind: str
    source: list[str]
    out: Path
    environment: Path | None = None
    split: str = "folders"
    group: str = "tags"
    operations: tuple[str, ...] = ()
    name: str | None = None
    include_sensitive: bool = False
    include_assets: bool = False
    dry_run: bool = False
    force: bool = False


def import_command(args: ImportArgs, streams: Streams) -> ExitCode:
    """Run one import and return the exit code."""
    try:
        result = _convert(args, streams)
    except SourceError as error:
        raise CliError(error.message) from None
    out = args.out if args.out.is_absolute() else streams.cwd / args.out
    files = {out / f"{journey.slug}.yaml": journey.document for journey in result.journeys}
    clashes = [str(path) for path in files if _exists(path)]
    if clashes and not args.force and not args.dry_run:
        raise CliError(f"{', '.join(clashes)} already exist(s); pass --force to overwrite")
    # Write before printing: a reader that goes away (`| head`) must not stop the files
    # half-written; the files are written all or none (`_write`).
    written = [] if args.dry_run or not result.journeys else _write(files, out, result)
    streams.stdout.write(result.to_text() + "\n")
    if result.secrets:
        streams.stdout.write("For `reqflo run`, set these environment variables:\n")
        for secret in result.secrets:
            streams.stdout.write(f"  {secret_env_name(secret.name)}\n")
    if not result.journeys:
        streams.stderr.write("reqflo: error: nothing could be imported\n")
        return ExitCode.USAGE
    if args.dry_run:
        streams.stdout.write("Dry run: nothing was written.\n")
        return ExitCode.PASSED
    for line in written:
        streams.stdout.write(line)
    return ExitCode.PASSED


def _convert(args: ImportArgs, streams: Streams) -> ImportResult:
    if args.kind == "postman":
        environment = _read(args.environment, streams) if args.environment else None
        return import_postman(
            _read(Path(args.source[0]), streams),
            environment=environment,
            split="collection" if args.split == "collection" else "folders",
        )
    if args.kind == "openapi":
        location = args.source[0]
        is_url = location.startswith(("http://", "https://"))
        data = _fetch(location) if is_url else _read(Path(location), streams)
        return import_openapi(
            data,
            group="operations" if args.group == "operations" else "tags",
            operations=list(args.operations) or None,
            source_url=location if is_url else None,
        )
    if args.kind == "curl":
        if not args.source:
            text = sys.stdin.read()
        elif len(args.source) == 1:  # one quoted argument: the pasted command line as it is
            text = args.source[0]
        else:  # the words after `--`, already split by the shell: quote them again
            text = shlex.join(args.source)
        if text.lstrip().startswith(("-", "http://", "https://")):
            text = "curl " + text  # the arguments of a curl command without the word curl
        return import_curl(
            text,
            name=args.name or "Imported from curl",
            include_sensitive=args.include_sensitive,
        )
    return import_har(
        _read(Path(args.source[0]), streams),
        name=args.name or "Imported from HAR",
        include_sensitive=args.include_sensitive,
        include_assets=args.include_assets,
    )


def _read(path: Path, streams: Streams) -> bytes:
    full = path if path.is_absolute() else streams.cwd / path
    try:
        size = full.stat().st_size
        if size > MAX_SOURCE_BYTES:
            raise SourceError(
                f"{path} is {size / 1_048_576:.1f} MiB; the import limit is "
                f"{MAX_SOURCE_BYTES // 1_048_576} MiB"
            )
        return full.read_bytes()
    except FileNotFoundError:
        raise CliError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise CliError(f"{path} is a folder, not a file") from None
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


def _fetch(url: str) -> bytes:
    """Fetch an OpenAPI URL; a failure to reach it is exit 3, a refusal (too large) exit 2."""
    try:
        return fetch_source(url)
    except SourceError as error:
        unreachable = error.message.startswith(("cannot fetch", "GET "))
        raise CliError(
            error.message, exit_code=ExitCode.SERVER if unreachable else ExitCode.USAGE
        ) from None


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError as exc:  # a name the file system refuses (too long …)
        raise CliError(f"cannot use {path}: {exc.strerror}") from None


def _write(files: dict[Path, dict[str, Any]], out: Path, result: ImportResult) -> list[str]:
    """Write every journey file (and `reqflo.yaml` when there is none) all or none: each is
    written into a temporary folder inside `out` first, then moved into place; a failure
    removes what this import put there. Return the lines to print."""
    config = out / CONFIG_NAME
    texts = {path: _yaml(document) for path, document in files.items()}
    lines = [f"wrote {path}\n" for path in files]
    if result.environments:
        block = {"environments": result.environments}
        if _exists(config):
            lines.append(
                f"{config} exists and was left as it is; add these environments to it:\n"
                + _indent(_yaml(block))
            )
        else:
            texts[config] = _yaml({**block, "default_env": next(iter(result.environments))})
            lines.append(f"wrote {config}\n")
    moved: list[Path] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out, prefix=".reqflo-import-") as staging:
            staged = {path: Path(staging) / path.name for path in texts}
            for path, text in texts.items():
                staged[path].write_text(text, encoding="utf-8")
            for path in texts:
                existed = path.exists()
                os.replace(staged[path], path)
                if not existed:
                    moved.append(path)
    except OSError as exc:
        for path in moved:
            with contextlib.suppress(OSError):
                path.unlink()
        raise CliError(
            f"cannot write into {out}: {exc.strerror or exc}; no journey file was written"
        ) from None
    return lines


def _yaml(document: Any) -> str:
    return journey_text(document)


def _indent(text: str) -> str:
    return "".join(f"  {line}\n" for line in text.splitlines())
