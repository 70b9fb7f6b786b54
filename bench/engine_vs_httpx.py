"""The 5-step checkout x N rows: the engine's sequential run vs plain httpx doing the same work.

Both sides make the same 5 requests per row against the loopback demo shop (running in its own
process) and check the same things: status codes, the content-type header, JSON fields, a regex,
a length, the response time and a JSON Schema. The httpx loop is what a careful engineer would
write by hand: one client, dict lookups, a prebuilt schema validator. The engine side runs
through `reqflo.cli.execute`, the code behind `reqflo run --data`: the journey compiled once, one
client per run (own cookies) over one shared connection pool. Rounds alternate between the two
to spread machine noise evenly; the client's CPU time is reported too, as it is steadier than
wall time on a shared machine.

With `--in-process` both sides talk to the same shop code through an in-memory httpx transport
instead of a socket: no network and no second process, so the difference between the two is the
engine's own cost per request, measured without the machine's scheduling noise.

    .venv/bin/python -m bench.engine_vs_httpx [--rows 200] [--rounds 11] [--profile] [--in-process]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import re
import statistics
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import httpx
import jsonschema

from bench.common import EXAMPLES, demo_shop, ratio
from reqflo.cli.execute import Job, RunContext, execute
from reqflo.engine import compile_definition, load_definition, merge_inputs
from tests.cli.demo_shop_server import API_PREFIX, ShopState, answer

# Parsed and compiled once, as `reqflo run` does before its first row.
DEFINITION = load_definition((EXAMPLES / "checkout.yaml").read_text())
ARTIFACT = compile_definition(DEFINITION)

ORDER_SCHEMA = {
    "type": "object",
    "required": ["order_id", "status", "total"],
    "properties": {
        "order_id": {"type": "string", "pattern": "^ord_"},
        "status": {"enum": ["paid"]},
        "total": {"type": "number", "exclusiveMinimum": 0},
    },
}
CART_ID = re.compile(r"^cart_[0-9a-f]+$")
SKUS = ("tea-01", "mug-02", "pot-03")


def rows(count: int) -> list[dict[str, Any]]:
    return [
        {"email": f"user{i}@example.com", "sku": SKUS[i % 3], "quantity": i % 4 + 1}
        for i in range(count)
    ]


def check(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(what)


class InProcessShop(httpx.BaseTransport):
    """Answer requests with the demo shop's code directly, without a socket."""

    def __init__(self) -> None:
        self.state = ShopState()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        status, payload, headers = answer(
            self.state,
            request.method,
            request.url.raw_path.decode(),
            request.read(),
            request.headers,
        )
        data = b"" if payload is None else json.dumps(payload).encode()
        if payload is not None:
            headers = {**headers, "Content-Type": "application/json"}
        headers = {**headers, "Content-Length": str(len(data))}
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(data))


def httpx_loop(
    base_url: str, data: list[dict[str, Any]], transport: httpx.BaseTransport | None = None
) -> None:
    """Make the checkout requests and checks with plain httpx, as one would by hand."""
    validator = jsonschema.Draft202012Validator(ORDER_SCHEMA)
    with httpx.Client(transport=transport) as client:
        for row in data:
            client.cookies.clear()
            response = client.post(
                f"{base_url}/login", json={"email": row["email"], "password": "dm0-Qv8x-R2kp"}
            )
            body = response.json()
            check(response.status_code == 200, "login status")
            check("application/json" in response.headers["content-type"], "content-type")
            check(isinstance(body["token"], str), "token")
            check(body["user"]["email"] == row["email"], "email")
            check(response.elapsed.total_seconds() < 2, "time")
            auth = {"Authorization": f"Bearer {body['token']}"}

            response = client.post(f"{base_url}/carts", headers=auth)
            cart = response.json()
            check(response.status_code == 201, "cart status")
            check(bool(CART_ID.match(cart["id"])), "cart id")
            check(cart["items"] == [], "empty cart")

            response = client.post(
                f"{base_url}/carts/{cart['id']}/items",
                headers=auth,
                json={"sku": row["sku"], "quantity": row["quantity"]},
            )
            body = response.json()
            check(response.status_code == 201, "item status")
            check(len(body["items"]) == 1, "one item")
            check(body["items"][0]["quantity"] == row["quantity"], "quantity")
            check(body["total"] > 0, "total")

            response = client.post(f"{base_url}/carts/{cart['id']}/checkout", headers=auth)
            order = response.json()
            check(response.status_code in (200, 201), "checkout status")
            check(order["status"] == "paid", "paid")
            check(validator.is_valid(order), "schema")

            response = client.get(f"{base_url}/orders/{order['order_id']}", headers=auth)
            body = response.json()
            check(200 <= response.status_code < 300, "order status")
            check(body["id"] == order["order_id"], "order id")
            check(body["status"] == "paid", "order paid")
            check(body["total"] == order["total"], "order total")
            check(body["items"][0]["sku"] == row["sku"], "sku")


def engine_loop(
    base_url: str, data: list[dict[str, Any]], transport: httpx.BaseTransport | None = None
) -> None:
    """Run the compiled checkout once per row through the CLI's own execution code."""
    context = RunContext(
        artifact=ARTIFACT,
        environment={"base_url": base_url},
        environment_name=None,
        secrets={},
    )
    jobs = (
        Job(index=index, inputs=merge_inputs(DEFINITION, row=row), label=None)
        for index, row in enumerate(data)
    )
    for result in execute(context, jobs, parallel=1, transport=transport):
        check(result.passed, f"engine run failed: {result.status}")


def timed(function: Any, *args: Any) -> tuple[float, float]:
    """Return the wall time and this process's CPU time of one call."""
    started, cpu = time.perf_counter(), time.process_time()
    function(*args)
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--profile", action="store_true", help="print the engine's hot spots")
    parser.add_argument("--in-process", action="store_true", help="no socket: engine cost only")
    args = parser.parse_args()
    data = rows(args.rows)
    shop = InProcessShop() if args.in_process else None
    target = nullcontext("http://shop.test" + API_PREFIX) if shop else demo_shop()
    with target as base_url:
        # Warm both paths (imports, connection, compiled JSONPath caches) before timing.
        httpx_loop(base_url, data[:5], shop)
        engine_loop(base_url, data[:5], shop)
        plain, engine = [], []
        for _ in range(args.rounds):
            plain.append(timed(httpx_loop, base_url, data, shop))
            engine.append(timed(engine_loop, base_url, data, shop))
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(engine_loop, base_url, data, shop)
            stats = pstats.Stats(profiler).sort_stats("cumulative")
            stats.print_stats(35)
            Path("/tmp/reqflo-engine.prof").unlink(missing_ok=True)
            stats.dump_stats("/tmp/reqflo-engine.prof")
    requests = args.rows * 5
    print(f"rows={args.rows} requests={requests} rounds={args.rounds} (median of rounds)")
    for what, index in (("wall time", 0), ("client CPU time", 1)):
        plain_s = statistics.median(t[index] for t in plain)
        engine_s = statistics.median(t[index] for t in engine)
        print(f"{what}:")
        print(f"  plain httpx : {plain_s:.3f} s  ({plain_s / requests * 1e6:.0f} µs/request)")
        print(f"  engine      : {engine_s:.3f} s  ({engine_s / requests * 1e6:.0f} µs/request)")
        goal = "" if args.in_process else "  (target ≤ 1.15x, issue 17)"
        print(f"  engine / httpx = {ratio(engine_s, plain_s)}{goal}")
    extra = statistics.median(t[1] for t in engine) - statistics.median(t[1] for t in plain)
    print(f"engine's own CPU time per request: {extra / requests * 1e6:.0f} µs")
    print("wall per round, httpx :", " ".join(f"{t[0]:.3f}" for t in plain))
    print("wall per round, engine:", " ".join(f"{t[0]:.3f}" for t in engine))


if __name__ == "__main__":
    main()
