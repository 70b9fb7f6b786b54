"""The shared factories make rows the way the app does: through its services and leases."""

from __future__ import annotations

import pytest

from reqflo.runs.models import RunStatus
from tests.factories import (
    JourneyFactory,
    JourneyVersionFactory,
    RunFactory,
    StepResultFactory,
    journey_document,
)

pytestmark = pytest.mark.django_db


def test_a_journey_comes_with_its_first_version() -> None:
    journey = JourneyFactory(document=journey_document("Orders", steps=3))
    assert (journey.slug, journey.head_number) == ("orders", 1)
    assert len(journey.head.document["journey"]["steps"]) == 3


def test_a_version_is_the_next_one_of_its_journey() -> None:
    version = JourneyVersionFactory(message="tweak")
    assert (version.number, version.message) == (2, "tweak")
    assert version.journey.head == version


def test_a_run_can_be_queued_or_finished_with_its_evidence() -> None:
    queued = RunFactory()
    assert queued.status == RunStatus.QUEUED
    done = RunFactory(status=RunStatus.FAILED, steps=("passed", "failed"))
    assert (done.status, done.next_step) == (RunStatus.FAILED, 2)
    assert [r.status for r in done.step_results.order_by("index")] == ["passed", "failed"]


def test_step_results_follow_each_other_on_a_running_run() -> None:
    first = StepResultFactory()
    second = StepResultFactory(run=first.run, status="failed")
    assert (first.index, second.index, second.status) == (0, 1, "failed")
    assert second.evidence["step_id"] == "s2"
