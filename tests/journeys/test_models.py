from __future__ import annotations

import importlib
import sqlite3
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from reqflo.journeys.models import BuildArtifact, ImmutableRowError, JourneyVersion
from reqflo.journeys.services import build_artifact_for_version


def test_saving_an_existing_version_is_refused_in_python(make_journey: Any) -> None:
    version = make_journey().head
    version.message = "rewritten"
    with pytest.raises(ImmutableRowError):
        version.save()


def test_deleting_a_version_is_refused_in_python(make_journey: Any) -> None:
    with pytest.raises(ImmutableRowError):
        make_journey().head.delete()


def test_queryset_update_of_a_version_fails_at_the_database(make_journey: Any) -> None:
    journey = make_journey()
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        JourneyVersion.objects.filter(journey=journey).update(message="rewritten")
    assert JourneyVersion.objects.get(journey=journey).message == "Created"


def test_raw_sql_update_of_a_version_fails_on_postgresql(make_journey: Any) -> None:
    journey = make_journey()
    assert connection.vendor == "postgresql"  # the production database, not an emulation
    with (
        pytest.raises(IntegrityError, match="journeys_journeyversion rows are immutable: UPDATE"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE journeys_journeyversion SET definition = %s WHERE journey_id = %s",
            ['{"journey": {"name": "forged"}}', journey.pk],
        )
    assert JourneyVersion.objects.get(journey=journey).document == journey.head.document


def test_raw_sql_delete_of_a_version_fails_at_the_database(make_journey: Any) -> None:
    journey = make_journey()
    with (
        pytest.raises(IntegrityError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM journeys_journeyversion")
    assert JourneyVersion.objects.filter(journey=journey).count() == 1


def test_version_numbers_are_unique_per_journey_in_the_database(make_journey: Any) -> None:
    version = make_journey().head
    with pytest.raises(IntegrityError), transaction.atomic():
        JourneyVersion.objects.create(
            journey=version.journey, number=1, definition="{}", digest="x"
        )


def test_build_artifacts_cannot_be_updated_at_the_database(make_journey: Any) -> None:
    artifact = build_artifact_for_version(version=make_journey().head)
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        BuildArtifact.objects.filter(pk=artifact.pk).update(plan="{}")
    artifact.refresh_from_db()
    assert artifact.plan != "{}"


def test_raw_sql_update_of_an_artifact_fails_at_the_database(make_journey: Any) -> None:
    artifact = build_artifact_for_version(version=make_journey().head)
    with (
        pytest.raises(IntegrityError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE journeys_buildartifact SET artifact_id = 'art_forged' WHERE id = %s",
            [artifact.pk],
        )
    artifact.refresh_from_db()
    assert artifact.artifact_id != "art_forged"


@pytest.mark.parametrize("statement", ["UPDATE t SET v = 'x'", "DELETE FROM t"])
def test_the_embedded_sqlite_triggers_reject_changes(statement: str) -> None:
    """The triggers migration 0002 installs on SQLite, applied to a scratch table."""
    migration = importlib.import_module("reqflo.journeys.migrations.0002_immutable_versions")
    database = sqlite3.connect(":memory:")
    database.execute("CREATE TABLE t (v TEXT)")
    database.execute("INSERT INTO t VALUES ('kept')")
    for operation in ("UPDATE", "DELETE"):
        database.execute(migration._sqlite_sql("t", operation))
    with pytest.raises(sqlite3.IntegrityError, match="rows are immutable"):
        database.execute(statement)
    assert database.execute("SELECT v FROM t").fetchall() == [("kept",)]
