"""The self-hosted runner's retry waits: exponential, capped, jittered (never in lockstep)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reqflo.cli.runner import BACKOFF_FIRST, BACKOFF_MOST, backoff


@given(st.integers(min_value=0, max_value=10_000))
def test_each_wait_is_between_half_and_all_of_its_capped_ceiling_even_after_hours(
    failures: int,
) -> None:
    ceiling = (
        BACKOFF_MOST
        if failures > 30
        else min(BACKOFF_MOST, BACKOFF_FIRST * 2 ** max(0, failures - 1))
    )

    wait = backoff(failures)

    assert ceiling / 2 <= wait <= ceiling


def test_waits_are_jittered() -> None:
    assert len({round(backoff(6), 6) for _ in range(20)}) > 1
