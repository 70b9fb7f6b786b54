"""How many rows `reqflo run --parallel N` keeps in flight: as many as pay off, at most N.

Threads help only while runs wait on the network. Against a fast target a run is pure CPU, and
with Python's GIL eight threads on two cores took 1.5x the time of one (issue 17). So the limit
starts at 1 and is tuned per epoch (at least `MIN_EPOCH_RUNS` runs, 2 per slot, and
`MIN_EPOCH_S`) on finished runs per second and on the process's CPU time in the epoch:

- One interpreter finishes at most one run per CPU-second-per-run, however many slots it has,
  so more slots can win at most the epoch's wall time / CPU time (its *headroom*). A probe
  upward (double, at most N) is tried only when the headroom reaches `GAIN`: where the
  interpreter was busy nearly all the epoch, as against a fast local target, nothing is tried.
- A probe upward is kept only when clearly faster (`GAIN`), so noise never ratchets it up; one
  that paid is followed at once by the next, so a 20 ms target climbs 1, 2, 4, 8 in 4 epochs.
- A level above 1 without headroom probes downward (half), kept when at least as fast, so a
  target that became fast gets fewer slots; one that paid is followed at once by the next.
- A level looks again `HOLD_EPOCHS` epochs after its last probe. Each probe that did not pay
  doubles that wait (at most `MAX_HOLD_EPOCHS`); once the level's rate has moved by `RESET`
  either way it looks again at once. A target that waits but serves one request at a time thus
  costs ever fewer probes, and one that changes speed is looked at again.
- The first run is not measured: it pays one-time costs (imports, connections, caches), and
  against a fast target it made the first epoch 5x slower than the rest and a probe at 2 rows
  look like a win that was kept for the whole run (issue 17: `--parallel 8` 1.08x the time).

`--parallel N` remains a hard bound (DESIGN.md section 8: it "bounds local concurrency").
`REQFLO_DEBUG_PARALLEL=1` logs every epoch and decision to stderr. Measured by
`bench/parallel.py` (docs/benchmarks.md).
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping

MIN_EPOCH_RUNS = 2
MIN_EPOCH_S = 0.1
# A probe upward must finish runs this much faster to be kept; and the epoch before it must have
# had this much headroom (wall time / CPU time) for a probe to be worth trying.
GAIN = 1.2
HOLD_EPOCHS = 16
MAX_HOLD_EPOCHS = 16 * HOLD_EPOCHS
# A level's rate moving this much (either way) since a probe failed ends the back-off.
RESET = 1.5

Log = Callable[[str], None]


def debug_log(environ: Mapping[str, str] = os.environ) -> Log | None:
    """Return a logger to stderr when `REQFLO_DEBUG_PARALLEL` is set (not empty or 0), else None."""
    if environ.get("REQFLO_DEBUG_PARALLEL", "") in ("", "0"):
        return None
    return lambda line: print(f"reqflo parallel: {line}", file=sys.stderr, flush=True)


class AdaptiveLimit:
    """A counting gate whose limit follows the throughput it measures; thread-safe.

    `enter()` blocks until fewer than `limit` runs are in flight; `leave()` ends one and may move
    the limit. `clock` returns wall seconds (monotonic), `cpu_clock` the process's CPU seconds
    (all threads, user + system); tests pass simulated ones. `log` receives one line per epoch.
    `levels` lists every limit in force so far and `probes` counts the levels tried, for tests
    and the bench.
    """

    def __init__(
        self,
        bound: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        cpu_clock: Callable[[], float] = time.process_time,
        log: Log | None = None,
    ) -> None:
        self.bound = bound
        self.limit = 1
        self.in_flight = 0
        self.levels: list[int] = [1]
        self.probes = 0
        self._clock = clock
        self._cpu_clock = cpu_clock
        self._log = log
        self._origin = clock()
        self._changed = threading.Condition()
        self._settled_rate = 0.0  # runs/s of the level in force (the reference during a probe)
        self._settled_limit = 1
        self._probing = False
        self._hold = HOLD_EPOCHS  # epochs between looks at this level, doubled by failed probes
        self._held = HOLD_EPOCHS  # epochs since the last look: the first epoch may probe
        self._failed_rate: float | None = None  # the level's rate when a probe last failed
        self._started: float | None = None  # None until the first (warm-up) run has ended
        self._cpu_started = 0.0
        self._finished = 0

    def enter(self, stop: Callable[[], bool] = lambda: False) -> bool:
        """Wait for a free slot and take it; return False instead once `stop()` is true."""
        with self._changed:
            while self.in_flight >= self.limit:
                if stop():
                    return False
                # A timeout keeps Ctrl-C and `stop` responsive while waiting.
                self._changed.wait(0.05)
            self.in_flight += 1
            return True

    def leave(self) -> None:
        """End one run and, at the end of an epoch, tune the limit."""
        with self._changed:
            self.in_flight -= 1
            if self._started is None:
                self._start_epoch()  # the warm-up run is over: measure from here
            else:
                self._finished += 1
                elapsed = self._clock() - self._started
                if self._finished >= max(MIN_EPOCH_RUNS, 2 * self.limit) and elapsed >= MIN_EPOCH_S:
                    self._decide(elapsed, self._cpu_clock() - self._cpu_started)
                    self._start_epoch()
            self._changed.notify_all()

    def _decide(self, wall: float, cpu: float) -> None:
        """Move the limit after an epoch of `wall` seconds that used `cpu` seconds of CPU."""
        rate = self._finished / wall
        headroom = wall / cpu if cpu > 0 else math.inf
        before = self.limit
        action = self._judge_probe(rate, headroom) if self._probing else self._look(rate, headroom)
        if self._log is not None:
            self._log(
                f"{self._clock() - self._origin:7.3f} s  limit {before}: {self._finished} runs in "
                f"{wall:.3f} s = {rate:.1f}/s, CPU {cpu / wall:.0%} of wall (headroom "
                f"{headroom:.2f}x): {action}"
            )

    def _judge_probe(self, rate: float, headroom: float) -> str:
        gain = rate / self._settled_rate
        upward = self.limit > self._settled_limit
        if gain < (GAIN if upward else 1.0):
            self._probing = False
            self._failed_rate = self._settled_rate
            self._hold = min(MAX_HOLD_EPOCHS, self._hold * 2)
            self._held = 0
            self._set(self._settled_limit)
            return f"{gain:.2f}x, back to {self.limit}; next look in {self._hold} epochs"
        self._probing = False
        self._settled_rate, self._settled_limit = rate, self.limit
        self._hold, self._failed_rate = HOLD_EPOCHS, None
        self._held = 0
        kept = f"{gain:.2f}x, keep {self.limit}"
        target = self._next_level(headroom)
        if target is not None and (target > self.limit) == upward:
            return f"{kept}; {self._probe(target, rate)}"
        return kept

    def _look(self, rate: float, headroom: float) -> str:
        self._held += 1
        if self._failed_rate is not None and max(rate, self._failed_rate) >= RESET * min(
            rate, self._failed_rate
        ):
            # The target changed since the probe failed: look again now.
            self._hold, self._held, self._failed_rate = HOLD_EPOCHS, HOLD_EPOCHS, None
        self._settled_rate = rate  # keep the reference fresh: the target's speed may drift
        if self._held < self._hold:
            return f"hold ({self._hold - self._held} epochs to the next look)"
        target = self._next_level(headroom)
        if target is None:
            return "hold (nothing worth trying)"
        return self._probe(target, rate)

    def _next_level(self, headroom: float) -> int | None:
        """The level worth trying after an epoch with this headroom, or None."""
        if headroom >= GAIN:
            return min(self.bound, self.limit * 2) if self.limit < self.bound else None
        return max(1, self.limit // 2) if self.limit > 1 else None

    def _probe(self, target: int, rate: float) -> str:
        self._probing = True
        self._settled_rate, self._settled_limit = rate, self.limit
        self.probes += 1
        self._set(target)
        return f"probe {target}"

    def _set(self, limit: int) -> None:
        if limit != self.limit:
            self.limit = limit
            self.levels.append(limit)

    def _start_epoch(self) -> None:
        self._started = self._clock()
        self._cpu_started = self._cpu_clock()
        self._finished = 0
