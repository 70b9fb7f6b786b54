"""A variable or parameter named like a credential becomes a secret reference in every importer,
never a plain input (docs/imports.md, Variables rule 3: a credential-looking name wins)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.engine.imports import (
    ImportResult,
    import_curl,
    import_har,
    import_openapi,
    import_postman,
)

CREDENTIAL_NAMES = [
    "token",
    "password",
    "api_key",
    "apiKey",
    "access_token",
    "clientSecret",
    "sessionToken",
    "bearerToken",
]
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def _texts(result: ImportResult) -> str:
    return json.dumps([j.document for j in result.journeys])


def _inputs(result: ImportResult) -> set[str]:
    return {
        item["name"] for j in result.journeys for item in j.document["journey"].get("inputs", [])
    }


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(CREDENTIAL_NAMES), st.sampled_from(["header", "query", "url", "body"]))
def test_a_postman_credential_named_variable_without_a_value_is_a_secret(
    name: str, place: str
) -> None:
    ref = "{{" + name + "}}"
    url = f"https://shop.test/orders/{ref}" if place == "url" else "https://shop.test/orders"
    request: dict[str, object] = {"method": "POST", "url": url}
    if place == "header":
        request["header"] = [{"key": "X-Custom", "value": ref}]
    if place == "query":
        request["url"] = {
            "raw": url,
            "host": ["shop", "test"],
            "path": ["orders"],
            "query": [{"key": "q", "value": ref}],
        }
    if place == "body":
        request["body"] = {"mode": "raw", "raw": json.dumps({"note": ref})}
    source = json.dumps(
        {"info": {"name": "Shop", "schema": SCHEMA}, "item": [{"name": "Buy", "request": request}]}
    )

    result = import_postman(source)

    assert "{{ secrets." + name + " }}" in _texts(result)
    assert f"inputs.{name}" not in _texts(result)
    assert name not in _inputs(result)
    assert name in {secret.name for secret in result.secrets}


def test_a_session_token_set_in_one_folder_and_used_in_another_is_a_secret() -> None:
    source = json.dumps(
        {
            "info": {"name": "Shop", "schema": SCHEMA},
            "item": [
                {
                    "name": "Login",
                    "item": [
                        {
                            "name": "Sign in",
                            "request": {"method": "POST", "url": "https://shop.test/login"},
                            "event": [
                                {
                                    "listen": "test",
                                    "script": {
                                        "exec": [
                                            'pm.environment.set("sessionToken", '
                                            "pm.response.json().token);"
                                        ]
                                    },
                                }
                            ],
                        }
                    ],
                },
                {
                    "name": "Orders",
                    "item": [
                        {
                            "name": "List",
                            "request": {
                                "method": "GET",
                                "url": "https://shop.test/orders",
                                "header": [{"key": "X-Session", "value": "{{sessionToken}}"}],
                            },
                        }
                    ],
                },
            ],
        }
    )

    result = import_postman(source)
    orders = next(j for j in result.journeys if j.name == "Orders")

    headers = orders.document["journey"]["steps"][0]["request"]["headers"]
    assert headers == {"X-Session": "{{ secrets.sessionToken }}"}
    assert "inputs" not in orders.document["journey"]
    assert "sessionToken" in {secret.name for secret in result.secrets}


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(CREDENTIAL_NAMES))
def test_an_openapi_path_parameter_named_like_a_credential_is_a_secret(name: str) -> None:
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "Reset", "version": "1"},
        "paths": {
            "/reset/{" + name + "}": {
                "post": {
                    "operationId": "reset",
                    "parameters": [
                        {
                            "name": name,
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                            "example": "hunter2pw",
                        }
                    ],
                    "responses": {"204": {"description": "done"}},
                }
            }
        },
    }

    result = import_openapi(json.dumps(spec))

    step = result.journeys[0].document["journey"]["steps"][0]
    assert step["request"]["url"].endswith("/reset/{{ secrets." + name + " }}")
    assert name not in _inputs(result)
    assert "hunter2pw" not in _texts(result) + result.to_text()


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(CREDENTIAL_NAMES))
def test_curl_and_har_placeholders_named_like_a_credential_are_secrets(name: str) -> None:
    url = f"https://shop.test/orders/{{{{orderId}}}}?q={{{{{name}}}}}"
    har = {
        "log": {
            "version": "1.2",
            "entries": [
                {
                    "request": {
                        "method": "GET",
                        "url": url,
                        "headers": [{"name": "X-Trace", "value": "{{" + name + "}}"}],
                    },
                    "response": {"status": 200},
                }
            ],
        }
    }

    for result in (
        import_curl(f"curl '{url}' -H 'X-Trace: {{{{{name}}}}}'"),
        import_har(json.dumps(har)),
    ):
        request = result.journeys[0].document["journey"]["steps"][0]["request"]
        assert request["url"] == "{{ env.base_url }}/orders/{{ inputs.orderId }}"
        assert request["query"] == {"q": "{{ secrets." + name + " }}"}
        assert request["headers"]["X-Trace"] == "{{ secrets." + name + " }}"
        assert _inputs(result) == {"orderId"}
        assert name in {secret.name for secret in result.secrets}
