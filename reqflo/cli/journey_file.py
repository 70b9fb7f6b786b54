"""Reading a journey file for `reqflo run` and `reqflo validate`.

Its own module so that `reqflo validate` loads only the engine's definition modules, not
`reqflo.cli.run` and what a run needs (the compiler, results, redaction, data files).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from reqflo.cli.errors import CliError
from reqflo.engine import DefinitionError, load_definition

if TYPE_CHECKING:
    from reqflo.engine import Definition, Issue, Redactor


def load_journey(path: Path) -> Definition:
    """Read and parse a journey file; raise CliError listing every definition problem."""
    if not path.exists():
        hint = ""
        if path.suffix.lower() not in (".yaml", ".yml", ".json") and os.sep not in str(path):
            hint = (
                f"; to run the server journey '{path}', a Reqflo server is needed "
                "(set REQFLO_URL and REQFLO_TOKEN) and this CLI version runs journey files only"
            )
        raise CliError(f"journey file {path} does not exist{hint}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CliError(f"journey file {path} is not UTF-8 text") from None
    except OSError as exc:  # a directory, no permission...
        raise CliError(f"cannot read journey file {path}: {exc.strerror}") from None
    try:
        return load_definition(text, source=str(path))
    except DefinitionError as exc:
        raise CliError(issue_block(path, exc.issues)) from None


def issue_block(path: Path, issues: list[Issue], redactor: Redactor | None = None) -> str:
    """Return "PATH: N problems" and one indented line per issue (redacted with `redactor`)."""
    lines = [f"{path}: {len(issues)} problem" + ("" if len(issues) == 1 else "s")]
    for issue in issues:
        text = str(issue) if redactor is None else redactor.redact(str(issue))
        lines.append(f"  {issue.severity}: {text}")
    return "\n".join(lines)
