from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reqflo.engine import (
    COMPILER_VERSION,
    Artifact,
    DefinitionError,
    compile_definition,
    load_definition,
    run_artifact,
)
from tests.engine.conftest import Target

JOURNEY = textwrap.dedent(
    """
    journey:
      name: Checkout flow
      tags: [smoke]
      inputs:
        - {name: email, required: true}
        - {name: password, required: true, secret: true}
      variables:
        - {name: auth, value: "Bearer {{ steps.login.outputs.token }}"}
      steps:
        - id: login
          request:
            method: POST
            url: "{{ env.base_url }}/login"
            headers: {X-Api-Key: "{{ secrets.api_key }}"}
            json: {email: "{{ inputs.email }}", password: "{{ inputs.password }}"}
          assertions:
            - {type: status_code, expected: 200}
          outputs:
            token: {from: body, path: $.token, secret: true}
        - id: who
          request:
            method: GET
            url: "{{ env.base_url }}/whoami?run={{ run.id }}"
            headers: {Authorization: "{{ variables.auth }}"}
          assertions:
            - {type: json_path, path: $.authorization, operator: contains, expected: Bearer}
    """
)

COMPUTE_ID = (
    "import sys; from reqflo.engine import compile_definition, load_definition; "
    "print(compile_definition(load_definition(open(sys.argv[1]).read())).id)"
)


def test_artifact_id_is_sha256_prefix_of_canonical_json() -> None:
    artifact = compile_definition(load_definition(JOURNEY))

    assert re.fullmatch(r"art_[0-9a-f]{16}", artifact.id)
    assert artifact.plan["compiler_version"] == COMPILER_VERSION
    assert artifact.to_json() == json.dumps(
        artifact.plan, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def test_compiling_is_deterministic_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "journey.yaml"
    path.write_text(JOURNEY)
    local_id = compile_definition(load_definition(JOURNEY)).id

    ids = {
        subprocess.run(
            [sys.executable, "-c", COMPUTE_ID, str(path)],
            capture_output=True,
            text=True,
            check=True,
            # Different hash seeds: set and dict ordering must not leak into the artifact.
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
        ).stdout.strip()
        for seed in ("1", "2")
    }

    assert ids == {local_id}


# Pinned ids: the same definition must give the same id on every machine and Python build. If
# this fails after a deliberate change of the plan's shape, bump COMPILER_VERSION with it.
PINNED = {1: ("art_33827300c92c29c9", "art_8fcb1fb206b65c66")}


def test_artifact_id_is_the_same_on_every_machine() -> None:
    plain = compile_definition(load_definition(JOURNEY)).id
    accented = compile_definition(
        load_definition(JOURNEY.replace("Checkout flow", "Caisse · café"))
    ).id

    assert (plain, accented) == PINNED[COMPILER_VERSION]


def test_any_change_gives_a_new_artifact() -> None:
    original = compile_definition(load_definition(JOURNEY)).id
    changed = compile_definition(
        load_definition(JOURNEY.replace("expected: 200", "expected: 201"))
    ).id

    assert changed != original


def test_references_are_classified_by_kind() -> None:
    plan = compile_definition(load_definition(JOURNEY)).plan

    login, who = plan["steps"]
    assert {(r["kind"], r["ref"], r["at"]) for r in login["references"]} == {
        ("env", "env.base_url", "request.url"),
        ("secret", "secrets.api_key", "request.headers.X-Api-Key"),
        ("input", "inputs.email", "request.json.email"),
        ("input", "inputs.password", "request.json.password"),
    }
    assert {(r["kind"], r["ref"]) for r in who["references"]} == {
        ("env", "env.base_url"),
        ("run", "run.id"),
        ("variable", "variables.auth"),
    }
    [auth] = plan["variables"]
    assert auth["references"] == [
        {
            "kind": "step",
            "ref": "steps.login.outputs.token",
            "step": "login",
            "field": "outputs",
            "path": ["token"],
            "at": "value",
        }
    ]


def test_artifact_round_trips_through_json() -> None:
    artifact = compile_definition(load_definition(JOURNEY))

    again = Artifact.from_json(artifact.to_json())

    assert again.id == artifact.id
    assert again.plan == artifact.plan


def test_compiling_refuses_definitions_with_run_check_errors() -> None:
    broken = JOURNEY.replace("inputs.email", "inputs.emial")

    with pytest.raises(DefinitionError) as caught:
        compile_definition(load_definition(broken))

    assert [issue.code for issue in caught.value.issues] == ["unknown_reference"]


def test_artifact_holds_no_secret_value_or_run_input_even_after_a_run(target: Target) -> None:
    artifact = compile_definition(load_definition(JOURNEY))
    before = artifact.to_json()

    result = run_artifact(
        artifact,
        inputs={"email": "runner@example.com", "password": "pw-Zebra-9931"},
        environment={"base_url": target.base_url},
        secrets={"api_key": "sk-live-Quokka-5521"},
    )

    assert result.passed, result.to_dict()
    text = artifact.to_json()
    assert text == before
    for value in ("sk-live-Quokka-5521", "pw-Zebra-9931", "runner@example.com", "tok-pw-"):
        assert value not in text
    assert "secrets.api_key" in text
