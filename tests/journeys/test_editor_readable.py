"""The Run check names missing environment values and secrets in the parts of a journey that
read, while other parts do not (a verifier typed `{{ env.nopeZ }}` in a new step while an
assertion row was still empty, and the check said nothing about it)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reqflo.engine import DefinitionError, Issue, definition_from_data
from reqflo.journeys.editor.readable import context_issues

ENVIRONMENT = {"base_url": "http://127.0.0.1:1", "known": "k"}
SECRETS = frozenset({"token"})


def _step(i: int, url_env: str, expected_envs: list[str], secret: str) -> dict[str, Any]:
    return {
        "id": f"s{i}",
        "request": {
            "method": "GET",
            "url": "{{ env." + url_env + " }}/p" + str(i),
            "headers": {"Authorization": "Bearer {{ secrets." + secret + " }}"},
        },
        "assertions": [
            {"type": "body_contains", "expected": "{{ env." + n + " }}"} for n in expected_envs
        ],
    }


_env = st.sampled_from(["base_url", "known", "nope", "nopeZ"])
_steps = st.lists(
    st.tuples(_env, st.lists(_env, max_size=3), st.sampled_from(["token", "missing"])),
    min_size=1,
    max_size=5,
)
# A broken part: a new assertion row with nothing typed (no path), or a step whose method is
# not one (the whole step is left out: its references are not read).
_breaks = st.lists(
    st.tuples(
        st.sampled_from(["empty_assertion", "bad_method"]), st.integers(0, 4), st.integers(0, 3)
    ),
    min_size=1,
    max_size=4,
)


def _expected(steps: list[dict[str, Any]], bad_steps: set[int]) -> set[tuple[str, str]]:
    found = set()
    for i, step in enumerate(steps):
        if i in bad_steps:
            continue
        url_env = step["request"]["url"].split(".", 1)[1].split(" ")[0]
        if url_env not in ENVIRONMENT:
            code = "no_base_url" if url_env == "base_url" else "unknown_env"
            found.add((code, f"steps[{i}].request.url"))
        if "missing" in step["request"]["headers"]["Authorization"]:
            found.add(("missing_secret", f"steps[{i}].request.headers.Authorization"))
        for j, assertion in enumerate(step["assertions"]):
            name = assertion.get("expected", "").split(".", 1)[-1].split(" ")[0]
            if "expected" in assertion and name not in ENVIRONMENT:
                found.add(("unknown_env", f"steps[{i}].assertions[{j}].expected"))
    return found


@given(shape=_steps, breaks=_breaks)
def test_the_readable_parts_are_checked_against_the_environment_and_the_store(
    shape: list[tuple[str, list[str], str]], breaks: list[tuple[str, int, int]]
) -> None:
    steps = [_step(i, url, expected, secret) for i, (url, expected, secret) in enumerate(shape)]
    bad_steps: set[int] = set()
    for kind, at, position in breaks:
        i = at % len(steps)
        if kind == "bad_method":
            steps[i]["request"]["method"] = "FETCH"
            bad_steps.add(i)
        else:
            rows = steps[i]["assertions"]
            rows.insert(position % (len(rows) + 1), {"type": "json_path"})
    document = {"journey": {"name": "Broken", "steps": steps}}
    try:
        definition_from_data(document, source="<test>")
    except DefinitionError as error:
        problems = error.issues
    else:
        raise AssertionError("the broken document read as a definition")

    issues = context_issues(document, problems, environment=ENVIRONMENT, secret_names=SECRETS)

    assert {(issue.code, issue.path) for issue in issues} == _expected(steps, bad_steps)
    assert all(issue.severity == "error" for issue in issues)
    assert document["journey"]["steps"] == steps  # read, never changed


def test_a_problem_of_the_journey_itself_leaves_nothing_to_check() -> None:
    document = {"journey": {"name": "", "steps": [_step(0, "nopeZ", [], "token")]}}
    problems = [Issue("error", "required", "name", "'name' is required")]
    assert context_issues(document, problems, environment=ENVIRONMENT, secret_names=SECRETS) == []


def test_without_an_environment_or_a_store_there_is_nothing_to_name() -> None:
    document = {"journey": {"name": "x", "steps": [_step(0, "nopeZ", [], "missing")]}}
    problems = [Issue("error", "required", "steps[0].assertions[0].path", "required")]
    assert context_issues(document, problems, environment=None, secret_names=None) == []
