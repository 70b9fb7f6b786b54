"""``manage.py start_all`` notices a program's death even when a child of it lives on.

A Celery worker killed with ``kill -9`` can leave a pool process behind that still holds the
worker's output pipe; honcho learns of a stop only when that pipe closes. Found by a review: the
worker stayed dead with no log line. Real processes, a real Procfile.
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = pytest.mark.slow


def _pids_running(command: str) -> list[int]:
    found = subprocess.run(["pgrep", "-f", command], capture_output=True, text=True, check=False)
    return [int(pid) for pid in found.stdout.split()]


def test_a_program_whose_child_outlives_it_is_still_seen_dead_and_restarted(
    tmp_path: Path,
) -> None:
    # Unique sleep lengths name this test's processes.
    child, program = (f"sleep {random.randint(10_000, 90_000)}" for _ in range(2))
    procfile = tmp_path / "Procfile"
    procfile.write_text(f"held: exec sh -c '{child} & exec {program}'\n")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "reqflo.test_settings"}
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "start_all", "--procfile", str(procfile)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in iter(proc.stdout.readline, "")],  # type: ignore[union-attr]
        daemon=True,
    ).start()
    seen: list[str] = []

    def wait_for(pattern: str, timeout: float = 30) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in seen:
                match = re.search(pattern, line)
                if match:
                    seen.remove(line)
                    return match
            with contextlib.suppress(queue.Empty):
                seen.append(lines.get(timeout=0.2))
        raise AssertionError(f"no line matching {pattern!r} in:\n" + "".join(seen))

    try:
        first = int(wait_for(r"held\.1 started \(pid=(\d+)\)").group(1))
        os.kill(first, signal.SIGKILL)  # the child keeps the output pipe open
        exited = wait_for(r"held\.1 exited unexpectedly \(rc=-9\) after (\d+) s", timeout=15)
        assert int(exited.group(1)) < 10  # seen at once, not when the orphan happened to end
        second = int(wait_for(r"held\.1 started \(pid=(\d+)\)").group(1))
        assert second != first
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    deadline = time.monotonic() + 10
    while (_pids_running(child) or _pids_running(program)) and time.monotonic() < deadline:
        time.sleep(0.2)
    # The orphan of the killed program and the restarted program are both gone.
    assert _pids_running(child) == []
    assert _pids_running(program) == []
