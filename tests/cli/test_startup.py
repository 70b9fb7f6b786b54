"""The `reqflo` command starts light: each command imports only what it uses.

CI calls the CLI many times a day; importing httpx, jsonschema, python-jsonpath and rich for
every call cost ~340 ms (issue 17). Each test starts a fresh interpreter, runs one command the
way the console script does, and lists the modules it loaded, so an eager import added anywhere
under `reqflo.cli` or `reqflo.engine` fails here. How long start-up takes is measured by
`bench/startup.py`, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.cli.conftest import REPO, EchoServer, write_journey

# Each test starts an interpreter.
pytestmark = pytest.mark.slow

# Never needed by any offline command; the server's packages never by the CLI at all.
SERVER_ONLY = ("django", "celery", "kombu", "psycopg", "pydantic", "openapi_spec_validator")
# httpx's own command-line client (`httpx._main`) pulls these in; `reqflo` never needs them.
HTTPX_CLI = ("click", "pygments", "rich.syntax")
# Loaded by `reqflo run` only when a journey or a terminal needs them.
ON_DEMAND = ("jsonschema", "referencing", "jsonpath", "ijson", "rich.progress")
# Standard modules a start does not need: messages import difflib, `$uuid` uuid (and platform),
# `--parallel` concurrent.futures, argparse's stock help formatter shutil.
STDLIB_ON_DEMAND = ("difflib", "uuid", "platform", "secrets", "importlib.abc", "shutil")

PROBE = textwrap.dedent(
    """
    import io, json, sys
    from pathlib import Path
    from reqflo.cli.main import main
    from reqflo.cli.streams import Streams

    out, err = io.StringIO(), io.StringIO()
    argv = json.loads(sys.argv[1])
    code = main(argv, Streams(stdout=out, stderr=err, environ={}, cwd=Path.cwd())) if argv else 0
    print(json.dumps({"code": code, "output": out.getvalue() + err.getvalue(),
                      "modules": sorted(m for m, v in sys.modules.items() if v)}))
    """
)


def loaded_by(*argv: str | Path, cwd: Path = REPO) -> tuple[int, str, set[str]]:
    """Run `reqflo ARGV` in a fresh interpreter; return its exit code, output and modules."""
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps([str(arg) for arg in argv])],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=True,
    )
    report = json.loads(completed.stdout)
    return report["code"], report["output"], set(report["modules"])


def fresh_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter from the repository root; return what it printed."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO
    )


def present(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    """Return the packages of `packages` that were imported (a submodule counts)."""
    return sorted(
        name for name in packages if any(m == name or m.startswith(name + ".") for m in modules)
    )


def test_importing_the_cli_loads_no_library_it_might_not_need() -> None:
    _, _, modules = loaded_by()

    assert "reqflo.cli.main" in modules
    heavy = ("httpx", "httpcore", "yaml", "rich", *SERVER_ONLY, *HTTPX_CLI, *ON_DEMAND)
    assert present(modules, heavy) == []
    assert present(modules, ("reqflo.engine",)) == []


def test_help_loads_no_command() -> None:
    code, output, modules = loaded_by("--help")

    assert code == 0
    assert "Run API journeys" in output
    assert present(modules, ("httpx", "yaml", "rich", "reqflo.engine", *ON_DEMAND)) == []
    assert present(modules, STDLIB_ON_DEMAND) == []
    assert present(modules, ("reqflo.cli.run", "reqflo.cli.validate", "reqflo.cli.imports")) == []


def test_validate_loads_no_http_client_and_no_terminal_library(tmp_path: Path) -> None:
    journey = write_journey(
        tmp_path,
        "ping.yaml",
        {
            "name": "Ping",
            "slug": "ping",
            "steps": [
                {
                    "id": "ping",
                    "name": "Ping",
                    "request": {"method": "GET", "url": "{{ env.base_url }}/ping"},
                    "assertions": [
                        {"type": "status_code", "expected": 200},
                        {"type": "json_path", "path": "$.items[0].id", "operator": "exists"},
                    ],
                }
            ],
        },
    )

    code, output, modules = loaded_by("validate", journey, cwd=tmp_path)

    assert code == 0, output
    assert "is valid" in output
    assert "reqflo.engine.definition" in modules
    assert present(modules, ("httpx", "httpcore", "ssl", "rich", *SERVER_ONLY, *ON_DEMAND)) == []
    assert present(modules, STDLIB_ON_DEMAND) == []
    # Nor what only a run needs (the run module, the compiler's results, redaction, data files).
    assert (
        present(modules, ("reqflo.cli.run", "reqflo.engine.redaction.redactor", "reqflo.cli.data"))
        == []
    )
    # A journey without cases needs no input merging, so neither the compiler nor hashlib.
    assert present(modules, ("reqflo.engine.compiler", "hashlib")) == []


def test_validate_loads_jsonpath_only_for_a_path_that_needs_it() -> None:
    # products.yaml has a filter JSONPath (checked with python-jsonpath) and a plain JSON Schema
    # (type, properties, required, items: vouched for without jsonschema).
    code, output, modules = loaded_by("validate", REPO / "examples" / "products.yaml")

    assert code == 0, output
    assert present(modules, ("jsonschema", "jsonpath")) == ["jsonpath"]
    assert present(modules, ("httpx", "rich", "referencing", *SERVER_ONLY)) == []


def test_validate_loads_jsonschema_only_for_a_schema_the_plain_check_cannot_vouch_for(
    tmp_path: Path,
) -> None:
    def journey(schema: object) -> Path:
        step = {
            "id": "s",
            "name": "S",
            "request": {"method": "GET", "url": "{{ env.base_url }}/x"},
            "assertions": [{"type": "json_schema", "schema": schema}],
        }
        return write_journey(tmp_path, "j.yaml", {"name": "J", "slug": "j", "steps": [step]})

    plain = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
    code, output, modules = loaded_by("validate", journey(plain), cwd=tmp_path)
    assert code == 0, output
    assert present(modules, ("jsonschema",)) == []

    with_ref = {"$defs": {"id": {"type": "string"}}, "properties": {"id": {"$ref": "#/$defs/id"}}}
    code, output, modules = loaded_by("validate", journey(with_ref), cwd=tmp_path)
    assert code == 0, output
    assert present(modules, ("jsonschema",)) == ["jsonschema"]

    code, output, modules = loaded_by("validate", journey({"type": "strng"}), cwd=tmp_path)
    assert code == 2
    assert "invalid JSON Schema" in output
    assert present(modules, ("jsonschema",)) == ["jsonschema"]


def test_python_jsonpath_is_imported_with_its_cheap_name_pattern() -> None:
    # Its default environments compile `[\u0080-\uFFFF...]` classes at import (~30 ms); reqflo
    # imports it with the same set spelled cheaply (reqflo.engine.jsonpaths).
    code = (
        "import sys\n"
        "from reqflo.engine.jsonpaths import CHEAP_KEY_PATTERN, compile_query\n"
        "assert 'jsonpath' not in sys.modules\n"
        "assert compile_query(\"$.a[?@.b == 1].c\").findall({'a': [{'b': 1, 'c': 2}]}) == [2]\n"
        "import jsonpath\n"
        "assert jsonpath.DEFAULT_ENV.lexer.key_pattern == CHEAP_KEY_PATTERN\n"
        "assert jsonpath.findall('$.名前', {'名前': 3}) == [3]\n"
        "print('ok')\n"
    )
    completed = fresh_python(code)

    assert completed.stdout.strip() == "ok", completed.stderr


def test_a_run_loads_httpx_without_its_command_line_client(
    tmp_path: Path, echo: EchoServer
) -> None:
    journey = write_journey(
        tmp_path,
        "ping.yaml",
        {
            "name": "Ping",
            "slug": "ping",
            "steps": [
                {
                    "id": "ping",
                    "name": "Ping",
                    "request": {"method": "GET", "url": "{{ env.base_url }}/ping"},
                    "assertions": [{"type": "status_code", "expected": 200}],
                }
            ],
        },
    )
    (tmp_path / "reqflo.yaml").write_text(f"environments:\n  local:\n    base_url: {echo.url}\n")

    code, output, modules = loaded_by("run", journey, "--env", "local", cwd=tmp_path)

    assert code == 0, output
    assert "1 run: 1 passed" in output
    assert "httpx" in modules
    # Output that is not a terminal is printed without rich (reqflo.cli.plain).
    assert present(modules, ("rich", "concurrent.futures", *SERVER_ONLY, *HTTPX_CLI)) == []
    assert present(modules, (*ON_DEMAND, "difflib", "uuid", "secrets")) == []
    # The JSON and JUnit writers load only when chosen.
    assert present(modules, ("xml", "reqflo.engine.report.junit_report")) == []


def test_pyyaml_is_imported_with_its_cheap_non_printable_pattern() -> None:
    # Its reader compiles a negated class of the BMP at import (~9 ms); reqflo seeds `re`'s
    # cache with the same set spelled positively (reqflo.engine.yaml_module).
    code = (
        "from reqflo.engine.yaml_module import CHEAP_NON_PRINTABLE, yaml\n"
        "import yaml.reader\n"
        "assert yaml.reader.Reader.NON_PRINTABLE.pattern == CHEAP_NON_PRINTABLE\n"
        "try:\n"
        "    yaml.load('a: \\x07', Loader=yaml.SafeLoader)\n"
        "except yaml.reader.ReaderError as error:\n"
        "    print(error.character == 7)\n"
    )
    completed = fresh_python(code)

    assert completed.stdout.strip() == "True", completed.stderr


def test_httpx_still_works_without_its_command_line_client() -> None:
    code = (
        "import sys, reqflo.cli.main, httpx\n"
        "assert 'httpx._main' not in sys.modules or sys.modules['httpx._main'] is None\n"
        "print(httpx.Client().headers['user-agent'].split('/')[0])\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )

    assert completed.stdout.strip() == "python-httpx"


def test_a_plain_schema_finds_a_valid_response_valid_without_jsonschema(
    tmp_path: Path, echo: EchoServer
) -> None:
    def journey(required: list[str]) -> Path:
        schema = {
            "type": "object",
            "required": required,
            "properties": {"path": {"type": "string"}, "query": {"type": "object"}},
        }
        step = {
            "id": "ping",
            "name": "Ping",
            "request": {"method": "GET", "url": "{{ env.base_url }}/ping"},
            "assertions": [{"type": "json_schema", "schema": schema}],
        }
        return write_journey(tmp_path, "ping.yaml", {"name": "P", "slug": "p", "steps": [step]})

    (tmp_path / "reqflo.yaml").write_text(f"environments:\n  local:\n    base_url: {echo.url}\n")

    code, output, modules = loaded_by("run", journey(["path"]), "--env", "local", cwd=tmp_path)
    assert code == 0, output
    assert present(modules, ("jsonschema", "referencing", "attr", "rpds")) == [], output

    # A response that fails is described by jsonschema, as before.
    code, output, modules = loaded_by("run", journey(["missing"]), "--env", "local", cwd=tmp_path)
    assert code == 1, output
    assert '$: "missing" is a required property' in output
    assert present(modules, ("jsonschema",)) == ["jsonschema"]
