"""curl's options are read as curl reads them: the table of every option and its argument.

An option that takes an argument takes exactly one word; a switch takes none; a word that is no
curl option is reported and takes none. So the URL is never swallowed as an option's value, and
an option's value (a password, a token) never becomes the URL, `base_url` or a report line.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reqflo.engine.imports import ImportResult, SourceError, import_curl
from reqflo.engine.imports.curl_options import (
    LONG_FLAGS,
    LONG_WITH_ARGUMENT,
    SHORT_FLAGS,
    SHORT_NAMES,
    SHORT_WITH_ARGUMENT,
)

URL = "https://api.test/orders/7"
VALUE = "Zq8-vAlue-Xk2"  # stands for an option's value that may be a password
# Options the importer reads into the request itself (their value lands in it by design).
READ_INTO_REQUEST = {
    "request", "header", "data", "data-ascii", "data-binary", "data-raw", "data-urlencode",
    "json", "user", "oauth2-bearer", "cookie", "user-agent", "referer", "url", "url-query",
    "form", "form-string", "config", "upload-file",
}  # fmt: skip


def _everything(result: ImportResult) -> str:
    documents = [journey.document for journey in result.journeys]
    return json.dumps([documents, result.environments]) + result.to_text()


def _only_url(result: ImportResult) -> None:
    [journey] = result.journeys
    [step] = journey.document["journey"]["steps"]
    assert step["request"]["url"] == "{{ env.base_url }}/orders/7"
    assert result.environments == {"default": {"base_url": "https://api.test"}}


@given(st.sampled_from(sorted(LONG_WITH_ARGUMENT - READ_INTO_REQUEST)))
def test_an_option_with_an_argument_takes_one_word_never_the_url(name: str) -> None:
    for command in (f"curl --{name} {VALUE} {URL}", f"curl {URL} --{name} {VALUE}"):
        result = import_curl(command)
        _only_url(result)
        assert VALUE not in _everything(result)
        assert any(f"--{name}" in str(item) for item in result.items)


@given(st.sampled_from(sorted(LONG_FLAGS - {"get", "head", "next"})))
def test_a_switch_takes_no_word(name: str) -> None:
    result = import_curl(f"curl --{name} {URL}")
    _only_url(result)
    if name not in ("location", "follow"):
        assert any(f"--{name}" in str(item) for item in result.items)


@given(st.sampled_from(sorted(SHORT_WITH_ARGUMENT)), st.booleans())
def test_a_short_option_takes_its_value_attached_or_the_next_word(
    letter: str, attached: bool
) -> None:
    if SHORT_NAMES[letter] in READ_INTO_REQUEST:
        return
    spelled = f"-{letter}{VALUE}" if attached else f"-{letter} {VALUE}"
    result = import_curl(f"curl -sS{spelled[1:]} {URL}" if attached else f"curl {spelled} {URL}")
    _only_url(result)
    assert VALUE not in _everything(result)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=3, max_size=20))
def test_a_word_that_is_no_curl_option_is_reported_and_takes_nothing(name: str) -> None:
    if name in LONG_WITH_ARGUMENT | LONG_FLAGS or name.startswith(("no-", "expand-", "-")):
        return
    result = import_curl(f"curl --{name} {URL}")
    _only_url(result)
    assert f"option --{name} is not a curl option; ignored" in [
        item.message for item in result.items
    ]


def test_every_short_option_has_its_long_name() -> None:
    assert set(SHORT_NAMES) == SHORT_WITH_ARGUMENT | SHORT_FLAGS
    for letter, name in SHORT_NAMES.items():
        assert (name in LONG_WITH_ARGUMENT) == (letter in SHORT_WITH_ARGUMENT), letter


@pytest.mark.parametrize(
    ("options", "reported"),
    [
        ("-c jar.txt", "--cookie-jar: a journey keeps cookies between its steps itself"),
        ("--cookie-jar jar.txt", "--cookie-jar: a journey keeps cookies between its steps itself"),
        ("--cacert ca.pem", "option --cacert (and its value) is not imported"),
        ("-E client.pem:" + VALUE, "option --cert (and its value) is not imported"),
        ("-D headers.txt", "--dump-header changes nothing a journey states; ignored"),
        ("--resolve api.test:443:" + VALUE, "--resolve: a journey connects to the host its URL"),
        ("--limit-rate 10k", "--limit-rate changes nothing a journey states; ignored"),
        ("-U proxyuser:" + VALUE, "option --proxy-user (and its value) is not imported"),
        ("-x http://proxy.test:3128", "option --proxy (and its value) is not imported"),
    ],
)
def test_the_options_the_verifier_met_are_read_with_their_argument(
    options: str, reported: str
) -> None:
    result = import_curl(f"curl {options} {URL}")

    _only_url(result)
    assert any(str(item).startswith(f"command 1: {reported}") for item in result.items)
    assert VALUE not in _everything(result)


@pytest.mark.parametrize(
    ("options", "reported"),
    [
        ("-K options.txt", "command 1: left out: -K (--config) reads a file"),
        ("-T upload.bin", "command 1: left out: -T (--upload-file) reads a file"),
    ],
)
def test_a_command_that_needs_a_file_is_left_out_with_the_reason(
    options: str, reported: str
) -> None:
    result = import_curl(f"curl {options} {URL}\ncurl https://api.test/next")

    assert [s["id"] for s in result.journeys[0].document["journey"]["steps"]] == ["get-next"]
    assert any(str(item).startswith(reported) for item in result.skipped)


def test_bodies_and_cookies_read_from_files_are_reported_not_sent_as_text() -> None:
    result = import_curl(
        f"curl -d @body.json -b cookies.txt --data-urlencode 'note@note.txt' {URL}",
        include_sensitive=True,
    )

    [step] = result.journeys[0].document["journey"]["steps"]
    assert step["request"] == {"method": "POST", "url": "{{ env.base_url }}/orders/7"}
    assert [item.message for item in result.skipped] == [
        "--data @FILE reads the body from a file; the body is left out (paste it with --data-raw)",
        "-b FILE reads cookies from a file; not imported",
        "--data-urlencode NAME@FILE reads a file; that field is left out",
    ]


def test_grouped_switches_attached_values_several_urls_and_next() -> None:
    result = import_curl(
        "curl -sSLXPUT -HX-Trace:a https://api.test/a https://api.test/b "
        "-: --data-raw x=1 https://api.test/c"
    )

    steps = result.journeys[0].document["journey"]["steps"]
    assert [(s["request"]["method"], s["request"]["url"]) for s in steps] == [
        ("PUT", "{{ env.base_url }}/a"),
        ("PUT", "{{ env.base_url }}/b"),
        ("POST", "{{ env.base_url }}/c"),
    ]
    assert steps[0]["request"]["headers"] == {"X-Trace": "a"}
    assert "follow_redirects" not in steps[0]  # -L: curl follows, as a journey does
    assert steps[2]["follow_redirects"] is False  # without -L curl does not follow
    assert steps[2]["request"]["form"] == {"x": "1"}


def test_oauth2_bearer_is_a_credential_never_the_url() -> None:
    token = "ghp_" + "a1B2c3D4e5" * 4
    result = import_curl(f"curl --oauth2-bearer {token} {URL}", include_sensitive=True)

    _only_url(result)
    assert token not in _everything(result)
    [step] = result.journeys[0].document["journey"]["steps"]
    assert step["request"]["headers"] == {"Authorization": "{{ secrets.authorization }}"}


@pytest.mark.parametrize(
    "text", ["echo hello", "hello", "wget https://api.test/", "ls -la\ncurl x"]
)
def test_input_that_is_not_curl_is_refused_clearly(text: str) -> None:
    with pytest.raises(SourceError, match="this is not a curl command: the input must start with"):
        import_curl(text)


def test_the_refusal_never_quotes_a_credential_looking_word() -> None:
    token = "xoxb-" + "1234567890-abcdefABCDEF" * 2
    with pytest.raises(SourceError) as refused:
        import_curl(f"{token} curl {URL}")
    assert token not in refused.value.message


@pytest.mark.parametrize(
    ("stray", "reason"),
    [
        ("hunter2", "an argument that is not a URL"),
        ("ghp_" + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6", "shaped like a credential"),
    ],
)
def test_a_stray_word_is_not_taken_for_a_url_nor_quoted(stray: str, reason: str) -> None:
    result = import_curl(f"curl {URL} {stray}")

    _only_url(result)
    assert stray not in _everything(result)
    assert any(reason in item.message for item in result.skipped)


@pytest.mark.parametrize(
    "url", ["localhost:8000/a", "127.0.0.1/a", "[::1]:8080/a", "api.test", "http://x/a"]
)
def test_urls_without_a_scheme_or_a_dot_that_curl_takes_are_taken(url: str) -> None:
    result = import_curl(f"curl {url}")

    assert result.journeys[0].step_count == 1
