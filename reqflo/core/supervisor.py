"""Run the Procfile's programs in the foreground and restart any that dies.

honcho starts the programs and multiplexes their output; its loop, though, stops every program
as soon as one exits, so a worker that died took the web server down with it. This loop keeps
honcho's processes and printer and changes only that: a program that exits on its own is started
again after a backoff (1 s, doubling to 30 s; back to 1 s once it stayed up a minute), with a log
line saying what happened, while the others keep running. Ctrl-C (SIGINT) or SIGTERM stops them
all: SIGTERM to each program itself (each stops its own children), SIGKILL to the process groups
still alive after the grace period; a second Ctrl-C does not wait for the grace period.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import honcho.manager
from honcho.environ import expand_processes, parse_procfile
from honcho.printer import Printer

FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
# A program that stayed up this long before dying is restarted at once again next time.
STABLE_AFTER_SECONDS = 60.0
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
REAP_EVERY_SECONDS = 0.5


def _has_exited(pid: int) -> bool:
    """Return whether ``pid`` is gone or a zombie (exited, not yet reaped by its parent)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # The state is the field after the command name, which is in parentheses.
    return stat.rsplit(")", 1)[1].split()[0] in {"Z", "X"}


@dataclass
class _Program:
    """One Procfile program and what the supervisor knows of its current process."""

    obj: Any  # honcho.process.Process
    pid: int | None = None
    started_at: float = 0.0
    running: bool = False
    restarts: int = 0
    backoff: float = FIRST_BACKOFF_SECONDS
    restart_at: float | None = None
    handle: multiprocessing.Process | None = field(default=None, repr=False)


class Supervisor(honcho.manager.Manager):  # type: ignore[misc]  # honcho ships no types
    """A honcho manager whose programs are restarted when they die, until it is told to stop."""

    def __init__(self, *, grace_seconds: float, printer: Printer | None = None) -> None:
        super().__init__(printer=printer)
        self.grace_seconds = grace_seconds
        self._programs: dict[str, _Program] = {}
        self._stop_requested_at: float | None = None
        self._force = False
        self._next_reap = 0.0

    def add_process(self, name: str, cmd: str, **kwargs: Any) -> Any:
        proc = super().add_process(name, cmd, **kwargs)
        self._programs[name] = _Program(obj=proc)
        return proc

    # --- signals and stopping -----------------------------------------------------------------

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._stop_requested_at is not None:
            self._system_print("second stop request: not waiting for the grace period\n")
            self._force = True
            return
        self._system_print(f"{signal.Signals(signum).name} received: stopping every program\n")
        self.returncode = EXIT_CODES.get(signal.Signals(signum), 1)
        self._stop_requested_at = time.monotonic()
        for program in self._programs.values():
            program.restart_at = None
            if program.running and program.pid is not None:
                self._system_print(f"sending SIGTERM to {program.obj.name} (pid {program.pid})\n")
                self._procmgr.terminate(program.pid)

    def _kill_remaining(self) -> None:
        for program in self._programs.values():
            if program.running and program.pid is not None:
                self._system_print(f"sending SIGKILL to {program.obj.name} (pid {program.pid})\n")
                self._procmgr.kill(program.pid)
                program.running = False  # its stop message may never come; do not wait for it

    # --- the loop ------------------------------------------------------------------------------

    def _start_program(self, program: _Program) -> None:
        program.restart_at = None
        program.running = True
        program.pid = None
        program.started_at = time.monotonic()
        program.handle = multiprocessing.Process(
            name=program.obj.name, target=program.obj.run, args=(self.events, True)
        )
        program.handle.start()

    def _on_stopped(self, program: _Program, returncode: int) -> None:
        program.running = False
        if program.handle is not None:
            program.handle.join(timeout=1)
        if self._stop_requested_at is not None:
            self._system_print(f"{program.obj.name} stopped (rc={returncode})\n")
            return
        uptime = time.monotonic() - program.started_at
        if uptime >= STABLE_AFTER_SECONDS:
            program.backoff = FIRST_BACKOFF_SECONDS
        program.restarts += 1
        program.restart_at = time.monotonic() + program.backoff
        self._system_print(
            f"{program.obj.name} exited unexpectedly (rc={returncode}) after {uptime:.0f} s; "
            f"restarting it in {program.backoff:.0f} s (restart {program.restarts}); "
            "the other programs keep running\n"
        )
        program.backoff = min(program.backoff * 2, MAX_BACKOFF_SECONDS)

    def _reap_orphans(self) -> None:
        """Kill the process group of a program whose own process has exited.

        honcho learns that a program stopped when its output pipe closes. A child that outlives
        the program (a Celery pool process after a ``kill -9`` of the worker) keeps the pipe open,
        and the death would go unnoticed: the worker would stay down with no log line. Killing
        the rest of the program's group closes the pipe, and the stop is reported as usual.
        """
        for program in self._programs.values():
            if program.running and program.pid is not None and _has_exited(program.pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(program.pid, signal.SIGKILL)

    def loop(self) -> None:
        """Start every program and supervise them until a stop signal; sets ``returncode``."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        for program in self._programs.values():
            self._start_program(program)
        while True:
            try:
                msg = self.events.get(timeout=0.1)
            except queue.Empty:
                msg = None
            if msg is not None:
                program = self._programs[msg.name]
                if msg.type == "line":
                    self._printer.write(msg)
                elif msg.type == "start":
                    program.pid = msg.data["pid"]
                    self._system_print(f"{msg.name} started (pid={program.pid})\n")
                    if self._stop_requested_at is not None:  # started while stopping
                        self._procmgr.terminate(program.pid)
                elif msg.type == "stop":
                    self._on_stopped(program, msg.data["returncode"])
            now = time.monotonic()
            if now >= self._next_reap:
                self._reap_orphans()
                self._next_reap = now + REAP_EVERY_SECONDS
            if self._stop_requested_at is None:
                for program in self._programs.values():
                    if program.restart_at is not None and now >= program.restart_at:
                        self._start_program(program)
                continue
            if not any(p.running for p in self._programs.values()):
                break
            if self._force or now - self._stop_requested_at > self.grace_seconds:
                self._kill_remaining()


class _TerminateProgramOnly(honcho.manager.ProcessManager):  # type: ignore[misc]  # untyped
    """Send SIGTERM to the program only, not its process group (see ``start_all``)."""

    def terminate(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def supervise(procfile: Path, *, grace_seconds: float) -> int:
    """Run every program of ``procfile`` under a :class:`Supervisor`; return the exit code.

    Returns 130 after Ctrl-C and 143 after SIGTERM, as a shell would report them.
    """
    supervisor = Supervisor(grace_seconds=grace_seconds, printer=Printer(sys.stdout))
    supervisor._procmgr = _TerminateProgramOnly()
    processes = parse_procfile(procfile.read_text(encoding="utf-8")).processes
    for params in expand_processes(processes):
        env = {**os.environ, **params.env}
        supervisor.add_process(params.name, params.cmd, quiet=params.quiet, env=env)
    supervisor.loop()
    return int(supervisor.returncode or 0)
