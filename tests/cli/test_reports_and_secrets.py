"""Reporters through the CLI (files, folders, stdout) and secrets kept out of every output."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from reqflo.engine.report import REPORT_SCHEMA
from tests.cli.conftest import (
    REPO,
    EchoServer,
    Result,
    run_in_process,
    run_subprocess,
    write_journey,
)
from tests.cli.demo_shop_server import DemoShopServer

JUNIT_XSD = REPO / "tests" / "data" / "junit-10.xsd"
SECRET = "s3cr3t-Tok3n-9f8e7d"


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(JUNIT_XSD))


def test_junit_output_file_is_valid_and_counts_steps(
    project: Path, junit_schema: xmlschema.XMLSchema
) -> None:
    # The command of the issue's "done means", run from the examples' folder.
    result = run_subprocess(
        "run",
        "checkout.yaml",
        "--env",
        "demo",
        "--reporter",
        "junit",
        "--output",
        "out.xml",
        cwd=project,
    )

    assert result.code == 0, result.output
    out = project / "out.xml"
    junit_schema.validate(str(out))
    root = junit_schema.to_dict(str(out))
    suite = root["testsuite"][0]
    assert suite["@name"] == "Checkout flow"
    assert (suite["@tests"], suite["@failures"], suite["@errors"]) == ("5", "0", "0")
    assert "1 run: 1 passed" in result.stdout


def test_output_suffix_picks_the_reporter(project: Path, tmp_path: Path) -> None:
    result = run_in_process("run", project / "products.yaml", "--output", tmp_path / "report.json")

    assert result.code == 0, result.output
    document = json.loads((tmp_path / "report.json").read_text())
    jsonschema.validate(document, REPORT_SCHEMA)


def test_json_report_on_stdout_is_pure_json_and_tables_go_to_stderr(
    project: Path,
) -> None:
    result = run_in_process(
        "run", project / "checkout.yaml", "--data", project / "rows.csv", "--reporter", "json"
    )

    document = json.loads(result.stdout)
    jsonschema.validate(document, REPORT_SCHEMA)
    assert document["summary"]["runs"] == 4
    assert document["meta"]["data_file"].endswith("rows.csv")
    assert "4 runs: 4 passed" in result.stderr


def test_output_directory_gets_one_file_per_run(
    project: Path, tmp_path: Path, junit_schema: xmlschema.XMLSchema
) -> None:
    folder = tmp_path / "per-run"
    folder.mkdir()

    result = run_in_process(
        "run",
        project / "checkout.yaml",
        "--data",
        project / "rows.csv",
        "--parallel",
        "2",
        "--reporter",
        "junit",
        "--output",
        folder,
    )

    assert result.code == 0, result.output
    files = sorted(path.name for path in folder.iterdir())
    assert files == [
        "00001-checkout-Tea-for-one.xml",
        "00002-checkout-Two-mugs.xml",
        "00003-checkout-A-teapot.xml",
        "00004-checkout-Tea-for-a-team.xml",
    ]
    for path in folder.iterdir():
        junit_schema.validate(str(path))


def test_cli_reporter_to_a_file_writes_the_tables_without_colour(
    project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run.txt"

    result = run_in_process(
        "run", project / "checkout.yaml", "--case", "Happy path", "--output", out
    )

    assert result.code == 0, result.output
    text = out.read_text()
    assert "Read the order" in text
    assert "\x1b[" not in text
    assert "1 run: 1 passed" in text


def test_unwritable_output_path_fails_before_sending(project: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")

    result = run_in_process("run", project / "products.yaml", "--output", blocker / "out.xml")

    assert result.code == 2
    assert "cannot create output folder" in result.stderr


def secret_journey(folder: Path, echo_url: str) -> Path:
    """Return a journey that sends the secret in several forms to a server that echoes them."""
    return write_journey(
        folder,
        "secret.yaml",
        {
            "name": "Secret echo",
            "steps": [
                {
                    "id": "send",
                    "request": {
                        "method": "POST",
                        "url": f"{echo_url}/echo?key={{{{ secrets.api-key }}}}",
                        "headers": {
                            "Authorization": "Bearer {{ secrets.api-key }}",
                            "X-Custom": "{{ secrets.api-key }}",
                        },
                        "json": {"token": "{{ secrets.api-key }}"},
                    },
                    "assertions": [
                        # Fails on purpose, so the secret also lands in expected/actual/messages.
                        {
                            "type": "body_contains",
                            "expected": "missing-{{ secrets.api-key }}",
                        },
                        {
                            "type": "json_path",
                            "path": "$.query.key",
                            "operator": "equals",
                            "expected": "wrong",
                        },
                    ],
                    "outputs": {"echoed": {"from": "body", "path": "$.query.key"}},
                },
            ],
        },
    )


def assert_secret_absent(result: Result, *files: Path) -> None:
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr
    for path in files:
        assert SECRET not in path.read_text(), path


def test_secret_never_appears_in_any_reporter_or_file(tmp_path: Path, echo: EchoServer) -> None:
    journey = secret_journey(tmp_path, echo.url)
    env = {"REQFLO_SECRET_API_KEY": SECRET}
    outputs = {
        "cli": tmp_path / "out.txt",
        "json": tmp_path / "out.json",
        "junit": tmp_path / "out.xml",
    }
    for reporter, path in outputs.items():
        to_stdout = run_subprocess("run", journey, "--reporter", reporter, env=env)
        to_file = run_in_process("run", journey, "--reporter", reporter, "--output", path, env=env)
        assert (to_stdout.code, to_file.code) == (1, 1), to_stdout.output
        assert_secret_absent(to_stdout)
        assert_secret_absent(to_file, path)
    # The secret did reach the server, and the masked form is what the reports show.
    report = json.loads(outputs["json"].read_text())
    attempt = report["runs"][0]["steps"][0]["attempts"][0]
    headers = {name.lower(): value for name, value in attempt["request"]["headers"].items()}
    assert headers["authorization"] == "•••••"
    assert json.loads(attempt["request"]["body"]) == {"token": "•••••"}
    assert "•••••" in attempt["response"]["body"]


def test_secret_stays_out_of_per_run_files(tmp_path: Path, echo: EchoServer) -> None:
    journey = secret_journey(tmp_path, echo.url)
    rows = tmp_path / "rows.csv"
    rows.write_text(f"name\nrow-{SECRET}\nplain\n")
    folder = tmp_path / "runs"

    result = run_in_process(
        "run",
        journey,
        "--data",
        rows,
        "--reporter",
        "json",
        "--output",
        str(folder) + "/",
        env={"REQFLO_SECRET_API_KEY": SECRET},
    )

    assert result.code == 1
    files = list(folder.iterdir())
    assert len(files) == 2
    assert_secret_absent(result, *files)


def test_missing_secret_is_a_run_check_error_naming_the_variable(
    tmp_path: Path, echo: EchoServer
) -> None:
    result = run_in_process("run", secret_journey(tmp_path, echo.url))

    assert result.code == 2
    assert "Missing secret api-key" in result.stderr
    assert "REQFLO_SECRET_<NAME>" in result.stderr
    assert echo.max_in_flight == 0


def test_secret_in_an_error_message_is_masked(tmp_path: Path) -> None:
    journey = write_journey(
        tmp_path,
        "bad-url.yaml",
        {
            "name": "Bad URL",
            "steps": [
                {
                    "id": "a",
                    "request": {"method": "GET", "url": "http://127.0.0.1:1/{{ secrets.key }}"},
                    "assertions": [{"type": "status_code", "expected": 200}],
                }
            ],
        },
    )

    result = run_subprocess("run", journey, env={"REQFLO_SECRET_KEY": SECRET})

    assert result.code == 1
    assert "could not connect" in result.stdout
    assert_secret_absent(result)


def test_junit_of_a_real_failing_run_is_valid_with_each_outcome(
    tmp_path: Path, shop: DemoShopServer, junit_schema: xmlschema.XMLSchema
) -> None:
    journey = write_journey(
        tmp_path,
        "mixed.yaml",
        {
            "name": "Mixed",
            "steps": [
                {
                    "id": "wrong",
                    "request": {"method": "GET", "url": f"{shop.base_url}/products"},
                    "assertions": [
                        {"type": "status_code", "expected": 201},
                        {"type": "json_path", "path": "$.products", "operator": "is_empty"},
                    ],
                },
                {
                    "id": "never",
                    "request": {"method": "GET", "url": f"{shop.base_url}/products"},
                    "assertions": [{"type": "status_code", "expected": 200}],
                },
                {
                    "id": "cleanup",
                    "always": True,
                    "request": {"method": "DELETE", "url": "http://127.0.0.1:1/cleanup"},
                    "assertions": [{"type": "status_code", "expected": 204}],
                },
            ],
        },
    )
    out = tmp_path / "mixed.xml"

    result = run_subprocess("run", journey, "--output", out)

    assert result.code == 1
    junit_schema.validate(str(out))
    suite = junit_schema.to_dict(str(out))["testsuite"][0]
    counts = [suite[f"@{key}"] for key in ("tests", "failures", "errors", "skipped")]
    assert counts == ["3", "1", "1", "1"]
    failure, skipped, error = (case for case in suite["testcase"])
    assert failure["failure"][0]["@message"].startswith("expected status equals 201, got 200")
    assert "(and 1 more)" in failure["failure"][0]["@message"]
    assert "actual:   200" in failure["failure"][0]["$"]
    assert skipped["skipped"][0]["@message"] == "skipped because step 'wrong' did not pass"
    assert error["error"][0]["@type"] == "connect"


def test_json_and_text_per_run_files(project: Path, tmp_path: Path) -> None:
    for reporter, suffix in (("json", "json"), ("cli", "txt")):
        folder = tmp_path / reporter

        result = run_in_process(
            "run",
            project / "checkout.yaml",
            "--data",
            project / "rows.csv",
            "--reporter",
            reporter,
            "--output",
            f"{folder}/",
        )

        assert result.code == 0, result.output
        files = sorted(folder.iterdir())
        assert [path.suffix for path in files] == [f".{suffix}"] * 4
        if reporter == "json":
            documents = [json.loads(path.read_text()) for path in files]
            for document in documents:
                jsonschema.validate(document, REPORT_SCHEMA)
            assert [d["runs"][0]["label"] for d in documents][:2] == ["Tea for one", "Two mugs"]
        else:
            assert "Checkout flow · A teapot" in files[2].read_text()


def test_repeated_row_names_stay_distinct_by_row_number(
    project: Path, tmp_path: Path, junit_schema: xmlschema.XMLSchema
) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("case,quantity\nSame,1\nSame,2\n,3\n")
    common = ("run", project / "checkout.yaml", "--data", rows)

    as_json = run_in_process(*common, "--reporter", "json")
    as_junit = run_in_process(*common, "--reporter", "junit", "--output", tmp_path / "out.xml")

    assert as_json.code == 0, as_json.output
    document = json.loads(as_json.stdout)
    jsonschema.validate(document, REPORT_SCHEMA)
    runs = document["runs"]
    assert [(run["label"], run["row"]) for run in runs] == [("Same", 1), ("Same", 2), ("row 3", 3)]
    assert as_junit.code == 0, as_junit.output
    junit_schema.validate(str(tmp_path / "out.xml"))
    suites = junit_schema.to_dict(str(tmp_path / "out.xml"))["testsuite"]
    assert [suite["@name"] for suite in suites] == [
        "Checkout flow · Same (row 1)",
        "Checkout flow · Same (row 2)",
        "Checkout flow · row 3",
    ]
    [properties] = suites[1]["properties"]
    rows_property = [p["@value"] for p in properties["property"] if p["@name"] == "row"]
    assert rows_property == ["2"]


def test_a_single_run_has_no_row_number(project: Path) -> None:
    result = run_in_process("run", project / "checkout.yaml", "--reporter", "json")

    assert result.code == 0, result.output
    assert json.loads(result.stdout)["runs"][0]["row"] is None


def test_captured_secret_outputs_never_appear_in_any_reporter(
    project: Path, tmp_path: Path, shop: DemoShopServer
) -> None:
    # checkout.yaml captures the login token with `secret: true` and sends it as a bearer
    # header; its password input is `secret: true` too.
    with shop.state.lock:
        before = set(shop.state.tokens)
    texts = []
    for reporter in ("cli", "json", "junit"):
        path = tmp_path / f"out.{reporter}"
        common = ("run", project / "checkout.yaml", "--data", project / "rows.csv")
        to_file = run_in_process(*common, "--reporter", reporter, "--output", path)
        to_stdout = run_subprocess(*common, "--reporter", reporter)
        assert (to_file.code, to_stdout.code) == (0, 0), to_file.output
        texts += [to_file.stdout, to_file.stderr, to_stdout.stdout, to_stdout.stderr]
        texts.append(path.read_text())

    with shop.state.lock:
        tokens = set(shop.state.tokens) - before
    assert len(tokens) == 3 * 2 * 4  # every run of every command logged in
    everything = "\n".join(texts)
    assert [token for token in tokens if token in everything] == []
    assert "dm0-Qv8x-R2kp" not in everything
    assert "•••••" in everything


def test_a_run_that_never_reports_leaves_no_report_file(project: Path, tmp_path: Path) -> None:
    """A refused run (exit 2) creates no empty report, and an earlier report stays as it was."""
    fresh = tmp_path / "results" / "fresh.xml"
    kept = tmp_path / "results" / "kept.xml"
    kept.parent.mkdir()
    kept.write_text("<testsuites/>")
    for output in (fresh, kept):
        result = run_in_process(
            "run",
            project / "products.yaml",
            "--env",
            "nowhere",
            "--reporter",
            "junit",
            "--output",
            output,
        )
        assert result.code == 2, result.stderr
    assert not fresh.exists()
    assert kept.read_text() == "<testsuites/>"


def test_preparing_the_output_creates_and_truncates_nothing(tmp_path: Path) -> None:
    """The cloud path prepares the output before dispatching: a refused dispatch or a lost server
    must not leave a 0-byte report (a CI collector would read it) or empty an earlier one."""
    from reqflo.cli.output import ReportTarget, prepare

    fresh, kept = tmp_path / "out" / "fresh.xml", tmp_path / "kept.xml"
    kept.write_text("<testsuites/>")
    prepare(ReportTarget.parse("junit", str(fresh)))
    prepare(ReportTarget.parse("junit", str(kept)))
    assert fresh.parent.is_dir()
    assert not fresh.exists()
    assert kept.read_text() == "<testsuites/>"
