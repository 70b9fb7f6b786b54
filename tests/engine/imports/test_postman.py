"""Postman collections to journeys: real collections, script translation, secrets, limits."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reqflo.engine.imports import SourceError, import_postman
from tests.engine.imports.conftest import DATA, journey, run_journey, statuses

CODEGEN = DATA / "postman" / "codegen-test-cases.postman_collection.json"
PMPACT = DATA / "postman" / "pmpact-hub-discovery.postman_collection.json"
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def collection(items: list[Any], **extra: Any) -> str:
    return json.dumps({"info": {"name": "Shop", "schema": SCHEMA}, "item": items, **extra})


def request(name: str, method: str, url: str, **extra: Any) -> dict[str, Any]:
    events = extra.pop("test", None)
    item: dict[str, Any] = {"name": name, "request": {"method": method, "url": url, **extra}}
    if events:
        item["event"] = [{"listen": "test", "script": {"exec": events.splitlines()}}]
    return item


def test_the_code_generators_collection_runs_against_httpbin(httpbin: str) -> None:
    result = import_postman(CODEGEN.read_bytes())

    imported = journey(result, "code-gen-test-cases")
    # postman-echo.com, where most requests go, becomes env.base_url.
    assert result.environments == {"default": {"base_url": "https://postman-echo.com"}}
    run = run_journey(imported, httpbin)
    steps = statuses(run)
    on_base = [
        step["id"]
        for step in imported.document["journey"]["steps"]
        if step["request"]["url"].startswith("{{ env.base_url }}")
    ]
    assert len(on_base) == 14
    assert all(steps[step_id] == "passed" for step_id in on_base), steps


def test_the_code_generators_report_names_every_request_and_line_that_did_not_map() -> None:
    result = import_postman(CODEGEN.read_bytes())

    report = [str(item) for item in result.skipped]
    assert 'item "LINK request": method LINK is not supported' in report[-8]
    assert any(
        line.startswith('item "POST Raw Text" › event test › line 13: ')
        and "_.has(responseJSON, 'data')" in line
        for line in report
    )
    # What was imported differently is said too.
    assert (
        'item "POST form data with file" › body formdata: multipart form-data is sent as '
        "application/x-www-form-urlencoded"
    ) in [str(item) for item in result.items if item.severity == "changed"]


def test_the_pmpact_collection_keeps_its_status_checks_and_url_variable() -> None:
    result = import_postman(PMPACT.read_bytes())

    [imported] = result.journeys
    steps = imported.document["journey"]["steps"]
    assert len(steps) == 61
    assert steps[0]["request"]["url"] == "{{ env.base_url }}/platform/itvonline/ctv/programmes"
    assert steps[0]["request"]["query"]["features"] == "hls,aes"
    assert steps[0]["assertions"] == [{"type": "status_code", "expected": 200}]
    assert not result.skipped
    assert any("{{url}}" in item.location for item in result.items)  # base_url needs a value


SCRIPT_TESTS = """pm.test("Status code is 200", function () {
    pm.response.to.have.status(200);
});
const data = pm.response.json();
pm.test("echoes", () => { pm.expect(data.json.user).to.eql("ada"); });
pm.expect(pm.response.responseTime).to.be.below(5000);
pm.expect(pm.response.headers.get("Content-Type")).to.include("json");
pm.environment.set("token", pm.response.json().json.token);
pm.sendRequest("https://example.com", function () {});
"""


def test_scripts_become_assertions_and_outputs_used_by_later_steps(httpbin: str) -> None:
    source = collection(
        [
            request(
                "Log in",
                "POST",
                "{{baseUrl}}/anything",
                body={
                    "mode": "raw",
                    "raw": '{"user": "{{user}}", "token": "tok-{{$guid}}", "n": {{count}}}',
                    "options": {"raw": {"language": "json"}},
                },
                test=SCRIPT_TESTS + "pm.expect(pm.response.json().json.n).to.equal(3);\n",
            ),
            request(
                "Who am I",
                "GET",
                "{{baseUrl}}/bearer",
                auth={"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}"}]},
                test="pm.response.to.have.status(200);\n"
                "pm.expect(pm.response.json().authenticated).to.be.true;",
            ),
        ],
        variable=[{"key": "user", "value": "ada"}, {"key": "count", "value": "3"}],
    )
    environment = json.dumps(
        {"name": "Local", "values": [{"key": "baseUrl", "value": "http://127.0.0.1:1"}]}
    )

    result = import_postman(source, environment=environment)

    [imported] = result.journeys
    login, whoami = imported.document["journey"]["steps"]
    # `{{count}}` outside quotes: Postman puts the text in, so the body goes as text the same
    # way and `n` arrives as the number 3, not the string "3".
    assert login["request"]["body"] == (
        '{"user": "{{ variables.user }}", "token": "tok-{{ $uuid }}", "n": {{ variables.count }}}'
    )
    assert login["request"]["headers"] == {"Content-Type": "application/json"}
    assert login["assertions"] == [
        {"type": "status_code", "expected": 200},
        {"type": "json_path", "path": "$.json.user", "operator": "equals", "expected": "ada"},
        {"type": "response_time", "operator": "less_than", "expected": 5000},
        {"type": "header", "name": "Content-Type", "operator": "contains", "expected": "json"},
        {"type": "json_path", "path": "$.json.n", "operator": "is_type", "expected": "number"},
        {"type": "json_path", "path": "$.json.n", "operator": "equals", "expected": 3},
    ]
    assert login["outputs"] == {"token": {"from": "body", "path": "$.json.token", "secret": True}}
    assert whoami["request"]["headers"] == {
        "Authorization": "Bearer {{ steps.log-in.outputs.token }}"
    }
    assert result.environments == {"Local": {"base_url": "http://127.0.0.1:1"}}
    [leftover] = result.skipped
    assert leftover.location == 'item "Log in" › event test › line 9'
    assert "pm.sendRequest is not supported" in leftover.message

    run = run_journey(imported, httpbin)
    assert statuses(run) == {"log-in": "passed", "who-am-i": "passed"}, run.to_dict()


# Marked with "zq…qz" so a value cannot be a word the journey says anyway ("env.base_url").
CREDENTIAL_VALUES = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="{}"),
    min_size=8,
    max_size=40,
).map(lambda text: f"zq{text}qz")


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(api_key=CREDENTIAL_VALUES, token=CREDENTIAL_VALUES, password=CREDENTIAL_VALUES)
def test_an_environment_secret_value_never_lands_in_a_journey(
    api_key: str, token: str, password: str
) -> None:
    source = collection(
        [
            request(
                "Orders",
                "GET",
                "{{host}}/orders?key={{api_key}}",
                header=[{"key": "X-Session", "value": "{{session_token}}"}],
                auth={"type": "bearer", "bearer": [{"key": "token", "value": token}]},
            ),
            request(
                "Admin",
                "POST",
                "{{host}}/admin",
                header=[{"key": "Authorization", "value": f"Basic {password}"}],
                auth={
                    "type": "basic",
                    "basic": [
                        {"key": "username", "value": "ops"},
                        {"key": "password", "value": password},
                    ],
                },
            ),
        ]
    )
    environment = json.dumps(
        {
            "name": "prod",
            "values": [
                {"key": "host", "value": "https://api.example.com"},
                {"key": "api_key", "value": api_key},
                {"key": "session_token", "value": token, "type": "secret"},
            ],
        }
    )

    result = import_postman(source, environment=environment)

    produced = json.dumps(
        [j.document for j in result.journeys]
        + [result.environments, result.to_dict(), result.to_text()]
    ) + yaml.safe_dump([j.document for j in result.journeys])
    for value in (api_key, token, password):
        for spelling in _spellings(value):
            assert spelling not in produced
    assert {s.name for s in result.secrets} >= {"api_key", "session_token", "bearer_token"}
    assert result.environments == {"prod": {"base_url": "https://api.example.com"}}


def _spellings(value: str) -> set[str]:
    return {
        value,
        json.dumps(value)[1:-1],
        quote(value, safe=""),
        base64.b64encode(value.encode()).decode(),
    }


def test_split_by_folders_makes_one_journey_per_top_level_folder() -> None:
    source = collection(
        [
            {
                "name": "Carts",
                "item": [
                    request("Create", "POST", "https://shop.test/carts"),
                    {"name": "Deep", "item": [request("Get", "GET", "https://shop.test/carts/1")]},
                ],
            },
            {"name": "Orders", "item": [request("List", "GET", "https://shop.test/orders")]},
            request("Health", "GET", "https://shop.test/health"),
        ]
    )

    folders = import_postman(source)
    whole = import_postman(source, split="collection")

    assert [(j.name, j.step_count) for j in folders.journeys] == [
        ("Shop", 1),
        ("Carts", 2),
        ("Orders", 1),
    ]
    assert [(j.name, j.step_count) for j in whole.journeys] == [("Shop", 4)]


def test_a_collection_of_twenty_megabytes_is_refused_with_the_limit() -> None:
    item = request("Big", "POST", "https://x.test/", body={"mode": "raw", "raw": "x" * 1_000_000})
    source = collection([item] * 20)

    with pytest.raises(
        SourceError, match=r"the collection is 19\.\d MiB; the import limit is 10 MiB"
    ):
        import_postman(source)


def test_folders_nested_too_deeply_are_refused_naming_the_folder() -> None:
    node: dict[str, Any] = request("Leaf", "GET", "https://x.test/")
    for level in range(20):
        node = {"name": f"level {level}", "item": [node]}

    with pytest.raises(SourceError, match=r'folder "level 3" is nested more than 16 folders'):
        import_postman(collection([node]))


def test_json_nested_beyond_the_parser_is_refused_not_a_traceback() -> None:
    with pytest.raises(SourceError, match="nested"):
        import_postman('{"info": ' + "[" * 100_000 + "]" * 100_000 + "}")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("not json", "not valid JSON: line 1, column 1"),
        ('{"item": []}', "no 'info' object"),
        (
            '{"info": {"name": "v1", "schema": '
            '"https://schema.getpostman.com/json/collection/v1"}, "item": []}',
            "only Postman Collection v2.0 and v2.1",
        ),
    ],
)
def test_what_is_not_a_v2_collection_gets_a_clear_message(source: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        import_postman(source)


def test_unsupported_auth_and_methods_are_reported_where_they_are() -> None:
    source = collection(
        [
            {
                "name": "F",
                "auth": {"type": "oauth2"},
                "item": [request("Token", "GET", "https://x.test/a")],
            },
            request("Purge", "PURGE", "https://x.test/b"),
        ]
    )

    result = import_postman(source)

    assert [str(item) for item in result.skipped] == [
        'item "Purge": method PURGE is not supported (GET, POST, PUT, PATCH, DELETE, HEAD, '
        "OPTIONS); left out",
        "collection: journey 'Shop' not created: none of its requests mapped",
        'folder "F" › item "Token" › auth oauth2: auth type \'oauth2\' is not supported; add the '
        "header yourself",
    ]


def test_the_report_masks_a_secret_value_a_script_line_quotes() -> None:
    value = "Sup3r-Secret-Value!"
    source = collection(
        [
            request(
                "Pay",
                "POST",
                "https://pay.test/charge?access_token=tok-literal-42&currency=EUR",
                test=f'pm.expect(pm.response.text()).to.not.include("{value}");',
            )
        ]
    )
    source_with_script = json.loads(source)
    source_with_script["item"][0]["event"].append(
        {"listen": "prerequest", "script": {"exec": [f"pm.variables.set('k', '{value}');"]}}
    )
    environment = json.dumps({"name": "e", "values": [{"key": "pay_secret", "value": value}]})

    result = import_postman(json.dumps(source_with_script), environment=environment)

    report = result.to_text()
    assert value not in report
    assert "•••••" in report
    step = result.journeys[0].document["journey"]["steps"][0]
    assert step["request"]["query"] == {
        "access_token": "{{ secrets.access_token }}",
        "currency": "EUR",
    }
    assert "tok-literal-42" not in json.dumps(result.journeys[0].document) + report


@settings(max_examples=30, deadline=None)
@given(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=3),
    # "Q7" first and "X9" last: a password's first or last half is masked wherever it stands
    # (a server's cut, docs/secrets.md), and one made of lower-case letters there may be a word
    # of the report itself ("valu" is in "values", "http" ends `Q7http`), which the report must
    # be free to say.
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=2, max_size=10).map(
        lambda rest: "Q7" + rest + "X9"
    ),
)
# `Q7http` (before "X9") masked the `http` of the script's URL: its last half is a cut of it.
@example("a", "Q7httpX9")
def test_a_short_value_is_not_masked_in_the_report_and_a_password_is(
    user: str, password: str
) -> None:
    auth = {
        "type": "basic",
        "basic": [
            {"key": "username", "value": user},
            {"key": "password", "value": password},
            {"key": "showPassword", "value": False},
        ],
    }
    item = request(
        "Pay",
        "POST",
        "https://pay.test/charge",
        auth=auth,
        test=f'pm.expect(pm.response.text()).to.include("{user} {password}");'
        + "\npm.sendRequest('https://pay.test/audit');",
    )
    environment = json.dumps(
        {"name": "e", "values": [{"key": "pin", "value": "7", "type": "secret"}]}
    )

    result = import_postman(collection([item]), environment=environment)

    report = result.to_text()
    assert password not in report
    assert "pm.sendRequest('https://pay.test/audit')" in report  # not cut to pieces
    assert 'item "Pay" › auth basic' in report
    secret = next(s.name for s in result.secrets if s.name.startswith("basic_auth"))
    assert secret == f"basic_auth_{user}"
    assert f"from secret '{secret}'" in report  # the same name as in Secrets to store
