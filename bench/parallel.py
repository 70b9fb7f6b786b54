"""`reqflo run --data --parallel N` vs `--parallel 1`: a fast local target and a 20 ms one.

The demo shop runs in its own process; with `--latency-ms` it sleeps before every answer, as a
real API over a network would. Each command is a whole `reqflo` process running the 5-step
checkout per row. Issue 17's targets: `--parallel N` at most 1.05x the time of `--parallel 1`
against the fast target (threads must never make a run slower), and at least 5x faster against
the 20 ms one. The commands alternate, `--repeat` times each, and medians are reported, of wall
time and of CPU time (user + system of the `reqflo` process: steadier than wall time on a shared
machine).

    .venv/bin/python -m bench.parallel [--rows 200] [--workers 8] [--repeat 5] [--slow-ms 20]
        [--fast-only]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from bench.common import EXAMPLES, REQFLO, Measured, demo_shop, measure, write_config, write_rows


def compare(rows: Path, folder: Path, *, latency_ms: float, workers: int, repeat: int) -> None:
    with demo_shop(latency_ms=latency_ms) as base_url:
        config = write_config(folder, base_url)
        runs: dict[int, list[Measured]] = {1: [], workers: []}
        for _ in range(repeat):
            for parallel in runs:
                command = [
                    REQFLO, "run", str(EXAMPLES / "checkout.yaml"), "--config", str(config),
                    "--env", "bench", "--data", str(rows), "--parallel", str(parallel),
                ]  # fmt: skip
                result = measure(command)
                if result.returncode != 0:
                    raise SystemExit(f"--parallel {parallel} failed:\n{result.output}")
                runs[parallel].append(result)
    one = statistics.median(r.seconds for r in runs[1])
    many = statistics.median(r.seconds for r in runs[workers])
    cpu_one = statistics.median(r.cpu_seconds for r in runs[1])
    cpu_many = statistics.median(r.cpu_seconds for r in runs[workers])
    print(f"target latency {latency_ms:g} ms:")
    for parallel, measured in runs.items():
        seconds = " ".join(f"{r.seconds:.2f}" for r in measured)
        middle = statistics.median(r.seconds for r in measured)
        cpu = statistics.median(r.cpu_seconds for r in measured)
        rss = max(r.peak_rss_mb for r in measured)
        print(
            f"  --parallel {parallel:<2}: {middle:6.2f} s (runs {seconds}), CPU {cpu:.2f} s, "
            f"peak {rss:.1f} MiB"
        )
    if latency_ms:
        print(f"  speed-up = {one / many:.2f}x (target ≥ 5x)")
    else:
        print(
            f"  --parallel {workers} / --parallel 1 = {many / one:.2f}x wall (target ≤ 1.05x), "
            f"{cpu_many / cpu_one:.2f}x CPU"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--slow-ms", type=float, default=20)
    parser.add_argument("--fast-only", action="store_true", help="skip the slow target")
    args = parser.parse_args()
    print(f"rows={args.rows} requests={args.rows * 5} repeat={args.repeat}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="reqflo-bench-") as folder:
        temp = Path(folder)
        rows = write_rows(temp / "rows.csv", args.rows)
        for latency in (0,) if args.fast_only else (0, args.slow_ms):
            compare(rows, temp, latency_ms=latency, workers=args.workers, repeat=args.repeat)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
