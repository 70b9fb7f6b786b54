"""The quick start stays up: the embedded stack, kept busy for minutes, loses and crashes nothing.

Runs ``bench/soak_embedded.py`` (the same script as the 30-minute soak in docs/benchmarks.md) for
``REQFLO_SOAK_MINUTES`` (3 by default): web, worker and beat started as `make run` does, a worker
ping every second, a cloud run every 5 s, a page request every second, the sweeper on its schedule.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MINUTES = float(os.environ.get("REQFLO_SOAK_MINUTES", "3"))

pytestmark = pytest.mark.slow


def test_the_embedded_stack_stays_up_and_loses_nothing_under_steady_use(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.soak_embedded",
            "--minutes",
            str(MINUTES),
            "--var",
            str(tmp_path),
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=MINUTES * 60 + 600,
        check=False,
    )
    assert result.stdout.strip(), result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    log = (tmp_path / "start_all.log").read_text(errors="replace")
    assert figures["problems"] == [], log[-5000:]
    assert figures["critical_lines"] == 0
    assert figures["restarts"] == 0  # no program died, so none was restarted
    assert figures["pings_sent"] >= MINUTES * 60 * 0.8  # about one a second, all answered
    assert figures["pings_answered"] == figures["pings_sent"]
    assert figures["runs_dispatched"] >= MINUTES * 60 / 5 * 0.8
    assert figures["runs_passed"] == figures["runs_dispatched"]
    assert figures["runs_lost"] == 0
    assert figures["page_failures"] == 0
    assert figures["sweeps_sent"] >= MINUTES * 60 / 5 * 0.8  # beat ran the sweeper throughout
    assert result.returncode == 0
    # Every program was stopped by the final Ctrl-C, none before.
    for name in ("web.1", "worker.1", "beat.1"):
        assert log.count(f"{name} started") == 1
        assert f"{name} stopped" in log
