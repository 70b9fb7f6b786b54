"""The CI side of ``--publish``: the job's key from CI variables, ``action.yml`` and docs/ci.md.

The action's run step is executed with bash as GitHub would (its inputs as environment
variables), against a real journey and a server that is not there: the report is written, the
exit code lands in ``GITHUB_OUTPUT`` and the last step fails the job with it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from reqflo.cli.publish import ci_job
from tests.cli.conftest import REQFLO
from tests.conftest import Loopback

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
DOCS = ROOT / "docs" / "ci.md"

word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-/", min_size=1, max_size=20)


def _github(**over: str) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_RUN_ID": "100",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_WORKFLOW": "CI",
        "GITHUB_JOB": "smoke",
        "GITHUB_SHA": "c" * 40,
        "GITHUB_REF_NAME": "main",
        **over,
    }


def _gitlab(**over: str) -> dict[str, str]:
    return {
        "GITLAB_CI": "true",
        "CI_SERVER_URL": "https://gitlab.example",
        "CI_PROJECT_ID": "7",
        "CI_PROJECT_PATH": "acme/api",
        "CI_PIPELINE_ID": "55",
        "CI_JOB_NAME": "journeys",
        "CI_JOB_ID": "900",
        **over,
    }


@given(attempt=word, job_id=word)
def test_the_key_ignores_what_a_retry_changes(attempt: str, job_id: str) -> None:
    github, retried = ci_job(_github()), ci_job(_github(GITHUB_RUN_ATTEMPT=attempt))
    assert github is not None
    assert retried is not None
    assert github.base_key == retried.base_key
    gitlab, again = ci_job(_gitlab()), ci_job(_gitlab(CI_JOB_ID=job_id))
    assert gitlab is not None
    assert again is not None
    assert gitlab.base_key == again.base_key
    assert again.attempt == job_id


@given(
    name=st.sampled_from(["GITHUB_RUN_ID", "GITHUB_JOB", "GITHUB_REPOSITORY", "GITHUB_WORKFLOW"]),
    value=word,
)
def test_the_key_changes_with_what_names_the_job(name: str, value: str) -> None:
    base = ci_job(_github())
    other = ci_job(_github(**{name: value}))
    assert base is not None
    assert other is not None
    assert (base.base_key == other.base_key) == (_github()[name] == value)


@given(leg=word, run_id=word)
def test_reqflo_ci_key_tells_matrix_legs_apart_but_not_workflow_runs(leg: str, run_id: str) -> None:
    plain = ci_job(_github())
    legged = ci_job(_github(REQFLO_CI_KEY=leg))
    next_run = ci_job(_github(REQFLO_CI_KEY=leg, GITHUB_RUN_ID=run_id))
    assert plain is not None
    assert legged is not None
    assert next_run is not None
    assert legged.base_key != plain.base_key, "a leg is not the job without legs"
    # The same leg in another workflow run (a new push) is a new run, not kept_first.
    assert (next_run.base_key == legged.base_key) == (run_id == _github()["GITHUB_RUN_ID"])
    gitlab, gitlab_leg = ci_job(_gitlab()), ci_job(_gitlab(REQFLO_CI_KEY=leg))
    assert gitlab is not None
    assert gitlab_leg is not None
    assert gitlab.base_key != gitlab_leg.base_key


def test_reqflo_ci_key_names_the_job_in_another_ci_and_outside_ci_there_is_no_job() -> None:
    job = ci_job({"CI": "true", "REQFLO_CI_KEY": '{"os": "linux"}'})
    assert job is not None
    assert job.base_key == '{"os": "linux"}'
    assert ci_job({}) is None
    other = ci_job({"CI": "true"})
    assert other is not None
    assert (other.provider, other.base_key) == ("other", "")


def test_github_facts_use_the_pull_requests_branch() -> None:
    job = ci_job(_github(GITHUB_HEAD_REF="feature/x", GITHUB_REF_NAME="12/merge"))
    assert job is not None
    assert job.ref == "feature/x"
    assert job.job_url == "https://github.com/acme/shop/actions/runs/100"


def _action() -> dict[str, Any]:
    loaded = yaml.safe_load(ACTION.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_action_yml_is_a_composite_action_with_the_documented_inputs() -> None:
    action = _action()
    assert {"name", "description", "inputs", "runs"} <= set(action)
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    assert {k for k, v in inputs.items() if v.get("required")} == {"journey", "url", "token"}
    for name, spec in inputs.items():
        assert spec.get("description"), name
        # Every input is documented in docs/ci.md's table.
        assert f"`{name}`" in DOCS.read_text(), name
    steps = action["runs"]["steps"]
    for step in steps:
        assert "uses" in step or step.get("shell") == "bash", step
        # Inputs never go into a script as text (script injection): only through env.
        assert "${{" not in step.get("run", ""), step["name"]
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert uses == ["actions/setup-python", "actions/upload-artifact"]
    install = next(s for s in steps if s["name"] == "Install the reqflo CLI")
    assert '-m pip install --quiet "$GITHUB_ACTION_PATH"' in install["run"]
    assert '"reqflo==$REQFLO_VERSION"' in install["run"]
    run = next(s for s in steps if s.get("id") == "run")
    assert 'reqflo run "$REQFLO_JOURNEY" --publish --output "$REQFLO_OUTPUT"' in run["run"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "${{ inputs.output }}"
    assert steps[-1]["run"] == 'exit "${CODE:-3}"'


class Ok(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def _expand(value: str, inputs: dict[str, str]) -> str:
    return re.sub(r"\$\{\{ inputs\.([\w-]+) \}\}", lambda m: inputs.get(m.group(1), ""), value)


def test_the_actions_run_step_runs_reqflo_and_records_its_exit_code(
    tmp_path: Path, loopback: Loopback
) -> None:
    target = loopback(Ok).url
    (tmp_path / "smoke.yaml").write_text(
        yaml.safe_dump(
            {
                "journey": {
                    "name": "Smoke",
                    "inputs": [{"name": "word", "default": "x"}],
                    "steps": [
                        {
                            "id": "ping",
                            "request": {
                                "method": "GET",
                                "url": "{{ env.base_url }}/{{ inputs.word }}",
                            },
                            "assertions": [{"type": "status_code", "expected": 200}],
                        }
                    ],
                }
            }
        )
    )
    (tmp_path / "reqflo.yaml").write_text(
        yaml.safe_dump({"environments": {"ci": {"base_url": target}}})
    )
    action = _action()
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    inputs.update(
        journey="smoke.yaml",
        url="http://127.0.0.1:9",  # nothing listens: publishing fails after its retries
        token="rqf_" + "t" * 43,
        env="ci",
        args="--set 'word=two words' --reporter json",
        output="out/report.json",
    )
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "run")
    outputs = tmp_path / "github_output"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REQFLO_", "GITHUB_", "CI"))}
    env.update({k: _expand(v, inputs) for k, v in step["env"].items()})
    env.update(
        PATH=f"{REQFLO.parent}{os.pathsep}{env.get('PATH', '')}",
        GITHUB_OUTPUT=str(outputs),
        GITHUB_ACTIONS="true",
        GITHUB_REPOSITORY="acme/shop",
        GITHUB_RUN_ID="1",
    )
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr  # the step records the code; the last step fails
    assert outputs.read_text().strip() == "exit-code=3"
    assert "could not publish run" in done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["runs"][0]["inputs"]["word"] == "two words"
    assert report["summary"]["status"] == "passed"
    assert inputs["token"] not in done.stdout + done.stderr


def _yaml_blocks(text: str) -> list[Any]:
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, flags=re.S)]


def test_the_documented_workflows_use_the_action_and_the_command_as_defined() -> None:
    github, gitlab = _yaml_blocks(DOCS.read_text())
    inputs = _action()["inputs"]
    steps = github["jobs"]["smoke"]["steps"]
    ours = next(s for s in steps if "reqflo" in s.get("uses", ""))
    assert set(ours["with"]) <= set(inputs)
    assert {k for k, v in inputs.items() if v.get("required")} <= set(ours["with"])
    assert ours["with"]["token"] == "${{ secrets.REQFLO_TOKEN }}"
    script = gitlab["api-journeys"]["script"]
    assert any(line.startswith("pip install") for line in script)
    assert any(line.startswith("reqflo run ") and "--publish" in line for line in script)
    assert gitlab["api-journeys"]["artifacts"]["when"] == "always"


@pytest.mark.parametrize("name", ["README.md", "docs/cli.md"])
def test_the_docs_point_at_ci_md(name: str) -> None:
    assert "ci.md" in (ROOT / name).read_text()


class NotTheApi(BaseHTTPRequestHandler):
    """A proxy's sign-in page where the API should be: 200 and HTML to every POST."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        Ok.do_GET(self)  # type: ignore[arg-type]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"<html>Sign in</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_an_answer_that_is_not_the_apis_is_a_publish_failure_not_a_crash(
    tmp_path: Path, loopback: Loopback
) -> None:
    from tests.cli.conftest import run_subprocess

    server = loopback(NotTheApi).url
    (tmp_path / "one.yaml").write_text(
        yaml.safe_dump(
            {
                "journey": {
                    "name": "One",
                    "steps": [
                        {
                            "id": "ping",
                            "request": {"method": "GET", "url": "{{ env.base_url }}/"},
                            "assertions": [{"type": "status_code", "expected": 200}],
                        }
                    ],
                }
            }
        )
    )
    (tmp_path / "reqflo.yaml").write_text(
        yaml.safe_dump({"environments": {"ci": {"base_url": server}}})
    )
    result = run_subprocess(
        "run",
        "one.yaml",
        "--env",
        "ci",
        "--publish",
        "--output",
        "one.json",
        env={"REQFLO_URL": server, "REQFLO_TOKEN": "rqf_" + "z" * 43, "GITHUB_ACTIONS": ""},
        cwd=tmp_path,
    )
    assert result.code == 3, result.output
    assert "could not publish run" in result.stderr
    assert "internal error" not in result.stderr
    assert json.loads((tmp_path / "one.json").read_text())["summary"]["status"] == "passed"


@pytest.mark.parametrize(
    "command",
    [
        ("runs", "show", "00000000-0000-0000-0000-000000000001"),
        ("run", "checkout", "--cloud", "--env", "staging"),
    ],
)
def test_any_server_command_answered_by_a_page_that_is_not_the_apis_says_so(
    tmp_path: Path, loopback: Loopback, command: tuple[str, ...]
) -> None:
    """A 2xx answer that is not JSON (REQFLO_URL at a proxy's sign-in page) was an internal
    error in every server command; it is the server's error now (exit 3), naming the URL."""
    from tests.cli.conftest import run_subprocess

    server = loopback(NotTheApi).url
    result = run_subprocess(
        *command,
        env={"REQFLO_URL": server, "REQFLO_TOKEN": "rqf_" + "z" * 43, "GITHUB_ACTIONS": ""},
        cwd=tmp_path,
    )
    assert result.code == 3, result.output
    assert "was not the Reqflo API's JSON" in result.stderr
    assert server in result.stderr
    assert "internal error" not in result.stderr
