"""`reqflo.yaml`: environments, cases, lookup and every problem reported with its key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from reqflo.cli.config import ConfigError, find_config, load_config


def write(folder: Path, text: str) -> Path:
    path = folder / "reqflo.yaml"
    path.write_text(text)
    return path


def test_environments_and_cases_load(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            "environments:\n  demo: {base_url: 'http://x', currency: EUR}\n"
            "default_env: demo\n"
            "journeys:\n  checkout:\n    cases:\n      Happy path: {email: a@x.io}\n",
        )
    )

    assert config.environment("demo") == {"base_url": "http://x", "currency": "EUR"}
    assert config.default_env == "demo"
    case = config.case(slug="checkout", file=tmp_path / "checkout.yaml", name="Happy path")
    assert case == {"email": "a@x.io"}


def test_cases_match_by_file_name_too(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, "journeys:\n  flows/buy.yaml:\n    cases:\n      One: {n: 1}\n")
    )
    (tmp_path / "flows").mkdir()

    case = config.case(slug="other-slug", file=tmp_path / "flows" / "buy.yaml", name="One")

    assert case == {"n": 1}


def test_every_problem_is_reported_with_its_path(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "environment: {}\n"
        "environments:\n  demo: {base_url: ftp://x}\n  bad: [1, 2]\n"
        "default_env: prod\n"
        "journeys:\n  checkout: {case: {}}\n",
    )

    with pytest.raises(ConfigError) as error:
        load_config(path)

    message = str(error.value)
    assert "environment: unknown key; did you mean 'environments'?" in message
    assert "environments.demo.base_url: 'ftp://x' must start with http:// or https://" in message
    assert "environments.bad: expected a mapping, found list" in message
    assert "default_env: 'prod' is not one of the environments" in message
    assert "journeys.checkout.case: unknown key; did you mean 'cases'?" in message


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(
        # libyaml's wording (the pure-Python parser's is "expected the node content").
        ConfigError,
        match=r"reqflo\.yaml line 3: invalid YAML: did not find expected node content",
    ):
        load_config(write(tmp_path, "environments:\n  demo: [\n"))


@pytest.mark.parametrize(
    "value",
    [
        "[" * 65 + "]" * 65,  # flow style, just past the limit
        "".join(f"\n{'  ' * (level + 2)}k:" for level in range(70)) + " 1",  # block style
        "[" * 5000 + "]" * 5000,  # past Python's recursion limit (was an internal error)
    ],
    ids=["flow-65", "block-70", "flow-5000"],
)
def test_a_config_nested_too_deep_is_refused_with_a_reason(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match=r"reqflo\.yaml.*(nested more than 64|nesting depth)"):
        load_config(write(tmp_path, f"environments:\n  demo:\n    base_url: {value}\n"))


def test_config_next_to_the_journey_wins_over_the_current_directory(tmp_path: Path) -> None:
    journeys, cwd = tmp_path / "journeys", tmp_path / "cwd"
    journeys.mkdir()
    cwd.mkdir()
    write(cwd, "{}")
    beside = write(journeys, "{}")

    assert find_config(journeys / "j.yaml", cwd=cwd) == beside
    assert find_config(tmp_path / "j.yaml", cwd=cwd) == cwd / "reqflo.yaml"
    assert find_config(tmp_path / "j.yaml", cwd=tmp_path) is None


def test_without_a_config_an_environment_is_unknown(tmp_path: Path) -> None:
    config = load_config(None)

    with pytest.raises(ConfigError, match=r"no reqflo\.yaml was found"):
        config.environment("demo")


@pytest.mark.parametrize(
    ("value", "variables", "expected"),
    [
        ("http://127.0.0.1:${PORT:-8000}/api", {}, "http://127.0.0.1:8000/api"),
        ("http://127.0.0.1:${PORT:-8000}/api", {"PORT": "8080"}, "http://127.0.0.1:8080/api"),
        ("${HOST}/v1", {"HOST": "https://api.test"}, "https://api.test/v1"),
        ("${EMPTY:-}x", {}, "x"),
        ("price $5, literal $${KEEP}", {"KEEP": "no"}, "price $5, literal ${KEEP}"),
    ],
)
def test_environment_values_expand_shell_variables(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    value: str,
    variables: dict[str, str],
    expected: str,
) -> None:
    for name in ("PORT", "HOST", "EMPTY", "KEEP"):
        monkeypatch.delenv(name, raising=False)
    for name, variable in variables.items():
        monkeypatch.setenv(name, variable)
    config = load_config(write(tmp_path, f"environments:\n  e: {{note: '{value}'}}\n"))

    assert config.environment("e")["note"] == expected


def test_an_unset_variable_without_default_is_a_problem_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQFLO_TEST_UNSET", raising=False)
    path = write(tmp_path, "environments:\n  e: {base_url: 'http://${REQFLO_TEST_UNSET}/x'}\n")

    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "environments.e.base_url: ${REQFLO_TEST_UNSET} is not set" in str(error.value)
