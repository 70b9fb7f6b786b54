"""`reqflo import ...`: files written, report printed, exit codes, and the result runs."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.conftest import REQFLO, run_in_process
from tests.conftest import Loopback
from tests.engine.imports.conftest import DATA
from tests.httpbin_server import running_httpbin

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
API_KEY = "k3y-Value-never-copied-9f8e"


@pytest.fixture(scope="module")
def httpbin() -> Iterator[str]:
    with running_httpbin() as base_url:
        yield base_url


def _point_config_at(folder: Path, base_url: str) -> None:
    config = yaml.safe_load((folder / "reqflo.yaml").read_text())
    for values in config["environments"].values():
        values["base_url"] = base_url
    (folder / "reqflo.yaml").write_text(yaml.safe_dump(config))


def test_a_postman_export_imports_in_one_step_and_runs(tmp_path: Path, httpbin: str) -> None:
    collection = {
        "info": {"name": "Echo", "schema": SCHEMA},
        "item": [
            {
                "name": "Headers",
                "request": {
                    "method": "GET",
                    "url": "{{baseUrl}}/headers",
                    "header": [{"key": "X-Api-Key", "value": "{{api_key}}"}],
                },
                "event": [
                    {
                        "listen": "test",
                        "script": {
                            "exec": [
                                "pm.test('ok', function () {",
                                "  pm.response.to.have.status(200);",
                                "});",
                                "pm.expect(pm.response.json().headers['X-Api-Key']).to.exist;",
                            ]
                        },
                    }
                ],
            }
        ],
    }
    environment = {
        "name": "staging",
        "values": [
            {"key": "baseUrl", "value": "https://staging.example.com"},
            {"key": "api_key", "value": API_KEY, "type": "secret"},
        ],
    }
    (tmp_path / "echo.json").write_text(json.dumps(collection))
    (tmp_path / "staging.json").write_text(json.dumps(environment))

    imported = run_in_process(
        "import",
        "postman",
        "echo.json",
        "--environment",
        "staging.json",
        "--out",
        "journeys",
        cwd=tmp_path,
    )

    assert imported.code == 0, imported.output
    assert "journey 'echo': Echo (1 steps)" in imported.stdout
    assert "REQFLO_SECRET_API_KEY" in imported.stdout
    folder = tmp_path / "journeys"
    assert sorted(p.name for p in folder.iterdir()) == ["echo.yaml", "reqflo.yaml"]
    for path in folder.iterdir():
        assert API_KEY not in path.read_text()
    assert API_KEY not in imported.output
    config = yaml.safe_load((folder / "reqflo.yaml").read_text())
    assert config == {
        "environments": {"staging": {"base_url": "https://staging.example.com"}},
        "default_env": "staging",
    }
    _point_config_at(folder, httpbin)
    ran = run_in_process(
        "run", folder / "echo.yaml", env={"REQFLO_SECRET_API_KEY": API_KEY}, cwd=folder
    )
    assert ran.code == 0, ran.output


def test_a_real_collection_prints_what_did_not_map(tmp_path: Path) -> None:
    result = run_in_process(
        "import",
        "postman",
        DATA / "postman" / "codegen-test-cases.postman_collection.json",
        "--out",
        tmp_path,
    )

    assert result.code == 0
    assert "Did not map:" in result.stdout
    assert 'item "PURGE Request": method PURGE is not supported' in result.stdout
    assert (tmp_path / "code-gen-test-cases.yaml").exists()


def test_openapi_from_a_url_is_fetched_imported_and_runs(tmp_path: Path, httpbin: str) -> None:
    result = run_in_process("import", "openapi", f"{httpbin}/spec.json", cwd=tmp_path)

    assert result.code == 0, result.output
    assert "11 journeys (73 steps)" in result.stdout
    _point_config_at(tmp_path, httpbin)
    ran = run_in_process("run", tmp_path / "http-methods.yaml", cwd=tmp_path)
    assert ran.code == 0, ran.output


def test_chosen_operations_from_a_file(tmp_path: Path) -> None:
    result = run_in_process(
        "import",
        "openapi",
        DATA / "openapi" / "petstore-3.1.yaml",
        "--operation",
        "showPetById",
        "--operation",
        "GET /pets",
        "--out",
        tmp_path,
    )

    assert result.code == 0, result.output
    document = yaml.safe_load((tmp_path / "swagger-petstore.yaml").read_text())
    assert [s["id"] for s in document["journey"]["steps"]] == ["showpetbyid", "listpets"]


class _Huge(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(50 * 1024 * 1024))
        self.end_headers()
        self.wfile.write(b"openapi: 3.0.0\n")


def test_a_url_larger_than_the_limit_is_refused_before_it_is_read(
    tmp_path: Path, loopback: Loopback
) -> None:
    url = loopback(_Huge).url + "/spec.yaml"
    result = run_in_process("import", "openapi", url, cwd=tmp_path)

    assert result.code == 2
    assert f"reqflo: error: {url} is 52428800 bytes; the import limit is 10485760 bytes" in (
        result.stderr
    )


def test_curl_from_stdin_writes_a_journey(tmp_path: Path, httpbin: str) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REQFLO_")}
    completed = subprocess.run(
        [str(REQFLO), "import", "curl", "--name", "Pasted"],
        input=f"curl '{httpbin}/get?a=1' -H 'Accept: application/json'\n"
        f"curl {httpbin}/post --data-raw 'x=1'\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environ,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert "journey 'pasted': Pasted (2 steps)" in completed.stdout
    ran = run_in_process("run", tmp_path / "pasted.yaml", cwd=tmp_path)
    assert ran.code == 0, ran.output


@pytest.mark.parametrize(
    "words",
    [
        ["curl -X DELETE 'https://api.test/items/3' -H 'X-Trace: a b'"],
        ["--", "-X", "DELETE", "https://api.test/items/3", "-H", "X-Trace: a b"],
    ],
)
def test_curl_as_arguments(tmp_path: Path, words: list[str]) -> None:
    result = run_in_process("import", "curl", "--out", tmp_path, *words, cwd=tmp_path)

    assert result.code == 0, result.output
    document = yaml.safe_load((tmp_path / "imported-from-curl.yaml").read_text())
    assert document["journey"]["steps"][0]["request"] == {
        "method": "DELETE",
        "url": "{{ env.base_url }}/items/3",
        "headers": {"X-Trace": "a b"},
    }


def test_nothing_imported_exits_2(tmp_path: Path) -> None:
    (tmp_path / "empty.har").write_text('{"log": {"entries": [{"request": {}}]}}')

    result = run_in_process("import", "har", "empty.har", cwd=tmp_path)

    assert result.code == 2
    assert "entries[0]: has no request URL; left out" in result.stdout
    assert "reqflo: error: nothing could be imported" in result.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "empty.har"]


def test_existing_files_are_not_overwritten_without_force(tmp_path: Path) -> None:
    args = ("import", "curl", "https://api.test/a")
    assert run_in_process(*args, cwd=tmp_path).code == 0
    (tmp_path / "reqflo.yaml").write_text("# mine\nenvironments: {}\n")

    again = run_in_process(*args, cwd=tmp_path)
    dry = run_in_process(*args, "--dry-run", cwd=tmp_path)
    forced = run_in_process(*args, "--force", cwd=tmp_path)

    assert again.code == 2
    assert "imported-from-curl.yaml already exist(s); pass --force to overwrite" in again.stderr
    assert dry.code == 0
    assert "Dry run: nothing was written." in dry.stdout
    assert forced.code == 0
    assert (tmp_path / "reqflo.yaml").read_text() == "# mine\nenvironments: {}\n"
    assert "reqflo.yaml exists and was left as it is; add these environments" in forced.stdout


def test_a_twenty_megabyte_collection_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(20 * 1024 * 1024)

    result = run_in_process("import", "postman", big, cwd=tmp_path)

    assert result.code == 2
    assert "is 20.0 MiB; the import limit is 10 MiB" in result.stderr
    assert list(tmp_path.iterdir()) == [big]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("postman", "missing.json"), "reqflo: error: missing.json does not exist"),
        (("openapi", "."), "reqflo: error: . is a folder, not a file"),
        (("har", "bad.har"), "reqflo: error: the HAR file is not valid JSON: line 1, column 1"),
    ],
)
def test_bad_sources_exit_2_with_a_message(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "bad.har").write_text("<html>")

    result = run_in_process("import", *args, cwd=tmp_path)

    assert result.code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("words", [["echo hello"], ["--", "echo", "hello"]])
def test_input_that_is_not_curl_is_refused_with_exit_2(tmp_path: Path, words: list[str]) -> None:
    result = run_in_process("import", "curl", *words, cwd=tmp_path)

    assert result.code == 2
    assert "this is not a curl command: the input must start with 'curl'" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_journey_named_reqflo_never_overwrites_the_configuration(tmp_path: Path) -> None:
    result = run_in_process(
        "import", "curl", "--name", "reqflo", "curl https://api.test/a", cwd=tmp_path
    )

    assert result.code == 0, result.output
    assert (
        "journey 'reqflo' got slug 'reqflo-2': 'reqflo.yaml' is the CLI's configuration file"
        in (result.stdout)
    )
    journey = yaml.safe_load((tmp_path / "reqflo-2.yaml").read_text())
    assert journey["journey"]["slug"] == "reqflo-2"
    config = yaml.safe_load((tmp_path / "reqflo.yaml").read_text())
    assert config == {
        "environments": {"default": {"base_url": "https://api.test"}},
        "default_env": "default",
    }


def _folders_collection(names: list[str]) -> str:
    return json.dumps(
        {
            "info": {"name": "Shop", "schema": SCHEMA},
            "item": [
                {
                    "name": name,
                    "item": [
                        {"name": "Get", "request": {"method": "GET", "url": "https://shop.test/x"}}
                    ],
                }
                for name in names
            ],
        }
    )


@given(st.text(alphabet="abcdefghij KLM-é", min_size=201, max_size=900))
@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_a_folder_name_too_long_for_a_journey_is_cut_and_every_file_is_written(
    tmp_path_factory: pytest.TempPathFactory, long_name: str
) -> None:
    folder = tmp_path_factory.mktemp("long")
    names = [f"Folder {n}" for n in range(8)] + [long_name]
    (folder / "c.json").write_text(_folders_collection(names))

    first = run_in_process("import", "postman", "c.json", "--out", "out", cwd=folder)
    again = run_in_process("import", "postman", "c.json", "--out", "out", "--force", cwd=folder)

    assert first.code == 0, first.output
    assert again.code == 0, again.output
    written = sorted(set((folder / "out").glob("*.yaml")) - {folder / "out" / "reqflo.yaml"})
    assert len(written) == 9
    assert all(len(path.name) <= 105 for path in written)
    documents = [yaml.safe_load(path.read_text()) for path in written]
    assert all(
        len(d["journey"]["name"]) <= 200 and len(d["journey"]["slug"]) <= 100 for d in documents
    )
    assert "cut to 200" in first.stdout or len(long_name.strip()) <= 200
    assert not list((folder / "out").glob(".reqflo-import-*"))


def test_a_failing_write_leaves_no_journey_file_behind(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text(_folders_collection(["Alpha", "Beta", "Gamma"]))
    (tmp_path / "out" / "beta.yaml").mkdir(parents=True)  # a folder where a file must go

    result = run_in_process("import", "postman", "c.json", "--out", "out", "--force", cwd=tmp_path)

    assert result.code == 2
    assert "no journey file was written" in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["beta.yaml"]


def test_a_reader_that_goes_away_does_not_stop_the_files_half_written(tmp_path: Path) -> None:
    names = [f"Folder {n} " + "x" * 300 for n in range(9)]
    (tmp_path / "c.json").write_text(_folders_collection(names))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REQFLO_")}
    process = subprocess.Popen(
        [str(REQFLO), "import", "postman", "c.json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=environ,
    )
    assert process.stdout is not None
    process.stdout.close()  # `| head -0`: the reader is gone before the first line
    process.wait(timeout=60)

    assert len(list(tmp_path.glob("*.yaml"))) == 9 + 1  # and reqflo.yaml
    assert not list(tmp_path.glob(".reqflo-import-*"))
