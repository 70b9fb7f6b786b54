"""Where a command reads and writes: the process's streams, environment and directory."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

# Secrets reach the CLI as REQFLO_SECRET_<NAME> environment variables.
SECRET_PREFIX = "REQFLO_SECRET_"
# The API tokens the server commands and the runner read from the environment.
TOKEN_VARIABLES = ("REQFLO_TOKEN", "REQFLO_RUNNER_TOKEN")


@dataclass
class Streams:
    """Where the command reads and writes; tests pass their own to run in-process."""

    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = field(default_factory=Path.cwd)

    def confidential_values(self) -> list[str]:
        """Return every secret and API token value in the environment: never to be echoed."""
        return [
            value
            for name, value in self.environ.items()
            if name.startswith(SECRET_PREFIX) or name in TOKEN_VARIABLES
        ]
