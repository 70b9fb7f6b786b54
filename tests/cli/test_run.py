"""`reqflo run` and `reqflo validate` end to end: exit codes, cases, --set, usage errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reqflo import __version__
from tests.cli.conftest import REQFLO, EchoServer, run_in_process, run_subprocess, write_journey
from tests.cli.demo_shop_server import DemoShopServer
from tests.loopback import self_signed, serving, wrap_tls


def test_checkout_example_passes_as_a_real_process(project: Path) -> None:
    result = run_subprocess(
        "run", project / "checkout.yaml", "--env", "demo", "--case", "Happy path"
    )

    assert result.code == 0, result.output
    for step in ("Log in", "Create a cart", "Add the item", "Check out", "Read the order"):
        assert step in result.stdout
    assert "1 run: 1 passed · 5 steps: 5 passed" in result.stdout
    assert "Traceback" not in result.output


def test_every_example_journey_passes_against_the_demo_shop(project: Path) -> None:
    env = {"REQFLO_SECRET_SHOP_PASSWORD": "correct horse"}
    for journey, extra in (
        ("checkout.yaml", ["--case", "Two mugs"]),
        ("products.yaml", []),
        ("abandoned-cart.yaml", []),
    ):
        result = run_in_process("run", project / journey, "--env", "demo", *extra, env=env)
        assert result.code == 0, f"{journey}: {result.output}"


def test_failed_assertion_exits_1_and_shows_expected_and_actual(
    tmp_path: Path, shop: DemoShopServer
) -> None:
    journey = write_journey(
        tmp_path,
        "prices.yaml",
        {
            "name": "Prices",
            "steps": [
                {
                    "id": "list",
                    "request": {"method": "GET", "url": f"{shop.base_url}/products"},
                    "assertions": [
                        {
                            "type": "json_path",
                            "path": "$.products[0].sku",
                            "operator": "equals",
                            "expected": "mug-02",
                        }
                    ],
                },
                {
                    "id": "after",
                    "request": {"method": "GET", "url": f"{shop.base_url}/products"},
                    "assertions": [{"type": "status_code", "expected": 200}],
                },
            ],
        },
    )

    result = run_subprocess("run", journey)

    assert result.code == 1
    assert 'expected: "mug-02"' in result.stdout
    assert 'actual:   "tea-01"' in result.stdout
    assert "skipped because step 'list'" in result.stdout


def test_run_check_error_exits_2_before_any_request(tmp_path: Path, shop: DemoShopServer) -> None:
    journey = write_journey(
        tmp_path,
        "login.yaml",
        {
            "name": "Login",
            "inputs": [{"name": "email", "required": True}],
            "steps": [
                {
                    "id": "login",
                    "request": {
                        "method": "POST",
                        "url": f"{shop.base_url}/login",
                        "json": {"email": "{{ inputs.email }}", "password": "pw"},
                    },
                    "assertions": [{"type": "status_code", "expected": 200}],
                }
            ],
        },
    )
    before = shop.state.requests_seen

    result = run_in_process("run", journey)

    assert result.code == 2
    assert "required input 'email' has no value" in result.stderr
    assert "nothing was sent" in result.stderr
    assert shop.state.requests_seen == before


def test_missing_base_url_names_the_problem_and_the_fix(tmp_path: Path) -> None:
    journey = write_journey(
        tmp_path,
        "j.yaml",
        {
            "name": "J",
            "steps": [{"id": "a", "request": {"method": "GET", "url": "{{ env.base_url }}/x"}}],
        },
    )

    result = run_in_process("run", journey, cwd=tmp_path)

    assert result.code == 2
    assert "the environment has no base_url" in result.stderr
    assert "pass --env NAME" in result.stderr


def test_unknown_environment_exits_2_listing_the_known_ones(project: Path) -> None:
    result = run_in_process("run", project / "checkout.yaml", "--env", "prod")

    assert result.code == 2
    assert "unknown environment 'prod'" in result.stderr
    assert "'demo'" in result.stderr


def test_unknown_case_exits_2_listing_the_known_ones(project: Path) -> None:
    result = run_subprocess("run", project / "checkout.yaml", "--case", "happy path")

    assert result.code == 2
    assert "unknown case 'happy path'" in result.stderr
    assert "'Happy path', 'Two mugs'" in result.stderr
    assert "Traceback" not in result.stderr


def test_case_values_and_set_overrides_reach_the_request(project: Path) -> None:
    result = run_in_process(
        "run",
        project / "checkout.yaml",
        "--case",
        "Two mugs",
        "--set",
        "quantity=3",
        "--reporter",
        "json",
    )

    assert result.code == 0, result.output
    run = json.loads(result.stdout)["runs"][0]
    assert run["inputs"]["email"] == "grace@example.com"
    assert run["inputs"]["quantity"] == 3
    sent = run["steps"][2]["attempts"][0]["request"]["body"]
    assert json.loads(sent) == {"sku": "mug-02", "quantity": 3}


def test_set_of_an_unknown_input_suggests_the_right_name(project: Path) -> None:
    result = run_in_process("run", project / "checkout.yaml", "--set", "emial=a@b.c")

    assert result.code == 2
    assert "no input 'emial'; did you mean 'email'?" in result.stderr


def test_set_without_equals_sign_is_a_usage_error(project: Path) -> None:
    result = run_in_process("run", project / "checkout.yaml", "--set", "email")

    assert result.code == 2
    assert "--set expects KEY=VALUE, got 'email'" in result.stderr


def test_set_value_that_does_not_fit_the_input_type_exits_2(project: Path) -> None:
    result = run_in_process(
        "run", project / "checkout.yaml", "--case", "Happy path", "--set", "quantity=two"
    )

    assert result.code == 2
    assert "inputs.quantity" in result.stderr
    assert '"two" is not a whole number' in result.stderr


def test_invalid_journey_lists_every_problem_without_traceback(tmp_path: Path) -> None:
    journey = tmp_path / "broken.yaml"
    journey.write_text(
        "journey:\n  name: Broken\n  steps:\n"
        "    - id: a\n      request: {method: GET, url: http://x}\n"
        "      assertions: [{type: json_path, path: $.a, operator: equal, expected: 1}]\n"
        "      retry: 3\n"
    )

    result = run_subprocess("run", journey)

    assert result.code == 2
    assert "operator: unknown operator 'equal'; did you mean 'equals'?" in result.stderr
    assert "steps[0].retry" in result.stderr
    assert "Traceback" not in result.stderr


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    journey = tmp_path / "bad.yaml"
    journey.write_text("journey:\n  name: [unclosed\n")

    result = run_in_process("run", journey)

    assert result.code == 2
    assert "invalid YAML at line" in result.stderr


def test_missing_journey_file_exits_2(tmp_path: Path) -> None:
    result = run_in_process("run", tmp_path / "nope.yaml")

    assert result.code == 2
    assert f"journey file {tmp_path / 'nope.yaml'} does not exist" in result.stderr


def test_journey_slug_needs_a_server(tmp_path: Path) -> None:
    result = run_subprocess("run", "checkout-flow", cwd=tmp_path)

    assert result.code == 3
    assert "REQFLO_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_cloud_runs_a_server_journey_not_a_file(project: Path) -> None:
    result = run_in_process("run", project / "checkout.yaml", "--cloud", "--env", "demo")
    assert result.code == 2
    assert "reqflo push" in result.stderr


def test_server_commands_explain_that_a_server_is_needed() -> None:
    result = run_in_process("runs", "show", "run_123")

    assert result.code == 3
    assert "reqflo runs show needs a Reqflo server" in result.stderr


def test_bad_flag_values_are_usage_errors(project: Path) -> None:
    parallel = run_in_process("run", project / "checkout.yaml", "--parallel", "0")
    reporter = run_in_process("run", project / "checkout.yaml", "--reporter", "html")

    assert (parallel.code, reporter.code) == (2, 2)
    assert "must be at least 1" in parallel.stderr
    assert "invalid choice: 'html'" in reporter.stderr


def test_version_prints_the_package_version() -> None:
    result = run_subprocess("--version")

    assert result.code == 0
    assert result.stdout.strip() == f"reqflo {__version__}"


def test_default_env_from_reqflo_yaml_applies_without_env_flag(project: Path) -> None:
    result = run_in_process("run", project / "products.yaml", cwd=project)

    assert result.code == 0, result.output
    assert "(env demo)" in result.stdout
    assert "1 run: 1 passed · 1 step: 1 passed" in result.stdout


def test_config_is_found_in_the_current_directory(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "journeys"
    elsewhere.mkdir()
    (elsewhere / "products.yaml").write_text((project / "products.yaml").read_text())

    result = run_in_process("run", elsewhere / "products.yaml", "--env", "demo", cwd=project)

    assert result.code == 0, result.output


def test_validate_accepts_the_examples_and_rejects_a_broken_file(
    project: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "journey:\n  name: B\n  steps:\n"
        "    - id: a\n      request: {method: GET, url: '{{ steps.b.outputs.x }}'}\n"
    )

    good = run_subprocess("validate", project / "checkout.yaml")
    bad = run_subprocess("validate", project / "products.yaml", broken)

    assert good.code == 0, good.output
    assert "checkout.yaml" in good.stdout
    assert bad.code == 2
    assert "✓ " in bad.stdout
    assert "✗ " in bad.stdout
    assert "unknown step 'b'" in bad.stdout


def test_validate_reports_warnings_but_exits_0(tmp_path: Path) -> None:
    journey = write_journey(
        tmp_path,
        "warn.yaml",
        {
            "name": "Warn",
            "inputs": [{"name": "unused", "default": 1}],
            "steps": [{"id": "a", "request": {"method": "GET", "url": "http://127.0.0.1:1/"}}],
        },
    )

    result = run_in_process("validate", journey)

    assert result.code == 0
    assert "input 'unused' is never used" in result.stdout
    assert "step 'a' has no assertions" in result.stdout


def test_validate_with_env_checks_environment_references(project: Path, tmp_path: Path) -> None:
    config = tmp_path / "reqflo.yaml"
    config.write_text("environments:\n  bare: {region: eu}\n")

    result = run_in_process(
        "validate", project / "products.yaml", "--env", "bare", "--config", config
    )

    assert result.code == 2
    assert "the environment has no base_url" in result.stdout


def test_json_journey_files_run_too(tmp_path: Path, shop: DemoShopServer) -> None:
    journey = tmp_path / "products.json"
    journey.write_text(
        json.dumps(
            {
                "journey": {
                    "name": "Products as JSON",
                    "steps": [
                        {
                            "id": "list",
                            "request": {"method": "GET", "url": f"{shop.base_url}/products"},
                            "assertions": [{"type": "status_code", "expected": 200}],
                        }
                    ],
                }
            }
        )
    )

    result = run_in_process("run", journey)

    assert result.code == 0, result.output


def test_internal_error_is_one_line_with_secrets_masked(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object) -> None:
        raise RuntimeError("boom near hunter2-secret")

    monkeypatch.setattr("reqflo.cli.run.run_command", explode)

    result = run_in_process(
        "run", project / "products.yaml", env={"REQFLO_SECRET_X": "hunter2-secret"}
    )

    assert result.code == 3
    assert result.stderr == (
        "reqflo: internal error: RuntimeError: boom near ••••• "
        "(set REQFLO_DEBUG=1 for the traceback)\n"
    )


def test_the_debug_traceback_of_an_internal_error_masks_secrets_too(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object) -> None:
        raise RuntimeError("boom near hunter2-secret")

    monkeypatch.setattr("reqflo.cli.run.run_command", explode)

    result = run_in_process(
        "run",
        project / "products.yaml",
        env={"REQFLO_SECRET_X": "hunter2-secret", "REQFLO_DEBUG": "1"},
    )

    assert result.code == 3
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: boom near •••••" in result.stderr
    assert "hunter2" not in result.stderr


def test_a_directory_given_as_journey_or_data_is_a_clear_error(
    project: Path, tmp_path: Path
) -> None:
    as_journey = run_in_process("run", tmp_path)
    as_data = run_in_process("run", project / "checkout.yaml", "--data", tmp_path)

    assert (as_journey.code, as_data.code) == (2, 2)
    assert "cannot read journey file" in as_journey.stderr
    assert "use a .csv or .json file" in as_data.stderr


def test_closed_stdout_pipe_ends_quietly(tmp_path: Path) -> None:
    journey = write_journey(
        tmp_path,
        "refused.yaml",
        {
            "name": "Refused",
            "inputs": [{"name": "n"}],
            "steps": [
                {
                    "id": "a",
                    "request": {"method": "GET", "url": "http://127.0.0.1:1/{{ inputs.n }}"},
                    "assertions": [{"type": "status_code", "expected": 200}],
                }
            ],
        },
    )
    rows = tmp_path / "rows.csv"
    rows.write_text("n\n" + "".join(f"{i}\n" for i in range(1500)))
    stderr = tmp_path / "stderr.txt"

    with stderr.open("w") as err:
        process = subprocess.Popen(
            [REQFLO, "run", journey, "--data", rows, "--reporter", "json"],
            stdout=subprocess.PIPE,
            stderr=err,
        )
        assert process.stdout is not None
        assert process.stdout.read(100).startswith(b'{"schema": "reqflo.report/v1"')
        process.stdout.close()  # like `| head -c 100`
        code = process.wait(timeout=120)

    assert code == 1
    assert "Traceback" not in stderr.read_text()
    assert "Exception ignored" not in stderr.read_text()


def test_validate_checks_the_journeys_cases_in_reqflo_yaml(project: Path) -> None:
    config = project / "reqflo.yaml"
    config.write_text(
        config.read_text()
        + "    # broken cases\n"
        + "      Typo: {emial: a@x.io}\n"
        + "      Not a number: {quantity: many}\n"
    )

    result = run_in_process("validate", project / "checkout.yaml")

    assert result.code == 2
    assert "error: cases['Typo'].emial: 'emial' is not an input of this journey" in result.stdout
    assert "error: cases['Not a number'].inputs.quantity: \"many\" is not a whole number" in (
        result.stdout
    )


def test_validate_checks_reqflo_yaml_as_configuration(project: Path) -> None:
    good = run_in_process("validate", *sorted(project.glob("*.yaml")))
    (project / "reqflo.yaml").write_text("environments:\n  demo: {base_url: ftp://x}\n")
    bad = run_in_process("validate", project / "reqflo.yaml")

    assert good.code == 0, good.output
    assert "reqflo.yaml: configuration is valid" in good.stdout
    assert bad.code == 2
    assert "environments.demo.base_url: 'ftp://x' must start with http://" in bad.stderr


def test_a_secret_input_value_that_does_not_convert_is_not_echoed(tmp_path: Path) -> None:
    journey = write_journey(
        tmp_path,
        "pin.yaml",
        {
            "name": "Pin",
            "inputs": [{"name": "pin", "type": "integer", "secret": True}],
            "steps": [
                {
                    "id": "a",
                    "request": {"method": "GET", "url": "http://127.0.0.1:1/{{ inputs.pin }}"},
                    "assertions": [{"type": "status_code", "expected": 200}],
                }
            ],
        },
    )

    result = run_in_process("run", journey, "--set", "pin=98x76")

    assert result.code == 2
    assert "inputs.pin" in result.stderr
    assert "98x76" not in result.stderr


@pytest.mark.slow
def test_https_is_verified_with_httpx_defaults_and_ssl_cert_file(tmp_path: Path) -> None:
    """The CA store loads at the first handshake; SSL_CERT_FILE still chooses it, as in httpx."""
    server_context, cert_file = self_signed(tmp_path, "localhost")
    journey = write_journey(
        tmp_path,
        "tls.yaml",
        {
            "name": "TLS",
            "steps": [
                {
                    "id": "hello",
                    "request": {"method": "GET", "url": "{{ env.base_url }}/hello"},
                    "assertions": [{"type": "status_code", "expected": 200}],
                }
            ],
        },
    )
    server = EchoServer()
    server.quiet = True
    config = tmp_path / "reqflo.yaml"
    with serving(wrap_tls(server, server_context)):
        config.write_text(f"environments:\n  tls:\n    base_url: {server.url}\n")
        command = ("run", journey, "--env", "tls", "--reporter", "json")
        untrusted = run_subprocess(*command, cwd=tmp_path)
        trusted = run_subprocess(*command, cwd=tmp_path, env={"SSL_CERT_FILE": str(cert_file)})

    assert untrusted.code == 1
    [step] = json.loads(untrusted.stdout)["runs"][0]["steps"]
    error = step["attempts"][-1]["error"]
    assert error["kind"] == "tls"
    assert "certificate verify failed: self-signed certificate" in error["message"]
    assert trusted.code == 0, trusted.output
