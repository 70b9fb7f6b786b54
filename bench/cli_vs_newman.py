"""Whole processes: `reqflo run --data rows.csv` vs `newman run` of the same checkout collection.

Both run the 5-step checkout once per CSV row (200 rows = 1,000 requests) against the loopback
demo shop in its own process, with the same checks written as Postman tests, each with its
default reporter. Wall time and peak RSS come from `/usr/bin/time -v`. Newman is installed from
npm into a temporary folder (or reused with --newman-dir).

    .venv/bin/python -m bench.cli_vs_newman [--rows 200] [--repeat 3] [--newman-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.common import EXAMPLES, REQFLO, Measured, demo_shop, measure, write_config, write_rows

JSON_HEADER = [{"key": "Content-Type", "value": "application/json"}]
AUTH_HEADER = [{"key": "Authorization", "value": "Bearer {{token}}"}]


def item(name: str, method: str, path: str, tests: list[str], **request: Any) -> dict[str, Any]:
    return {
        "name": name,
        "request": {"method": method, "url": "{{base_url}}" + path, **request},
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": tests}}],
    }


def collection() -> dict[str, Any]:
    """Return a Postman v2.1 collection making the checkout requests with the same checks."""
    return {
        "info": {
            "name": "Checkout flow",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "item": [
            item(
                "Log in",
                "POST",
                "/login",
                [
                    "const body = pm.response.json();",
                    "pm.test('status', () => pm.response.to.have.status(200));",
                    "pm.test('type', () => pm.expect(pm.response.headers.get('Content-Type'))"
                    ".to.include('application/json'));",
                    "pm.test('token', () => pm.expect(body.token).to.be.a('string'));",
                    "pm.test('email', () => pm.expect(body.user.email)"
                    ".to.eql(pm.iterationData.get('email')));",
                    "pm.test('time', () => pm.expect(pm.response.responseTime).to.be.below(2000));",
                    "pm.collectionVariables.set('token', body.token);",
                ],
                header=JSON_HEADER,
                body={
                    "mode": "raw",
                    "raw": '{"email": "{{email}}", "password": "dm0-Qv8x-R2kp"}',
                },
            ),
            item(
                "Create a cart",
                "POST",
                "/carts",
                [
                    "const body = pm.response.json();",
                    "pm.test('status', () => pm.response.to.have.status(201));",
                    "pm.test('id', () => pm.expect(body.id).to.match(/^cart_[0-9a-f]+$/));",
                    "pm.test('empty', () => pm.expect(body.items).to.be.empty);",
                    "pm.collectionVariables.set('cart_id', body.id);",
                ],
                header=AUTH_HEADER,
            ),
            item(
                "Add the item",
                "POST",
                "/carts/{{cart_id}}/items",
                [
                    "const body = pm.response.json();",
                    "pm.test('status', () => pm.response.to.have.status(201));",
                    "pm.test('one', () => pm.expect(body.items).to.have.lengthOf(1));",
                    "pm.test('quantity', () => pm.expect(body.items[0].quantity)"
                    ".to.eql(Number(pm.iterationData.get('quantity'))));",
                    "pm.test('total', () => pm.expect(body.total).to.be.above(0));",
                ],
                header=AUTH_HEADER + JSON_HEADER,
                body={"mode": "raw", "raw": '{"sku": "{{sku}}", "quantity": {{quantity}}}'},
            ),
            item(
                "Check out",
                "POST",
                "/carts/{{cart_id}}/checkout",
                [
                    "const body = pm.response.json();",
                    "pm.test('status', () => pm.expect(pm.response.code).to.be.oneOf([200, 201]));",
                    "pm.test('paid', () => pm.expect(body.status).to.eql('paid'));",
                    "pm.test('schema', () => pm.response.to.have.jsonSchema({type: 'object', "
                    "required: ['order_id', 'status', 'total'], properties: {order_id: "
                    "{type: 'string', pattern: '^ord_'}, status: {enum: ['paid']}, total: "
                    "{type: 'number', exclusiveMinimum: 0}}}));",
                    "pm.collectionVariables.set('order_id', body.order_id);",
                    "pm.collectionVariables.set('total', body.total);",
                ],
                header=AUTH_HEADER,
            ),
            item(
                "Read the order",
                "GET",
                "/orders/{{order_id}}",
                [
                    "const body = pm.response.json();",
                    "pm.test('status', () => pm.response.to.be.success);",
                    "pm.test('id', () => pm.expect(body.id)"
                    ".to.eql(pm.collectionVariables.get('order_id')));",
                    "pm.test('paid', () => pm.expect(body.status).to.eql('paid'));",
                    "pm.test('total', () => pm.expect(body.total)"
                    ".to.eql(pm.collectionVariables.get('total')));",
                    "pm.test('sku', () => pm.expect(body.items[0].sku)"
                    ".to.eql(pm.iterationData.get('sku')));",
                ],
                header=AUTH_HEADER,
            ),
        ],
    }


def install_newman(folder: Path) -> Path:
    binary = folder / "node_modules" / ".bin" / "newman"
    if not binary.exists():
        print(f"installing newman into {folder} ...", flush=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(folder), "newman"],
            check=True,
            capture_output=True,
        )
    version = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    print(f"newman {version}", flush=True)
    return binary


def best(runs: list[Measured]) -> tuple[float, float]:
    return statistics.median(r.seconds for r in runs), max(r.peak_rss_mb for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--newman-dir", type=Path, help="reuse a folder newman is installed in")
    args = parser.parse_args()
    temp = Path(tempfile.mkdtemp(prefix="reqflo-bench-"))
    try:
        newman = install_newman(args.newman_dir or temp / "npm")
        rows = write_rows(temp / "rows.csv", args.rows)
        (temp / "collection.json").write_text(json.dumps(collection(), indent=2))
        with demo_shop() as base_url:
            config = write_config(temp, base_url)
            reqflo_command = [
                REQFLO, "run", str(EXAMPLES / "checkout.yaml"), "--config", str(config),
                "--env", "bench", "--data", str(rows),
            ]  # fmt: skip
            newman_command = [
                str(newman), "run", str(temp / "collection.json"), "-d", str(rows),
                "--env-var", f"base_url={base_url}", "--bail",
            ]  # fmt: skip
            reqflo_runs, newman_runs = [], []
            for _ in range(args.repeat):
                reqflo_runs.append(measure(reqflo_command))
                newman_runs.append(measure(newman_command))
        for name, runs in (("reqflo", reqflo_runs), ("newman", newman_runs)):
            failed = [r for r in runs if r.returncode != 0]
            if failed:
                raise SystemExit(f"{name} failed:\n{failed[0].output}")
        reqflo_s, reqflo_mb = best(reqflo_runs)
        newman_s, newman_mb = best(newman_runs)
        print(f"rows={args.rows} requests={args.rows * 5} repeat={args.repeat} (median wall time)")
        print(f"reqflo : {reqflo_s:6.2f} s  peak RSS {reqflo_mb:6.1f} MiB")
        print(f"newman : {newman_s:6.2f} s  peak RSS {newman_mb:6.1f} MiB")
        print(f"newman / reqflo = {newman_s / reqflo_s:.1f}x faster (target ≥ 10x)")
        print("reqflo runs:", " ".join(f"{r.seconds:.2f}" for r in reqflo_runs))
        print("newman runs:", " ".join(f"{r.seconds:.2f}" for r in newman_runs))
    finally:
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
