"""One target, five clients: reqflo (sequential and `--parallel 8`), plain httpx, Newman, Bruno.

Every contender runs the 5-step checkout once per CSV row (200 rows = 1,000 requests) against
the loopback demo shop in its own process, as a whole process, with the same checks (status
codes, content type, JSON fields, a regex, a length, the response time and the order's shape),
and must pass: a failing contender stops the script. The shop counts the requests it answered;
each contender must make exactly rows x 5. Newman 6.2.2 and Bruno CLI 4.1.0 are installed from
npm into a temporary folder (or reused with `--npm-dir`). Contenders alternate, `--repeat` times;
wall time and peak RSS come from `/usr/bin/time -v` and the medians are reported, with the ratios
to reqflo measured in the same run: they are what carries to another machine.

A run that takes longer than `--time-limit` seconds is stopped (with every process it started)
and reported as "did not finish in N s", with how many requests the shop had answered for it;
that contender is not run again. Bruno once ran for minutes at a falling rate on a loaded
machine: the script reports that instead of hanging.

    .venv/bin/python -m bench.tools [--rows 200] [--repeat 3] [--time-limit 120]
        [--npm-dir DIR] [--skip bruno]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from bench.cli_vs_newman import collection
from bench.common import (
    EXAMPLES,
    PYTHON,
    REQFLO,
    Measured,
    demo_shop,
    measure,
    write_config,
    write_rows,
)

NEWMAN = "newman@6.2.2"
BRUNO = "@usebruno/cli@4.1.0"

# The checkout as a Bruno collection: one .bru file per request, the checks as chai tests. A
# script reads a CSV row's values from the request it sent (Bruno interpolates `{{email}}` in
# requests, but `bru.getVar` does not see the row).
BRUNO_REQUESTS = {
    "1-login.bru": """meta {
  name: Log in
  type: http
  seq: 1
}

post {
  url: {{base_url}}/login
  body: json
  auth: none
}

body:json {
  {"email": "{{email}}", "password": "dm0-Qv8x-R2kp"}
}

script:post-response {
  bru.setVar("token", res.getBody().token);
}

tests {
  const body = res.getBody();
  test("status", () => expect(res.getStatus()).to.equal(200));
  test("type", () => expect(res.getHeader("content-type")).to.include("application/json"));
  test("token", () => expect(body.token).to.be.a("string"));
  test("email", () => expect(body.user.email).to.equal(req.getBody().email));
  test("time", () => expect(res.getResponseTime()).to.be.below(2000));
}
""",
    "2-cart.bru": """meta {
  name: Create a cart
  type: http
  seq: 2
}

post {
  url: {{base_url}}/carts
  body: none
  auth: none
}

headers {
  Authorization: Bearer {{token}}
}

script:post-response {
  bru.setVar("cart_id", res.getBody().id);
}

tests {
  const body = res.getBody();
  test("status", () => expect(res.getStatus()).to.equal(201));
  test("id", () => expect(body.id).to.match(/^cart_[0-9a-f]+$/));
  test("empty", () => expect(body.items).to.be.empty);
}
""",
    "3-item.bru": """meta {
  name: Add the item
  type: http
  seq: 3
}

post {
  url: {{base_url}}/carts/{{cart_id}}/items
  body: json
  auth: none
}

headers {
  Authorization: Bearer {{token}}
}

body:json {
  {"sku": "{{sku}}", "quantity": {{quantity}}}
}

script:post-response {
  bru.setVar("row_sku", req.getBody().sku);
}

tests {
  const body = res.getBody();
  test("status", () => expect(res.getStatus()).to.equal(201));
  test("one", () => expect(body.items).to.have.lengthOf(1));
  test("quantity", () => expect(body.items[0].quantity).to.equal(req.getBody().quantity));
  test("total", () => expect(body.total).to.be.above(0));
}
""",
    "4-checkout.bru": """meta {
  name: Check out
  type: http
  seq: 4
}

post {
  url: {{base_url}}/carts/{{cart_id}}/checkout
  body: none
  auth: none
}

headers {
  Authorization: Bearer {{token}}
}

script:post-response {
  bru.setVar("order_id", res.getBody().order_id);
  bru.setVar("total", res.getBody().total);
}

tests {
  const body = res.getBody();
  test("status", () => expect([200, 201]).to.include(res.getStatus()));
  test("paid", () => expect(body.status).to.equal("paid"));
  test("schema", () => {
    expect(body).to.be.an("object").that.includes.all.keys("order_id", "status", "total");
    expect(body.order_id).to.be.a("string").and.match(/^ord_/);
    expect(["paid"]).to.include(body.status);
    expect(body.total).to.be.a("number").and.above(0);
  });
}
""",
    "5-order.bru": """meta {
  name: Read the order
  type: http
  seq: 5
}

get {
  url: {{base_url}}/orders/{{order_id}}
  body: none
  auth: none
}

headers {
  Authorization: Bearer {{token}}
}

tests {
  const body = res.getBody();
  test("status", () => expect(res.getStatus()).to.be.within(200, 299));
  test("id", () => expect(body.id).to.equal(bru.getVar("order_id")));
  test("paid", () => expect(body.status).to.equal("paid"));
  test("total", () => expect(body.total).to.equal(bru.getVar("total")));
  test("sku", () => expect(body.items[0].sku).to.equal(bru.getVar("row_sku")));
}
""",
}


def write_bruno(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bruno.json").write_text(
        json.dumps({"version": "1", "name": "checkout", "type": "collection"})
    )
    for name, text in BRUNO_REQUESTS.items():
        (folder / name).write_text(text)
    return folder


def install(folder: Path) -> tuple[Path, Path]:
    """Install Newman and Bruno CLI from npm into `folder` (once); return their commands."""
    bin_dir = folder / "node_modules" / ".bin"
    if not (bin_dir / "newman").exists() or not (bin_dir / "bru").exists():
        print(f"installing {NEWMAN} and {BRUNO} into {folder} ...", flush=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(folder), NEWMAN, BRUNO],
            check=True,
            capture_output=True,
        )
    return bin_dir / "newman", bin_dir / "bru"


def httpx_loop_main(base_url: str, rows_file: Path) -> None:
    """The plain httpx loop of bench.engine_vs_httpx, as a process of its own."""
    from bench.engine_vs_httpx import httpx_loop

    with rows_file.open() as file:
        data = [
            {"email": r["email"], "sku": r["sku"], "quantity": int(r["quantity"])}
            for r in csv.DictReader(file)
        ]
    httpx_loop(base_url, data)


def served(base_url: str) -> int:
    return int(httpx.get(f"{base_url}/_stats").json()["requests"])


def report(
    results: dict[str, list[Measured]],
    unfinished: dict[str, int],
    *,
    rows: int,
    repeat: int,
    limit: float,
) -> None:
    """Print the medians and the ratios to `reqflo run --data`; name who ran out of time."""
    finished = [r.seconds for r in results["reqflo run --data"]]
    base = statistics.median(finished) if finished else None
    print(f"rows={rows} requests={rows * 5} repeat={repeat} (medians), time limit {limit:.0f} s")
    print(f"{'':32} {'wall':>8} {'peak RSS':>10} {'/ reqflo':>9}")
    for name, runs in results.items():
        if name in unfinished:
            print(
                f"{name:32} did not finish in {limit:.0f} s "
                f"({unfinished[name]} of {rows * 5} requests answered by then)"
            )
            continue
        wall = statistics.median(r.seconds for r in runs)
        rss = statistics.median(r.peak_rss_mb for r in runs)
        against = f"{wall / base:8.2f}x" if base else "       -"
        print(f"{name:32} {wall:7.2f}s {rss:7.1f} MiB {against}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--npm-dir", type=Path, help="reuse a folder the npm tools are in")
    parser.add_argument(
        "--skip", action="append", default=[], choices=("newman", "bruno"), help="leave one out"
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=120.0,
        help="seconds one run of a contender may take before it is stopped (default 120)",
    )
    parser.add_argument("--httpx-loop", nargs=2, help=argparse.SUPPRESS)  # the httpx contender
    args = parser.parse_args()
    if args.httpx_loop:
        httpx_loop_main(args.httpx_loop[0], Path(args.httpx_loop[1]))
        return
    temp = Path(tempfile.mkdtemp(prefix="reqflo-bench-"))
    try:
        newman, bru = install(args.npm_dir or temp / "npm")
        rows = write_rows(temp / "rows.csv", args.rows)
        (temp / "collection.json").write_text(json.dumps(collection(), indent=2))
        bruno = write_bruno(temp / "bruno")
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        with demo_shop() as base_url:
            config = write_config(temp, base_url)
            reqflo = [REQFLO, "run", str(EXAMPLES / "checkout.yaml"), "--config", str(config),
                      "--env", "bench", "--data", str(rows)]  # fmt: skip
            commands: dict[str, tuple[list[str], Path | None]] = {
                "reqflo run --data": (reqflo, None),
                "reqflo run --data --parallel 8": ([*reqflo, "--parallel", "8"], None),
                "plain httpx loop": (
                    [PYTHON, "-m", "bench.tools", "--httpx-loop", base_url, str(rows)],
                    None,
                ),
                "newman 6.2.2": (
                    [
                        str(newman),
                        "run",
                        str(temp / "collection.json"),
                        "-d",
                        str(rows),
                        "--env-var",
                        f"base_url={base_url}",
                        "--bail",
                    ],
                    None,
                ),
                "bruno cli 4.1.0": (
                    [
                        str(bru),
                        "run",
                        "--csv-file-path",
                        str(rows),
                        "--env-var",
                        f"base_url={base_url}",
                        "--bail",
                        # Bruno 4's default "safe" sandbox (QuickJS) costs about 1.1 s per CSV
                        # iteration here (10 rows: 16 s; with "developer": 4.5 s, most of it
                        # start-up): scripts run in Node itself, as Newman's do.
                        "--sandbox",
                        "developer",
                    ],
                    bruno,
                ),
            }
            for skipped in args.skip:
                commands = {k: v for k, v in commands.items() if not k.startswith(skipped)}
            results: dict[str, list[Measured]] = {name: [] for name in commands}
            # name -> requests the shop answered before the contender was stopped at the limit.
            unfinished: dict[str, int] = {}
            for _ in range(args.repeat):
                for name, (command, cwd) in commands.items():
                    if name in unfinished:
                        continue  # it would only run into the limit again
                    before = served(base_url)
                    result = measure(command, cwd=cwd, time_limit=args.time_limit)
                    made = served(base_url) - before
                    if result.timed_out:
                        unfinished[name] = made
                        print(f"  {name}: did not finish in {args.time_limit:.0f} s", flush=True)
                        continue
                    if result.returncode != 0:
                        raise SystemExit(f"{name} failed:\n{result.output}")
                    if made != args.rows * 5:
                        raise SystemExit(f"{name} made {made} requests, not {args.rows * 5}")
                    results[name].append(result)
                    print(f"  {name}: {result.seconds:.2f} s", flush=True)
        report(results, unfinished, rows=args.rows, repeat=args.repeat, limit=args.time_limit)
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
