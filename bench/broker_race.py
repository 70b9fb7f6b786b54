"""Race publishers against a consumer on kombu's filesystem transport and on Reqflo's.

Each round forks ``--publishers`` processes that publish ``--messages`` messages each (200 kB
bodies, which widen the window a non-atomic writer leaves open) while this process consumes them
through kombu's ``SimpleQueue``, as gunicorn, beat and the worker share the embedded broker. A
round counts messages that arrived whole, ones that arrived cut short, ones lost, duplicates, and
whether the consumer crashed (the stock transport raises ``JSONDecodeError`` out of ``get``,
which is what kills a Celery worker). Run from the repository root:

    .venv/bin/python -m bench.broker_race [--rounds 10]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import queue as queue_module
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from kombu import Connection, Exchange, Queue  # noqa: E402  (after the path set-up above)

from reqflo import broker  # noqa: E402

PADDING = "x" * 200_000
TRANSPORTS = {"kombu filesystem": "filesystem", "reqflo-fs": broker.SCHEME}


@dataclass(frozen=True)
class RaceResult:
    """One round: what the consumer got, and the error that stopped it, if any."""

    whole: int
    cut_short: int
    lost: int
    duplicates: int
    crash: str | None


def connection(scheme: str, root: Path) -> Connection:
    broker.register()
    return Connection(
        f"{scheme}://localhost//",
        transport_options={**broker.broker_folders(root), "polling_interval": 0.01},
    )


def _queue() -> Queue:
    return Queue("race", Exchange("race"), routing_key="race")


def _publish(scheme: str, root: str, publisher: int, count: int, start: Any) -> None:
    start.wait()
    with connection(scheme, Path(root)) as conn:
        producer = conn.Producer(serializer="json")
        for seq in range(count):
            producer.publish(
                {"publisher": publisher, "seq": seq, "padding": PADDING},
                routing_key="race",
                declare=[_queue()],
            )


def race(*, scheme: str, root: Path, publishers: int, messages: int) -> RaceResult:
    """Run one round on the transport named ``scheme`` in the broker folder ``root``."""
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    procs = [
        ctx.Process(target=_publish, args=(scheme, str(root), n, messages, start))
        for n in range(publishers)
    ]
    for proc in procs:
        proc.start()
    seen: Counter[tuple[int, int]] = Counter()
    cut_short = 0
    crash = None
    expected = publishers * messages
    with connection(scheme, root) as conn:
        consumer = conn.SimpleQueue(_queue())
        start.set()
        try:
            while sum(seen.values()) + cut_short < expected:
                message = consumer.get(timeout=20)
                body = message.payload
                message.ack()
                if body.get("padding") != PADDING:
                    cut_short += 1
                    continue
                seen[(body["publisher"], body["seq"])] += 1
        except queue_module.Empty:
            pass  # nothing more came: the rest was lost
        except Exception as exc:  # the consumer died, as the Celery worker would
            crash = f"{type(exc).__name__}: {exc}"
        with contextlib.suppress(Exception):
            consumer.close()
    for proc in procs:
        proc.join(timeout=60)
    return RaceResult(
        whole=len(seen),
        cut_short=cut_short,
        lost=expected - len(seen) - cut_short if crash is None else expected - len(seen),
        duplicates=sum(n - 1 for n in seen.values()),
        crash=crash,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--publishers", type=int, default=3)
    parser.add_argument("--messages", type=int, default=150, help="per publisher and round")
    args = parser.parse_args()
    print(f"{args.rounds} rounds x {args.publishers} publishers x {args.messages} messages")
    print(f"{'transport':18} {'crashed rounds':>15} {'whole':>8} {'lost':>6} {'dupes':>6}")
    for label, scheme in TRANSPORTS.items():
        results = []
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as folder:
                results.append(
                    race(
                        scheme=scheme,
                        root=Path(folder),
                        publishers=args.publishers,
                        messages=args.messages,
                    )
                )
        crashed = sum(r.crash is not None for r in results)
        print(
            f"{label:18} {crashed:>9} of {args.rounds:<3} {sum(r.whole for r in results):>8} "
            f"{sum(r.lost for r in results):>6} {sum(r.duplicates for r in results):>6}"
        )
        for crash in sorted({r.crash for r in results if r.crash})[:3]:
            print(f"    {crash[:110]}")


if __name__ == "__main__":
    main()
