"""A credential found by its shape, under any name, in any importer, never lands in clear.

Not in a journey, an environment (`reqflo.yaml`, Environment.values), the report or the version
message: it becomes `{{ secrets.NAME }}` and only the name travels.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.engine.imports import ImportResult, import_curl, import_har, import_postman
from reqflo.engine.imports.credentials import looks_like_credential_value, mask

CREDENTIALS = [
    "ghp_" + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    "xoxb-2468013579-1357924680-AbCdEfGhIjKlMnOp",
    "AKIAIOSFODNN7EXAMPLE",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJlLXZhbHVl",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "glpat-xYz12AbC34dEf56GhI78jK",
    "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW",
    "postgres://app:Pa55-w0rd@db.internal:5432/shop",
    "q7Xv9LmN2pR4tW6yZ8bD1fH3jK5sU0cE",  # 32 random characters
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",  # 40 hex
]
NOT_CREDENTIALS = [
    "550e8400-e29b-41d4-a716-446655440000",
    "https://api.example.com/v1/orders?page=2",
    "an_ordinary_snake_case_identifier_1",
    "Hello, world! This is a sentence of ordinary prose, 2026.",
    "{{ secrets.token }}",
    "12345678901234567890123456789012345",
]
credential = st.sampled_from(CREDENTIALS)
# Names that say nothing about a credential: only the value's shape can find it.
plain_name = st.sampled_from(["x_custom", "note", "ref", "data", "q", "value"])


def _clear_anywhere(result: ImportResult, value: str) -> bool:
    secret_part = value.split("://", 1)[1].split("@")[0] if "://" in value else value
    text = json.dumps([j.document for j in result.journeys]) + json.dumps(result.environments)
    text += result.to_text() + json.dumps(result.to_dict())
    return secret_part in text or secret_part.lower() in text.lower()


def test_the_shapes_are_recognised_and_ordinary_values_are_not() -> None:
    assert all(looks_like_credential_value(value) for value in CREDENTIALS)
    assert not any(looks_like_credential_value(value) for value in NOT_CREDENTIALS)


@given(credential, plain_name)
def test_curl_header_query_body_and_path_credentials_become_secrets(value: str, name: str) -> None:
    command = (
        f"curl 'https://api.test/hooks/{value if '://' not in value else 'x'}?{name}=V' "
        f"-H '{name}: V' --data-raw '{{\"{name}\": \"V\"}}' -H 'Content-Type: application/json'"
    ).replace("V", value)
    result = import_curl(command)

    assert not _clear_anywhere(result, value)
    assert result.secrets
    assert "secrets." in json.dumps(result.journeys[0].document)


@given(credential, plain_name)
@settings(max_examples=30)
def test_postman_variables_environment_headers_and_bodies(value: str, name: str) -> None:
    collection = {
        "info": {"name": "C", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/"},
        "variable": [{"key": name, "value": value}],
        "item": [
            {
                "name": "Send",
                "request": {
                    "method": "POST",
                    "url": "https://user:"
                    + "hunter2hunter2"
                    + "@api.test/send?"
                    + name
                    + "="
                    + value,
                    "header": [{"key": "X-" + name, "value": value}],
                    "body": {
                        "mode": "raw",
                        "raw": json.dumps({name: value, "ref": "{{" + name + "}}"}),
                        "options": {"raw": {"language": "json"}},
                    },
                },
            }
        ],
    }
    environment = {"name": "staging", "values": [{"key": "env_" + name, "value": value}]}
    result = import_postman(json.dumps(collection), environment=json.dumps(environment))

    assert not _clear_anywhere(result, value)
    assert not _clear_anywhere(result, "hunter2hunter2")
    assert result.secrets


@given(credential)
@settings(max_examples=15)
def test_har_header_values_with_innocent_names(value: str) -> None:
    har = {
        "log": {
            "entries": [
                {
                    "request": {
                        "method": "GET",
                        "url": "https://api.test/a",
                        "headers": [{"name": "X-Trace", "value": value}],
                    },
                    "response": {"status": 200, "content": {"mimeType": "application/json"}},
                }
            ]
        }
    }
    result = import_har(json.dumps(har))

    assert not _clear_anywhere(result, value)


@settings(deadline=None)  # a few hundred ms on a loaded machine
@given(credential)
def test_the_report_masks_a_credential_it_would_quote(value: str) -> None:
    result = import_curl(f"curl https://api.test/a --frobnicate {value} https://api.test/b")

    assert not _clear_anywhere(result, value)
    assert "[credential]" in mask(f"token={value}")


def test_a_body_field_named_password_becomes_a_secret() -> None:
    result = import_curl("curl https://api.test/login -d 'user=ada&password=lovelace1'")

    [step] = result.journeys[0].document["journey"]["steps"]
    assert step["request"]["form"] == {"user": "ada", "password": "{{ secrets.password }}"}
    assert "lovelace1" not in result.to_text()
