"""Bounded execution: rows are read only a small window ahead, results come in row order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reqflo.cli.execute import Job, RunContext, execute
from reqflo.engine import compile_definition, load_definition
from tests.cli.conftest import EchoServer

JOURNEY = """
journey:
  name: Sleep
  inputs: [{name: ms, type: integer}]
  steps:
    - id: wait
      request: {method: GET, url: "{{ env.base_url }}/sleep", query: {sleep_ms: "{{ inputs.ms }}"}}
      assertions: [{type: status_code, expected: 200}]
"""


def context(echo: EchoServer) -> RunContext:
    artifact = compile_definition(load_definition(JOURNEY))
    return RunContext(
        artifact=artifact,
        environment={"base_url": echo.url},
        environment_name=None,
        secrets={},
    )


def test_rows_are_read_only_a_bounded_window_ahead(echo: EchoServer) -> None:
    pulled = 0

    def jobs() -> Iterator[Job]:
        nonlocal pulled
        for index in range(24):
            pulled += 1
            yield Job(index=index, inputs={"ms": 5}, label=f"r{index}")

    ahead = []
    labels = []
    for done, result in enumerate(execute(context(echo), jobs(), parallel=3), start=1):
        ahead.append(pulled - done)
        labels.append(result.label)

    assert labels == [f"r{i}" for i in range(24)]
    assert max(ahead) <= 2 * 3
    assert echo.max_in_flight <= 3


COOKIE_JOURNEY = """
journey:
  name: Cookies
  steps:
    - id: first
      request: {method: GET, url: "{{ env.base_url }}/a", query: {set_cookie: "{{ run.id }}"}}
      assertions: [{type: json_path, path: $.headers.Cookie, operator: not_exists}]
    - id: second
      request: {method: GET, url: "{{ env.base_url }}/b"}
      assertions: [{type: json_path, path: $.headers.Cookie, operator: exists}]
"""


@pytest.mark.parametrize("parallel", [1, 3])
def test_runs_keep_their_own_cookies_over_shared_connections(
    echo: EchoServer, parallel: int
) -> None:
    shared = RunContext(
        artifact=compile_definition(load_definition(COOKIE_JOURNEY)),
        environment={"base_url": echo.url},
        environment_name=None,
        secrets={},
    )
    jobs = (Job(index=i, inputs={}, label=None) for i in range(12))

    results = list(execute(shared, jobs, parallel=parallel))

    # A run's second step sends the cookie its first step got; the next run starts without it,
    # although each worker thread reuses one client for all the runs it executes.
    assert [r.status for r in results] == ["passed"] * 12, results[0].steps
    assert len(echo.peers) <= parallel  # kept-alive connections served all 24 requests
