"""Server-mode pieces of the CLI that need no server: bundle verification and where it connects."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reqflo.cli.server import ServerConfig, credentials_path, save_credentials
from reqflo.engine.digest import GENESIS, seal_digest, seal_facts, seal_signature, step_digest
from tests.cli.conftest import run_in_process

TOKEN = "rqf_" + "k" * 43


def _bundle(statuses: list[str], recorded: str | None = None) -> dict[str, Any]:
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
    status = recorded or _run_status(statuses)
    run = {
        "id": run_id,
        "status": status,
        "step_count": len(steps),
        "head_digest": previous,
        "artifact_id": "art-1",
        "inputs": {"user": "ada"},
        "attempts": 1,
    }
    facts = seal_facts(
        run_id=run_id,
        status=status,
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


def _run_status(statuses: list[str]) -> str:
    """The engine's rule, said again independently: the first failed or error step decides."""
    bad = [s for s in statuses if s in ("failed", "error")]
    return bad[0] if bad else "passed"


def test_verify_accepts_an_intact_bundle_file(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_bundle(["passed", "passed", "failed"])))
    result = run_in_process("runs", "verify", path)
    assert result.code == 0, result.stderr
    assert "verified (3 step results" in result.stdout


STEP = st.sampled_from(["passed", "failed", "error", "skipped"])


@given(st.lists(STEP, min_size=1, max_size=5), st.sampled_from(["passed", "failed", "error"]))
@settings(max_examples=60, deadline=None)
def test_a_recorded_status_its_steps_do_not_give_is_refused(
    statuses: list[str], recorded: str
) -> None:
    """The chain covers the step results; the run's status must be the one they give."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bundle.json"
        path.write_text(json.dumps(_bundle(statuses, recorded)))
        result = run_in_process("runs", "verify", path)
    if recorded == _run_status(statuses):
        assert result.code == 0, result.stdout
    else:
        assert result.code == 1, (statuses, recorded)
        assert f"the run is recorded as {recorded}, but" in result.stdout


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


COMMANDS = [
    ("run", "checkout-flow", "--env", "staging", "--cloud"),
    ("runs", "show", "9d7c5a0e-0000-4000-8000-000000000001"),
    ("runs", "cancel", "9d7c5a0e-0000-4000-8000-000000000001"),
    ("push", "journey.yaml"),
    ("run", "checkout-flow", "--env", "staging"),
]
# Characters RFC 3986 allows unescaped in a URL's user name and password.
USERINFO = st.text(
    alphabet=string.ascii_letters + string.digits + "-._~!$&'()*+,;=", min_size=4, max_size=20
)


_REFUSALS: dict[tuple[str, ...], str] = {}


def _refusal_words(command: tuple[str, ...]) -> str:
    """The command's refusal of a URL with a password, for a password of one `~` only."""
    if command not in _REFUSALS:
        url = "https://~:~@reqflo.example:8443/base"
        result = run_in_process(*command, env={"REQFLO_URL": url, "REQFLO_TOKEN": TOKEN})
        _REFUSALS[command] = result.stdout + result.stderr
    return _REFUSALS[command]


@given(user=USERINFO, password=USERINFO, command=st.sampled_from(COMMANDS))
@settings(max_examples=40, deadline=None)
def test_a_server_url_with_a_password_is_refused_without_showing_it(
    user: str, password: str, command: tuple[str, ...]
) -> None:
    url = f"https://{user}:{password}@reqflo.example:8443/base"
    result = run_in_process(*command, env={"REQFLO_URL": url, "REQFLO_TOKEN": TOKEN})
    assert result.code == 3, result.stderr
    assert "may not carry a user name or password" in result.stderr
    assert "https://reqflo.example:8443/base" in result.stderr
    # A password that is a piece of the message's own words (`TOKE` of REQFLO_TOKEN) proves
    # nothing either way.
    assume(password not in _refusal_words(command))
    assert password not in result.stdout + result.stderr
    assert TOKEN not in result.stdout + result.stderr


def test_login_refuses_a_url_with_a_password_before_asking_for_the_token(tmp_path: Path) -> None:
    result = run_in_process(
        "login", "--url", "https://ada:Pa55word@reqflo.example", env={"HOME": str(tmp_path)}
    )
    assert result.code == 3
    assert "Pa55word" not in result.stdout + result.stderr
    assert not credentials_path({"HOME": str(tmp_path)}).exists()


@pytest.mark.parametrize(
    "url", ["ftp://reqflo.example", "reqflo.example", "https://", "http://h:x"]
)
def test_a_server_url_that_is_not_http_is_refused_by_name(url: str) -> None:
    result = run_in_process("runs", "show", "x", env={"REQFLO_URL": url, "REQFLO_TOKEN": TOKEN})
    assert result.code == 3
    assert "REQFLO_URL" in result.stderr


@pytest.mark.parametrize(
    ("labels", "named"),
    [
        ("Bad!", "“bad!”"),
        ("ok,-dash", "“-dash”"),
        (",".join(f"l{i}" for i in range(21)), "at most"),
    ],
)
def test_runner_start_refuses_bad_labels_before_it_starts(labels: str, named: str) -> None:
    """The server's label rule, checked at start: a usage error, not a claim refused forever."""
    result = run_in_process(
        "runner", "start", "--url", "http://127.0.0.1:9", "--token", "rqr_x", "--labels", labels
    )
    assert result.code == 2
    assert "--labels" in result.stderr
    assert named in result.stderr
