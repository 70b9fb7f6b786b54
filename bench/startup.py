"""How long `reqflo` takes to start: `--help`, `validate` and a one-step run, whole processes.

CI calls the CLI many times a day, so its start-up is part of every small run (issue 17's
targets: `--help` and `validate` under 150 ms, a one-step run under 250 ms). Each command runs
`--repeat` times as a fresh process; the median wall time and the median CPU time (user + system,
steadier on a shared machine) are reported, beside `python -c pass`, the interpreter's own floor.

The console script keeps what start-up compiles from fixed text (regular expressions, dataclass
methods) in a cache between starts (reqflo/cli/start_cache.py); the script points it at its
temporary folder, where each command's first (warm-up) run writes it, as a user's first command
would, and the timed runs read it.

`--baseline DIR` runs the same commands with another source tree (for example
`git archive <commit> | tar -x -C DIR`) interleaved with this one, so both see the same noise:
the before/after comparison, with the ratios of the medians measured in the same run.
Wall times mean something only on a quiet machine (load average under 1, nothing else running:
check `uptime` before and after, the script prints it); on a shared machine read the CPU
column and the ratios. `--importtime` adds the heaviest imports of each command, from
`python -X importtime`. `--instructions` adds the instructions each command executes, counted
by valgrind's callgrind (one run each, ~50x slower): the same on a loaded machine as on a quiet
one, so a change's effect reads to within 0.1% whatever else runs (it leaves out waiting for
the disk or the shop, and a cache miss costs what a hit does).

The one-step runs go to the loopback demo shop in its own process: `products.yaml` from
examples/ (a filter JSONPath and a JSON Schema: the journey that loads the most) and `ping`, one
request with a status code and a singular JSONPath check. `validate` checks `ping`,
`checkout.yaml` (a JSON Schema: jsonschema is loaded to check it) and `products.yaml`.

    .venv/bin/python -m bench.startup [--repeat 21] [--baseline DIR] [--importtime]
        [--instructions]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import EXAMPLES, PYTHON, REPO, REQFLO, demo_shop, write_config

# What the console script does, for a source tree given by PYTHONPATH
# (`entry`, the console script since issue 17's fourth pass; `main` in older trees.)
LAUNCH = (
    "import sys, reqflo.cli.main as m; m.entry() if hasattr(m, 'entry') else sys.exit(m.main())"
)
PING = """\
journey:
  name: Ping
  slug: ping
  steps:
    - id: list
      name: List products
      request: {method: GET, url: "{{ env.base_url }}/products"}
      assertions:
        - {type: status_code, expected: 200}
        - {type: json_path, path: "$.products[0].sku", operator: equals, expected: tea-01}
"""
TARGETS_MS = {"--help": 150, "validate": 150, "run": 250}


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class Timing:
    wall_ms: float
    cpu_ms: float


def time_once(argv: Sequence[str], *, env: dict[str, str], cwd: Path) -> Timing:
    """Run one process to its end; return its wall time and CPU time (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {completed.returncode}:\n{completed.stderr!r}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall * 1000, cpu * 1000)


def instructions(argv: Sequence[str], *, env: dict[str, str], cwd: Path) -> int:
    """Return how many instructions one run of `argv` executes, counted by callgrind."""
    completed = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"Collected : (\d+)", completed.stderr)
    if completed.returncode != 0 or match is None:
        raise SystemExit(f"valgrind {' '.join(argv)} failed:\n{completed.stderr[-2000:]}")
    return int(match.group(1))


def heaviest_imports(argv: Sequence[str], *, env: dict[str, str], cwd: Path) -> list[str]:
    """Return the top-level packages that cost the most to import, from -X importtime."""
    completed = subprocess.run(
        [PYTHON, "-X", "importtime", *argv[1:]], env=env, cwd=cwd, capture_output=True, text=True
    )
    own: dict[str, int] = defaultdict(int)
    for line in completed.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            own[match.group(2).split(".")[0]] += int(match.group(1))
    ranked = sorted(own.items(), key=lambda item: -item[1])[:8]
    return [f"{name} {micros / 1000:.0f}" for name, micros in ranked]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--baseline", type=Path, help="another source tree to compare with")
    parser.add_argument("--importtime", action="store_true", help="list the heaviest imports")
    parser.add_argument("--instructions", action="store_true", help="count instructions (valgrind)")
    args = parser.parse_args()
    trees = {"this tree": REPO}
    if args.baseline:
        trees["baseline"] = args.baseline.resolve()
    with tempfile.TemporaryDirectory(prefix="reqflo-bench-") as folder, demo_shop() as base_url:
        temp = Path(folder)
        config = write_config(temp, base_url)
        (temp / "ping.yaml").write_text(PING)
        run = ("--config", str(config), "--env", "bench")
        commands = [
            Command("--help", ("--help",)),
            Command("validate ping", ("validate", str(temp / "ping.yaml"))),
            Command("validate checkout.yaml", ("validate", str(EXAMPLES / "checkout.yaml"))),
            Command("validate products.yaml", ("validate", str(EXAMPLES / "products.yaml"))),
            Command("run ping (1 step)", ("run", str(temp / "ping.yaml"), *run)),
            Command("run products.yaml (1 step)", ("run", str(EXAMPLES / "products.yaml"), *run)),
        ]
        # Bytecode caches are written and used, as for anyone who installed reqflo, and so is
        # the console script's start cache (reqflo/cli/start_cache.py), here in the temporary
        # folder: each command's warm-up run fills it, as a user's first command would.
        environ = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("REQFLO_") and k != "PYTHONDONTWRITEBYTECODE"
        }
        environ["XDG_CACHE_HOME"] = str(temp / "cache")
        floor = [time_once([PYTHON, "-c", "pass"], env=environ, cwd=temp) for _ in range(9)]
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(
            f"python -c pass: wall {statistics.median(t.wall_ms for t in floor):.0f} ms, "
            f"CPU {statistics.median(t.cpu_ms for t in floor):.0f} ms"
        )
        header = f"{'command':28} {'tree':10} {'wall ms':>8} {'CPU ms':>8}  target"
        print(header)
        for command in commands:
            timings: dict[str, list[Timing]] = {name: [] for name in trees}
            # Warm the bytecode caches, then alternate the trees round by round.
            for tree in trees.values():
                time_once(_argv(command), env=_env(environ, tree), cwd=temp)
            for _ in range(args.repeat):
                for name, tree in trees.items():
                    timings[name].append(
                        time_once(_argv(command), env=_env(environ, tree), cwd=temp)
                    )
            goal = next(ms for key, ms in TARGETS_MS.items() if command.args[0] == key)
            medians = {}
            for name, runs in timings.items():
                wall = statistics.median(t.wall_ms for t in runs)
                cpu = statistics.median(t.cpu_ms for t in runs)
                medians[name] = (wall, cpu)
                print(f"{command.name:28} {name:10} {wall:8.0f} {cpu:8.0f}  < {goal} ms")
            if "baseline" in medians:
                (wall, cpu), (base_wall, base_cpu) = medians["this tree"], medians["baseline"]
                print(f"{'':28} {'/ baseline':10} {wall / base_wall:7.2f}x {cpu / base_cpu:7.2f}x")
            if args.instructions:
                counts = {
                    name: instructions(_argv(command), env=_env(environ, tree), cwd=temp)
                    for name, tree in trees.items()
                }
                shown = ", ".join(f"{name} {count / 1e6:.1f} M" for name, count in counts.items())
                if "baseline" in counts:
                    shown += f", {counts['this tree'] / counts['baseline']:.3f}x"
                print(f"  instructions: {shown}")
            if args.importtime:
                tree = trees["this tree"]
                top = heaviest_imports(_argv(command), env=_env(environ, tree), cwd=temp)
                print(f"  heaviest imports (ms, own time by package): {', '.join(top)}")
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"console script for this tree: {REQFLO}")


def _argv(command: Command) -> list[str]:
    return [PYTHON, "-c", LAUNCH, *command.args]


def _env(environ: dict[str, str], tree: Path) -> dict[str, str]:
    # First on the path: this tree's `reqflo` package, whichever checkout is installed.
    return {**environ, "PYTHONPATH": str(tree)}


if __name__ == "__main__":
    main()
