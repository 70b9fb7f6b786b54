"""The evidence of the three examples, to compare two trees of the engine field for field.

Runs examples/checkout.yaml, abandoned-cart.yaml and products.yaml, 12 data rows each (passing
rows and rows that fail at the login, at adding an item, with non-ASCII text), through
`reqflo.cli.execute` (the code behind `reqflo run --data`) against the demo shop in process
(bench.engine_vs_httpx's transport). The shop's tokens and ids are drawn from a seeded generator
and each run gets a fixed run id, so two runs of the same engine give the same evidence apart
from the times, which are replaced by "<time>": timestamps, durations, `elapsed_ms` and the
actual value of a `response_time` assertion.

    PYTHONPATH=$PWD .venv/bin/python -m bench.engine_results --out /tmp/after.json
    PYTHONPATH=$PWD .venv/bin/python -m bench.engine_results --baseline /tmp/base

`--baseline DIR` runs this same script with DIR's engine (DIR on PYTHONPATH, as the working
directory), runs it here, and prints every field that differs; it exits 1 when one does.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

TIME_KEYS = frozenset({"started_at", "finished_at", "duration_ms", "elapsed_ms"})
TIME = "<time>"

CHECKOUT_ROWS: list[dict[str, Any]] = [
    {"email": "ada@example.com", "sku": "tea-01", "quantity": 1},
    {"email": "grace@example.com", "sku": "mug-02", "quantity": 2},
    {"email": "edsger@example.com", "sku": "pot-03", "quantity": 1},
    {"email": "barbara@example.com", "sku": "tea-01", "quantity": 12},
    {"email": "jürgen@exämple.com", "sku": "mug-02", "quantity": 3},  # non-ASCII text
    {"email": "nope@example.com", "sku": "nope-99", "quantity": 1},  # 422: unknown sku
    {"email": "zero@example.com", "sku": "tea-01", "quantity": 0},  # 422: bad quantity
    {"email": "", "sku": "tea-01", "quantity": 1},  # 401: the login fails
    {"email": "pw@example.com", "sku": "pot-03", "quantity": 1, "password": ""},  # 401
    {"email": "dm0-Qv8x-R2kp@example.com", "sku": "tea-01", "quantity": 1},  # the secret inside
    {"email": "many@example.com", "sku": "pot-03", "quantity": 99},
    {"email": "last@example.com", "sku": "mug-02", "quantity": 4},
]
CART_EMAILS = [
    "shopper@example.com",
    "a@example.com",
    "",  # 401: the login fails, the cleanup step still runs (and cannot build its URL)
    "ünï@example.com",
    "correct horse@example.com",  # the secret inside
    *(f"user{i}@example.com" for i in range(7)),
]
SECRETS = {"shop_password": "correct horse"}


def _seed_shop() -> None:
    """Make the shop's tokens and ids the same in every run of this script."""
    import tests.cli.demo_shop_server as shop

    draw = random.Random(17)

    class Seeded:
        @staticmethod
        def token_hex(nbytes: int) -> str:
            return draw.randbytes(nbytes).hex()

    shop.secrets = Seeded  # type: ignore[assignment]


def _runs(name: str, rows: list[dict[str, Any]], secrets: dict[str, str]) -> list[Any]:
    from bench.engine_vs_httpx import InProcessShop
    from reqflo.cli.execute import Job, RunContext, execute
    from reqflo.engine import compile_definition, load_definition, merge_inputs
    from tests.cli.demo_shop_server import API_PREFIX

    repo = Path(__file__).resolve().parents[1]
    definition = load_definition((repo / "examples" / name).read_text())
    context = RunContext(
        artifact=compile_definition(definition),
        environment={"base_url": "http://shop.test" + API_PREFIX},
        environment_name="demo",
        secrets=secrets,
    )
    jobs = (
        Job(
            index=index,
            inputs=merge_inputs(definition, row=row),
            label=f"row {index}",
            row=index + 1,
            run_id=f"run_{name}_{index}",
        )
        for index, row in enumerate(rows)
    )
    return [r.to_dict() for r in execute(context, jobs, parallel=1, transport=InProcessShop())]


def _timeless(data: Any) -> Any:
    if isinstance(data, dict):
        out = {k: TIME if k in TIME_KEYS else _timeless(v) for k, v in data.items()}
        if data.get("type") == "response_time" and data.get("actual") is not None:
            out["actual"] = TIME
        return out
    if isinstance(data, list):
        return [_timeless(item) for item in data]
    return data


def evidence() -> dict[str, Any]:
    """Return the time-free evidence of every run, by example."""
    _seed_shop()
    return _timeless(
        {
            "checkout.yaml": _runs("checkout.yaml", CHECKOUT_ROWS, {}),
            "abandoned-cart.yaml": _runs(
                "abandoned-cart.yaml", [{"email": e} for e in CART_EMAILS], SECRETS
            ),
            "products.yaml": _runs("products.yaml", [{}] * 12, {}),
        }
    )


def differences(before: Any, after: Any, where: str = "") -> list[str]:
    """Return where two evidence trees differ, e.g. "checkout.yaml[3].steps[1].status: ..."."""
    if type(before) is not type(after):
        return [f"{where}: {before!r} != {after!r}"]
    if isinstance(before, dict):
        found = []
        for key in sorted(set(before) | set(after)):
            if key not in before or key not in after:
                found.append(f"{where}.{key}: only in {'after' if key in after else 'before'}")
            else:
                found += differences(before[key], after[key], f"{where}.{key}")
        return found
    if isinstance(before, list):
        if len(before) != len(after):
            return [f"{where}: {len(before)} items != {len(after)}"]
        pairs = enumerate(zip(before, after, strict=True))
        return [d for i, (b, a) in pairs for d in differences(b, a, f"{where}[{i}]")]
    return [] if before == after else [f"{where}: {before!r} != {after!r}"]


def _count(data: Any, what: str) -> int:
    if isinstance(data, dict):
        return sum(_count(v, what) for v in data.values())
    if isinstance(data, list):
        return sum(_count(v, what) for v in data)
    return int(isinstance(data, str) and what in data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, help="write the evidence as JSON here")
    parser.add_argument("--baseline", type=Path, help="compare with this tree's engine")
    args = parser.parse_args()
    after = evidence()
    if args.out:
        args.out.write_text(json.dumps(after, indent=1, ensure_ascii=False, sort_keys=True))
    if args.baseline is None:
        return
    code = f"import runpy; runpy.run_path({str(Path(__file__).resolve())!r}, run_name='__main__')"
    out = Path(f"/tmp/engine_results_{os.getpid()}.json")
    env = {**os.environ, "PYTHONPATH": str(args.baseline.resolve())}
    subprocess.run(
        [sys.executable, "-c", code, "--out", str(out)],
        cwd=args.baseline,
        env=env,
        check=True,
    )
    before = json.loads(out.read_text())
    out.unlink()
    after = json.loads(json.dumps(after))  # the same JSON round trip as `before`
    found = differences(before, after)
    runs = sum(len(v) for v in after.values())
    steps = sum(len(r["steps"]) for v in after.values() for r in v)
    masks = _count(after, "•••••")
    print(f"{runs} runs, {steps} steps, {masks} strings holding a mask: ", end="")
    if found:
        print(f"{len(found)} differences")
        print("\n".join(found[:50]))
        raise SystemExit(1)
    print("identical apart from the times")


if __name__ == "__main__":
    main()
