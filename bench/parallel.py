"""`reqflo run --data --parallel 8` vs `--parallel 1` against a target with 20 ms latency.

The demo shop runs in its own process and sleeps 20 ms before every answer, as a real API over a
network would. Each command is a whole `reqflo` process running the 5-step checkout per row.

    .venv/bin/python -m bench.parallel [--rows 200] [--latency-ms 20] [--workers 8]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.common import EXAMPLES, REQFLO, demo_shop, measure, write_config, write_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reqflo-bench-") as folder:
        temp = Path(folder)
        rows = write_rows(temp / "rows.csv", args.rows)
        with demo_shop(latency_ms=args.latency_ms) as base_url:
            config = write_config(temp, base_url)
            timings = {}
            for parallel in (1, args.workers):
                command = [
                    REQFLO, "run", str(EXAMPLES / "checkout.yaml"), "--config", str(config),
                    "--env", "bench", "--data", str(rows), "--parallel", str(parallel),
                ]  # fmt: skip
                result = measure(command)
                if result.returncode != 0:
                    raise SystemExit(f"--parallel {parallel} failed:\n{result.output}")
                timings[parallel] = result
    sequential, parallel_run = timings[1], timings[args.workers]
    print(f"rows={args.rows} requests={args.rows * 5} latency={args.latency_ms:g} ms")
    print(f"--parallel 1 : {sequential.seconds:6.2f} s  peak RSS {sequential.peak_rss_mb:.1f} MiB")
    print(
        f"--parallel {args.workers} : {parallel_run.seconds:6.2f} s  "
        f"peak RSS {parallel_run.peak_rss_mb:.1f} MiB"
    )
    print(f"speed-up = {sequential.seconds / parallel_run.seconds:.1f}x (target ≥ 5x)")


if __name__ == "__main__":
    main()
