"""curl commands and HAR files to journeys, run against a loopback httpbin.

A HAR recorded by real Chromium is imported in tests/e2e/test_har_import.py (browser tests
share one Playwright session).
"""

from __future__ import annotations

import json

import pytest

from reqflo.engine.imports import SourceError, import_curl, import_har
from tests.engine.imports.conftest import run_journey, statuses

# As Chrome's "Copy as cURL (bash)" writes them: line continuations, $'...' strings, -b.
CHROME_CURLS = r"""curl 'BASE/post?source=devtools' \
  -H 'accept: application/json' \
  -H 'content-type: application/json' \
  -H 'authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2ln' \
  -b 'session=abc123; theme=dark' \
  --data-raw $'{"note":"it\'s fine","n":2}' \
  --compressed
curl 'BASE/anything/form' -X PUT -H 'Content-Type: application/x-www-form-urlencoded' \
  -d 'a=1' -d 'b=two words'
curl -sSL -u ada:lovelace BASE/basic-auth/ada/lovelace
curl -G BASE/get --data-urlencode 'q=a&b'
"""


def test_devtools_curl_commands_run_against_httpbin(httpbin: str) -> None:
    result = import_curl(CHROME_CURLS.replace("BASE", httpbin))

    [imported] = result.journeys
    post, put, _, get = imported.document["journey"]["steps"]
    assert post["request"] == {
        "method": "POST",
        "url": "{{ env.base_url }}/post",
        "query": {"source": "devtools"},
        "headers": {"accept": "application/json"},
        "json": {"note": "it's fine", "n": 2},
    }
    assert put["request"]["form"] == {"a": "1", "b": "two words"}
    assert get["request"]["query"] == {"q": "a&b"}
    assert result.environments == {"default": {"base_url": httpbin}}
    dropped = [item.location for item in result.skipped]
    assert dropped == [
        "command 1 › header authorization",
        "command 1 › header Cookie",
        "command 3 › header Authorization",
    ]
    run = run_journey(imported, httpbin)
    # Without its credentials the basic-auth request is refused, as it should be.
    assert statuses(run) == {
        "post-post": "passed",
        "put-anything-form": "passed",
        "get-basic-auth-ada-lovelace": "passed",
        "get-get": "passed",
    }
    assert run.steps[2].final.response.status == 401  # type: ignore[union-attr]


def test_credentials_kept_on_request_become_secrets_never_values(httpbin: str) -> None:
    result = import_curl(
        CHROME_CURLS.replace("BASE", httpbin), include_sensitive=True, name="Devtools"
    )

    [imported] = result.journeys
    text = json.dumps(imported.document) + result.to_text()
    for value in ("eyJhbGciOiJIUzI1NiJ9", "abc123", "YWRhOmxvdmVsYWNl", "ada:lovelace"):
        assert value not in text
    assert [s.name for s in result.secrets] == ["authorization", "cookie", "authorization_2"]
    run = run_journey(
        imported,
        httpbin,
        secrets={
            "authorization": "Bearer t",
            "cookie": "a=b",
            "authorization_2": "Basic YWRhOmxvdmVsYWNl",
        },
    )
    assert set(statuses(run).values()) == {"passed"}
    assert run.steps[2].final.response.status == 200  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no curl command found"),
        ("wget http://x", "must start with 'curl'"),
        ("curl 'unclosed", "cannot be split into words"),
    ],
)
def test_input_that_is_not_curl_gets_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        import_curl(text)


def test_a_command_without_url_is_reported_and_nothing_else_is_lost() -> None:
    result = import_curl("curl -X POST\ncurl ftp://files.test/x\ncurl http://x.test/ok")

    assert [str(i) for i in result.skipped] == [
        "command 1: left out: no URL",
        "command 2: left out: ftp:// is not an http(s) URL",
    ]
    assert result.journeys[0].step_count == 1


def test_a_file_that_is_not_a_har_gets_a_clear_message() -> None:
    with pytest.raises(SourceError, match=r"no 'log\.entries' list"):
        import_har('{"log": {}}')


def test_credentials_in_the_url_never_reach_the_journey() -> None:
    result = import_curl(
        "curl 'https://ada:lovelace@api.test/items?access_token=tok-99&page=2'",
    )

    document = json.dumps(result.journeys[0].document)
    assert "lovelace" not in document + result.to_text()
    assert "tok-99" not in document + result.to_text()
    assert result.environments == {"default": {"base_url": "https://api.test"}}
    assert result.journeys[0].document["journey"]["steps"][0]["request"]["query"] == {"page": "2"}
    assert [str(i) for i in result.skipped] == [
        "command 1: the user and password in the URL were left out; send them as a header",
        "command 1 › query access_token: left out (credentials are imported only when asked)",
    ]


@pytest.mark.parametrize("status", [0, -1, None, "200", 600])
def test_a_har_entry_without_an_http_status_is_imported_and_reported(status: object) -> None:
    har = {
        "log": {
            "entries": [
                {
                    "request": {"method": "GET", "url": "https://api.test/blocked"},
                    "response": {"status": status, "content": {"mimeType": "text/plain"}},
                }
            ]
        }
    }

    result = import_har(json.dumps(har))

    [step] = result.journeys[0].document["journey"]["steps"]
    assert "assertions" not in step
    [item] = result.items
    assert item.location == "entries[0]"
    assert item.severity == "changed"
    assert item.message.startswith("response status ")
    assert "the browser got no HTTP response" in item.message
