"""Server-mode pieces of the CLI that need no server: bundle verification and where it connects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.cli.server import ServerConfig, credentials_path, save_credentials
from reqflo.engine.digest import GENESIS, seal_digest, seal_facts, seal_signature, step_digest
from tests.cli.conftest import run_in_process

TOKEN = "rqf_" + "k" * 43


def _bundle(statuses: list[str]) -> dict[str, Any]:
    run_id, previous, steps = "9d7c5a0e-0000-4000-8000-000000000001", GENESIS, []
    for index, status in enumerate(statuses):
        evidence = {"index": index, "status": status, "note": f"step {index}"}
        digest = step_digest(
            previous, run_id=run_id, index=index, step_id=f"s{index}", status=status,
            evidence=evidence,
        )  # fmt: skip
        steps.append(
            {"index": index, "step_id": f"s{index}", "status": status, "evidence": evidence,
             "digest": digest}
        )  # fmt: skip
        previous = digest
    run = {
        "id": run_id,
        "status": "passed",
        "step_count": len(steps),
        "head_digest": previous,
        "artifact_id": "art-1",
        "inputs": {"user": "ada"},
        "attempts": 1,
    }
    facts = seal_facts(
        run_id=run_id,
        status="passed",
        step_count=len(steps),
        steps=len(steps),
        head=previous,
        artifact_id="art-1",
        inputs={"user": "ada"},
        attempts=1,
    )
    # Signed with some server's key: a bundle file is checked offline, without it.
    digest = seal_digest(facts)
    seal = {"digest": digest, "signature": seal_signature(b"server key", digest)}
    return {"format": "reqflo-evidence/1", "run": run, "steps": steps, "seal": seal}


def test_verify_accepts_an_intact_bundle_file(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_bundle(["passed", "passed", "failed"])))
    result = run_in_process("runs", "verify", path)
    assert result.code == 0, result.stderr
    assert "verifies (3 step results" in result.stdout
    assert "its facts match the seal (its signature is checked only by the server" in result.stdout


def test_verify_of_a_bundle_file_with_an_edited_fact_fails(tmp_path: Path) -> None:
    bundle = _bundle(["passed", "passed", "passed"])
    bundle["run"]["inputs"]["user"] = "mallory"
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    result = run_in_process("runs", "verify", path)
    assert result.code == 1
    assert "do not match its seal" in result.stdout


@given(st.integers(min_value=0, max_value=2))
@settings(max_examples=3, deadline=None)
def test_verify_names_the_first_changed_step(changed: int) -> None:
    import tempfile

    bundle = _bundle(["passed", "passed", "passed"])
    bundle["steps"][changed]["evidence"]["note"] = "edited afterwards"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bundle.json"
        path.write_text(json.dumps(bundle))
        result = run_in_process("runs", "verify", path)
    assert result.code == 1
    assert f"broken at step result {changed}" in result.stdout


def test_verify_of_an_unreadable_bundle_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text("{not json")
    result = run_in_process("runs", "verify", path)
    assert result.code == 2
    assert "cannot read the evidence bundle" in result.stderr


def test_the_variables_win_over_the_stored_login(tmp_path: Path) -> None:
    environ = {"HOME": str(tmp_path)}
    save_credentials(environ, url="http://saved.example", token=TOKEN)
    assert credentials_path(environ) == tmp_path / ".config" / "reqflo" / "credentials.json"
    saved = ServerConfig.from_environ(environ, what="x")
    assert (saved.url, saved.token) == ("http://saved.example", TOKEN)
    given_url = ServerConfig.from_environ(
        {**environ, "REQFLO_URL": "http://env.example/"}, what="x"
    )
    assert (given_url.url, given_url.token) == ("http://env.example", TOKEN)


def test_server_commands_without_a_server_say_how_to_set_one(tmp_path: Path) -> None:
    for argv in (
        ["run", "checkout-flow", "--env", "staging", "--cloud"],
        ["push", str(tmp_path / "x.yaml")],
        ["runs", "cancel", "some-run"],
    ):
        if argv[0] == "push":
            (tmp_path / "x.yaml").write_text("journey: {}\n")
        result = run_in_process(*argv, env={"HOME": str(tmp_path)})
        assert result.code == 3, argv
        assert "REQFLO_URL and REQFLO_TOKEN" in result.stderr
        assert "reqflo login" in result.stderr
