"""Shared helpers for the benchmark scripts: targets in their own process, timing, peak RSS.

Benchmarks print their numbers; docs/benchmarks.md records them with the command used. They
are scripts, not tests: run them from the repository root on a quiet machine, e.g.
`.venv/bin/python -m bench.engine_vs_httpx`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
REQFLO = str(Path(PYTHON).parent / "reqflo")
EXAMPLES = REPO / "examples"

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@contextmanager
def demo_shop(*, latency_ms: float = 0) -> Iterator[str]:
    """Start the loopback demo shop in a separate process (its own GIL); yield its base URL."""
    process = subprocess.Popen(
        [PYTHON, "-m", "tests.cli.demo_shop_server", "--latency-ms", str(latency_ms)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        if not base_url.startswith("http"):
            raise RuntimeError("the demo shop did not start")
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass(frozen=True)
class Measured:
    """Wall time, CPU time (user + system, seconds) and peak resident memory of one child process.

    `timed_out` is True when the process was killed at the time limit: then `seconds` is the
    limit and `peak_rss_mb` and `cpu_seconds` are 0 (`/usr/bin/time` was killed with it).
    """

    seconds: float
    peak_rss_mb: float
    returncode: int
    output: str
    timed_out: bool = False
    cpu_seconds: float = 0.0


def measure(
    command: Sequence[str], *, cwd: Path | None = None, time_limit: float | None = None
) -> Measured:
    """Run `command` under `/usr/bin/time -v` and return its wall time, CPU time and peak RSS.

    With `time_limit` (seconds), a command still running then is killed with everything it
    started (its own process group) and reported as timed out, instead of hanging the bench.
    """
    time_bin = shutil.which("time") or "/usr/bin/time"
    started = time.perf_counter()
    process = subprocess.Popen(
        [time_bin, "-v", *command],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=time_limit)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        return Measured(
            seconds=time.perf_counter() - started,
            peak_rss_mb=0.0,
            returncode=process.returncode,
            output=(stdout + stderr)[-3000:],
            timed_out=True,
        )
    seconds = time.perf_counter() - started
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    if match is None:
        raise RuntimeError(f"no RSS in /usr/bin/time output:\n{stderr[-2000:]}")
    cpu = re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", stderr)
    return Measured(
        seconds=seconds,
        peak_rss_mb=int(match.group(1)) / 1024,
        returncode=process.returncode,
        output=(stdout + stderr)[-3000:],
        cpu_seconds=sum(float(value) for value in cpu),
    )


def write_config(folder: Path, base_url: str) -> Path:
    """Write a reqflo.yaml whose `bench` environment points at `base_url`."""
    path = folder / "reqflo.yaml"
    path.write_text(f"environments:\n  bench:\n    base_url: {base_url}\n")
    return path


def write_rows(path: Path, count: int) -> Path:
    """Write a checkout data file with `count` rows cycling through the three products."""
    skus = ("tea-01", "mug-02", "pot-03")
    with path.open("w") as file:
        file.write("case,email,sku,quantity\n")
        for index in range(count):
            sku = skus[index % 3]
            file.write(f"row {index + 1},user{index}@example.com,{sku},{index % 4 + 1}\n")
    return path


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x"


@contextmanager
def bench_database() -> Iterator[None]:
    """Set Django up on a throwaway ``test_<name>`` copy of ``DATABASE_URL``'s database.

    The database is created empty (migrated) and dropped afterwards, whatever happens.
    """
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL to a PostgreSQL URL (the bench creates test_<name>)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reqflo.test_settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        yield
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
