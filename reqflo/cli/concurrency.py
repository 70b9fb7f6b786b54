"""How many rows `reqflo run --parallel N` keeps in flight: as many as pay off, at most N.

Threads help only while runs wait on the network. Against a fast target a run is pure CPU, and
with Python's GIL eight threads on two cores took 1.5x the time of one (issue 17). So the limit
starts at 1 and is tuned on the one thing that matters, finished runs per second:

- every epoch (at least `MIN_EPOCH_RUNS` runs, 2 per slot, and `MIN_EPOCH_S`) measures it;
- after a settled epoch the limit probes the next level, double the current one (at most N);
  the probe is kept only if it is clearly faster (`GAIN`), so noise never ratchets it up;
- a kept level is probed again after `HOLD_EPOCHS` epochs, upwards while below N, and at N
  downwards (half), kept when at least as fast, so a target that became fast is noticed.

A 20 ms target therefore climbs 1, 2, 4, 8 in four short epochs; a local target that answers
in microseconds pays for one short probe at 2 every `HOLD_EPOCHS` epochs and otherwise runs as
`--parallel 1` does. `--parallel N` remains a hard bound (DESIGN.md section 8: it "bounds local
concurrency"). Measured by `bench/parallel.py` (docs/benchmarks.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MIN_EPOCH_RUNS = 2
MIN_EPOCH_S = 0.1
# A probe must finish runs this much faster to be kept.
GAIN = 1.2
HOLD_EPOCHS = 16


class AdaptiveLimit:
    """A counting gate whose limit follows the throughput it measures; thread-safe.

    `enter()` blocks until fewer than `limit` runs are in flight; `leave()` ends one and may move
    the limit. `clock` returns seconds (monotonic); tests pass their own.
    """

    def __init__(self, bound: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.bound = bound
        self.limit = 1
        self.in_flight = 0
        self.levels: list[int] = [1]  # every limit in force so far, for tests and the bench
        self._clock = clock
        self._changed = threading.Condition()
        self._settled: float | None = None  # runs/s of the level in force before a probe
        self._settled_limit = 1
        self._probing = False
        self._held = 0
        self._start_epoch()

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
            self._finished += 1
            elapsed = self._clock() - self._started
            if self._finished >= max(MIN_EPOCH_RUNS, 2 * self.limit) and elapsed >= MIN_EPOCH_S:
                self._decide(self._finished / elapsed)
            self._changed.notify_all()

    def _decide(self, rate: float) -> None:
        if self._probing:
            settled = self._settled or rate
            probe_up = self.limit > self._settled_limit
            better = rate >= settled * GAIN if probe_up else rate >= settled
            if better:
                self._settle(self.limit, rate)
            else:
                self._settle(self._settled_limit, settled)
        elif self._settled is None or self._held >= HOLD_EPOCHS:
            self._settled, self._settled_limit = rate, self.limit
            self._probe()
        else:
            self._held += 1
            # Keep the reference fresh: the target's speed may drift.
            self._settled = rate
        self._start_epoch()

    def _probe(self) -> None:
        if self.limit < self.bound:
            target = min(self.bound, self.limit * 2)
        elif self.limit > 1:
            target = max(1, self.limit // 2)
        else:
            self._held = 0  # --parallel 1: nothing to try
            return
        self._probing = True
        self._set(target)

    def _settle(self, limit: int, rate: float) -> None:
        climbing = limit > self._settled_limit and limit < self.bound
        self._probing = False
        self._settled, self._settled_limit = rate, limit
        self._set(limit)
        # A level that just paid off tries the next one at once; otherwise wait a while.
        self._held = HOLD_EPOCHS if climbing else 0

    def _set(self, limit: int) -> None:
        if limit != self.limit:
            self.limit = limit
            self.levels.append(limit)

    def _start_epoch(self) -> None:
        self._started = self._clock()
        self._finished = 0
