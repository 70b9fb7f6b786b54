"""A schedule's data file keeps exact numbers (issue 13, "numbers pass through float").

A JSON data file's `100.10` or 22-digit decimal is stored in the schedule's rows as that
number (not a float, not a string), and each tick's runs get it as their number input.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from reqflo.engine import numbers
from reqflo.runs.models import Run
from reqflo.schedules.models import Schedule, Tick
from reqflo.schedules.ticks import schedules_tick
from tests.conftest import ClientAs
from tests.runs.fixtures import MakeScenario
from tests.schedules.helpers import schedule_form

pytestmark = pytest.mark.django_db

PRICED: dict[str, Any] = {
    "journey": {
        "name": "Priced",
        "inputs": [{"name": "n", "type": "number", "required": True}],
        "steps": [
            {
                "id": "echo",
                "request": {"method": "GET", "url": "{{ env.base_url }}/echo"},
                "assertions": [{"type": "status_code", "expected": 200}],
            }
        ],
    }
}

NUMBERS = ["100.10", "1234567890123456789012.5", "0.1000000000000000055511151231257827", "1e400"]


def test_a_json_data_files_exact_numbers_reach_the_stored_rows_and_the_runs(
    client_as: ClientAs, make_scenario: MakeScenario
) -> None:
    scenario = make_scenario(PRICED)
    rows = "[" + ", ".join(f'{{"n": {n}}}' for n in NUMBERS) + "]"
    upload = SimpleUploadedFile("rows.json", rows.encode(), content_type="application/json")
    created = client_as("editor").post(
        reverse("schedules:create"), schedule_form(scenario, data_file=upload)
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    schedule = Schedule.objects.get()
    with connection.cursor() as cursor:
        sql = "SELECT data_rows::text FROM schedules_schedule WHERE id = %s"
        cursor.execute(sql, [schedule.pk])
        stored = cursor.fetchone()[0]
    for number in NUMBERS:
        assert f'"n":{number}' in stored, stored
    assert [numbers.text(row["n"]) for row in schedule.data_rows or []] == NUMBERS

    schedules_tick(timezone.now())
    tick = Tick.objects.get(schedule=schedule)
    runs = Run.objects.filter(batch_id=tick.batch_id).order_by("batch_row")
    got = [run.inputs["n"] for run in runs]
    assert all(numbers.is_number(n) for n in got), got
    assert [numbers.text(n) for n in got] == NUMBERS
