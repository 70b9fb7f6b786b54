"""The `reqflo` process's start and end: what a one-shot command does not need to pay for.

Counted in instructions by callgrind (docs/benchmarks.md, "CLI start-up", fourth pass), two
costs of every start that no command needs:

- The cyclic garbage collector while starting. Importing the CLI, the engine and httpx builds
  tens of thousands of objects it tracks (modules, classes, functions: ~19,000 for `reqflo
  validate`, ~41,000 for a one-step run) that all live until the process ends, so its
  collections walk them and find nothing: ~3% of `validate` and of a one-step `reqflo run`.
  `pause_collection` turns it off at start; `resume_collection` turns it back on (with what
  start-up built frozen: never walked again, `gc.freeze`) before the work that allocates per
  row or per job, so a 100,000-row run stays flat in memory as before. `reqflo validate` never
  resumes it: its work is one bounded pass over the files, whose objects end with the process.
- The interpreter's teardown: a last collection and the clean-up of every module, ~7% of
  `reqflo validate` and of a one-step run. `leave` flushes stdout and stderr and ends the
  process with its exit code, as the operating system would after the teardown. Nothing in
  reqflo waits for it: files are written inside `with` blocks, no `atexit` handler is
  registered, and the runner's threads are daemons.

Only the console script (`reqflo.cli.main.entry`) does either; `main()` called in a process of
one's own (tests, the benchmarks) changes neither the collector nor the way the process ends.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from typing import NoReturn

_paused = False


def pause_collection() -> None:
    """Turn the cyclic garbage collector off for the start-up (when it was on)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_collection() -> None:
    """Turn the collector back on if `pause_collection` turned it off; else do nothing."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def leave(code: int) -> NoReturn:
    """Flush stdout and stderr, then end the process with `code`, without the teardown.

    A flush that fails (the reader of a pipe went away) is dropped, as the interpreter's own
    flush at exit would drop it.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    os._exit(code)
