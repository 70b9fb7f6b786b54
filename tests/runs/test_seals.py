"""A finished run's seal: dropped steps, edited facts and recomputed digests are all caught.

The chain covers each step result; the seal covers the run's facts outside it (status, step
counts, head, artifact, inputs, attempts) and is signed with the server's key, so whoever can
write the database but lacks the key cannot recompute a bundle that the server accepts.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.engine.digest import (
    seal_digest,
    seal_facts,
    seal_signature,
    step_digest,
    verify_bundle,
)
from reqflo.runs.models import Run, RunSeal
from reqflo.runs.seals import seal_key
from reqflo.runs.selectors import run_evidence_bundle, verify_run_chain
from tests.api.conftest import ApiClient, TokenFor, token_for
from tests.conftest import ClientAs
from tests.runs.fixtures import MakeScenario, Scenario, Target
from tests.runs.pages import PAGES_JOURNEY, finished_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("slow_heartbeat")]

__all__ = ["token_for"]  # fixtures


@pytest.fixture
def scenario(make_scenario: MakeScenario, target: Target) -> Scenario:
    return make_scenario(PAGES_JOURNEY)


@pytest.fixture
def run(scenario: Scenario) -> Run:
    return finished_run(scenario)


def _rechain(bundle: dict[str, Any]) -> None:
    """Recompute every step digest and the head, as someone with the database could."""
    previous = ""
    for step in bundle["steps"]:
        step["digest"] = step_digest(
            previous,
            run_id=bundle["run"]["id"],
            index=step["index"],
            step_id=step["step_id"],
            status=step["status"],
            evidence=step["evidence"],
        )
        previous = step["digest"]
    bundle["run"]["head_digest"] = previous


def _reseal(bundle: dict[str, Any], key: bytes | None = None) -> None:
    run = bundle["run"]
    digest = seal_digest(
        seal_facts(
            run_id=run["id"],
            status=run["status"],
            step_count=run["step_count"],
            steps=len(bundle["steps"]),
            head=run["head_digest"],
            artifact_id=run["artifact_id"],
            inputs=run["inputs"],
            attempts=run["attempts"],
        )
    )
    bundle["seal"]["digest"] = digest
    if key is not None:
        bundle["seal"]["signature"] = seal_signature(key, digest)


def _drop_last_step(bundle: dict[str, Any]) -> None:
    bundle["steps"].pop()
    _rechain(bundle)


NEW_STORE_KEY = "seal-rotation-new-store-key-" + "k7" * 12

EDITS: dict[str, Callable[[dict[str, Any]], None]] = {
    "status": lambda b: b["run"].update(status="passed"),
    "inputs": lambda b: b["run"]["inputs"].update(user="mallory"),
    "attempts": lambda b: b["run"].update(attempts=3),
    "step count": lambda b: b["run"].update(step_count=2),
    "artifact": lambda b: b["run"].update(artifact_id="art-0000"),
    "dropped trailing step": _drop_last_step,
}


def test_a_finished_run_is_sealed_and_verifies_with_the_servers_key(run: Run) -> None:
    assert RunSeal.objects.filter(run=run).exists()
    check = verify_run_chain(run)
    assert (check.ok, check.signed) == (True, True)
    bundle = run_evidence_bundle(run=run)
    offline = verify_bundle(bundle)
    assert (offline.ok, offline.signed) == (True, False)  # no key offline: not signed


def test_a_store_key_rotation_re_signs_every_seal_that_verified_and_no_other(
    scenario: Scenario, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """After the old key is gone, sealed runs still verify; a forged seal is not laundered."""
    kept, forged = finished_run(scenario), finished_run(scenario)
    forged_signature = "0" * 64
    RunSeal.objects.filter(run=forged).update(signature=forged_signature)
    (tmp_path / "new.key").write_text(NEW_STORE_KEY)
    out = StringIO()
    call_command("rotate_secrets_key", new_key_file=str(tmp_path / "new.key"), stdout=out)
    assert "re-signed 1 run seal(s)." in out.getvalue()
    assert "1 seal(s) did not verify under the old key" in out.getvalue()
    # The old key is dropped (pytest-django's ``settings``; the name is Hypothesis' here).
    request.getfixturevalue("settings").REQFLO_SECRETS_KEY = NEW_STORE_KEY
    check = verify_run_chain(kept)
    assert (check.ok, check.signed) == (True, True)
    assert not verify_run_chain(forged).ok
    assert RunSeal.objects.get(run=forged).signature == forged_signature


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edited_fact_or_a_dropped_step_fails_the_seal(run: Run, edit: str) -> None:
    bundle = run_evidence_bundle(run=run)
    tampered = copy.deepcopy(bundle)
    EDITS[edit](tampered)
    check = verify_bundle(tampered)
    assert not check.ok
    assert "seal" in check.reason


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_recomputed_chain_and_seal_pass_offline_but_not_the_servers_key(
    run: Run, edit: str
) -> None:
    tampered = copy.deepcopy(run_evidence_bundle(run=run))
    EDITS[edit](tampered)
    _rechain(tampered)
    _reseal(tampered)  # digests recomputed; the signature cannot be without the key
    if edit == "status":
        # A passed run must hold every planned step: this one's failed step stays failed.
        assert verify_bundle(tampered).ok
    assert not verify_bundle(tampered, key=seal_key()).ok
    assert "signature" in verify_bundle(tampered, key=seal_key()).reason
    _reseal(tampered, key=b"a guessed key")
    assert not verify_bundle(tampered, key=seal_key()).ok


def test_a_passed_run_missing_steps_fails_even_when_resealed(run: Run) -> None:
    tampered = copy.deepcopy(run_evidence_bundle(run=run))
    tampered["run"]["status"] = "passed"
    _drop_last_step(tampered)
    _reseal(tampered, key=seal_key())  # even with the key, a passed run holds every step
    check = verify_bundle(tampered, key=seal_key())
    assert not check.ok
    assert "holds 2 of its 3 step results" in check.reason


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(["user", "password", "extra"]), value=st.text(max_size=12))
def test_any_change_of_any_input_breaks_the_seal(name: str, value: str) -> None:
    inputs = {"user": "ada", "password": "•••••"}
    changed = {**inputs, name: value}

    def digest(values: dict[str, str]) -> str:
        return seal_digest(
            seal_facts(
                run_id="r",
                status="failed",
                step_count=3,
                steps=3,
                head="h",
                artifact_id="a",
                inputs=values,
                attempts=1,
            )
        )

    assert (digest(inputs) == digest(changed)) == (inputs == changed)


def test_the_page_and_the_api_say_whether_the_stored_run_verifies(
    client_as: ClientAs, run: Run, token_for: TokenFor
) -> None:
    page = client_as("viewer").get(reverse("runs:detail", kwargs={"run_id": run.pk}))
    assert "signed by this server" in page.content.decode()
    api = ApiClient(f"Bearer {token_for('viewer')}")
    assert api.get(f"/runs/{run.pk}/verify").json()["signed"] is True
    # Someone with database access edits the stored status past the immutability trigger.
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # triggers off (superuser)
        try:
            Run.objects.filter(pk=run.pk).update(status="passed")
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
    page = client_as("viewer").get(reverse("runs:detail", kwargs={"run_id": run.pk}))
    html = page.content.decode()
    assert "does not verify" in html
    assert "seal" in html
    out = api.get(f"/runs/{run.pk}/verify").json()
    assert (out["verified"], out["signed"]) == (False, False)
    assert any("do not match its seal" in problem for problem in out["problems"])
    offline = json.loads(
        client_as("viewer").get(reverse("runs:evidence", kwargs={"run_id": run.pk})).content
    )
    assert not verify_bundle(offline).ok
