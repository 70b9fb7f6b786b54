"""Issue 13, kind 3: a body that ended early or does not decode is a named step error.

Every way a body can be cut or mangled on the wire — inside a gzip or deflate stream, inside a
chunk, short of its Content-Length, or with data that is not what its Content-Encoding says —
ends the step `error` with kind `incomplete_body` or `invalid_body` and a sentence saying what
happened; the assertions never judge the fragment. Whole bodies in the same encodings pass.
"""

from __future__ import annotations

import gzip

import httpx
import pytest

from reqflo.engine import new_client
from tests.engine.exactness_target import Targets, run_text, targets_fixture  # noqa: F401

CHECKED = """
journey:
  name: Body
  steps:
    - id: get
      request: {method: METHOD, url: "{{ env.base_url }}PATH"}
      assertions:
        - {type: status_code, expected: 200}
        - {type: body_contains, expected: '"ok"'}
"""


def run(targets: Targets, path: str, method: str = "GET") -> tuple[str, str | None, str | None]:
    text = CHECKED.replace("METHOD", method).replace("PATH", path)
    if method == "HEAD":
        text = text.replace("""        - {type: body_contains, expected: '"ok"'}\n""", "")
    step = run_text(text, targets.main.base_url).steps[0]
    error = step.error
    return step.status, error.kind if error else None, error.message if error else None


@pytest.mark.parametrize(
    "path",
    [
        "/encoded?enc=gzip",
        "/encoded?enc=gzip2",
        "/encoded?enc=deflate",
        "/encoded?enc=raw-deflate",
        "/encoded?enc=identity",
        "/chunked",
    ],
)
def test_whole_bodies_pass(targets: Targets, path: str) -> None:
    assert run(targets, path) == ("passed", None, None)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        # The input: the first half of a valid gzip stream, Content-Length matching.
        ("/encoded?enc=gzip&cut=half", "the gzip stream ended early"),
        ("/encoded?enc=gzip2&cut=half", "the gzip stream ended early"),
        ("/encoded?enc=deflate&cut=half", "the deflate stream ended early"),
        ("/encoded?enc=raw-deflate&cut=half", "the deflate stream ended early"),
        ("/chunked?cut=1", "the connection closed before its end"),
        ("/close", "the connection closed before its end"),
    ],
)
def test_a_body_that_ended_early_is_an_incomplete_body_error(
    targets: Targets, path: str, reason: str
) -> None:
    status, kind, message = run(targets, path)

    assert (status, kind) == ("error", "incomplete_body")
    assert message is not None
    assert message.startswith("the response body is incomplete: ")
    assert reason in message


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/encoded?enc=gzip&cut=garbage", "not valid gzip data"),
        ("/encoded?enc=deflate&cut=garbage", "not valid deflate data"),
        ("/chunked?bad=1", "framing is invalid"),
    ],
)
def test_a_body_that_does_not_decode_is_an_invalid_body_error(
    targets: Targets, path: str, reason: str
) -> None:
    status, kind, message = run(targets, path)

    assert (status, kind) == ("error", "invalid_body")
    assert message is not None
    assert reason in message
    # The bytes that did not parse are quoted as text, not as a Python repr.
    assert "bytearray(" not in message
    assert "b'" not in message


def test_the_assertions_never_judge_a_fragment(targets: Targets) -> None:
    """The fragment holds `"ok"`: judged, it would pass; it must not be judged at all."""
    text = CHECKED.replace("METHOD", "GET").replace("PATH", "/encoded?enc=gzip&cut=half")
    step = run_text(text, targets.main.base_url).steps[0]

    assert step.status == "error"
    assert step.attempts[0].assertions == []
    response = step.attempts[0].response
    assert response is not None  # what did arrive is still shown as evidence
    assert response.body is not None
    assert response.body.startswith('{"ok": true')


def test_a_head_response_announcing_gzip_has_no_body_to_decode(targets: Targets) -> None:
    assert run(targets, "/encoded?enc=gzip", method="HEAD") == ("passed", None, None)


@pytest.mark.parametrize("label", ["none", "UTF-8", "gzip", "br", "zstd", "compress"])
@pytest.mark.parametrize(("method", "status"), [("HEAD", None), ("GET", 204), ("GET", 304)])
def test_an_empty_body_is_never_decoded_whatever_its_content_encoding(
    targets: Targets, label: str, method: str, status: int | None
) -> None:
    path = f"/encoded?enc=identity&label={label}" + (f"&status={status}" if status else "")
    text = CHECKED.replace("METHOD", method).replace("PATH", path)
    text = text.replace("expected: 200", f"expected: {status or 200}")
    text = text.replace("""        - {type: body_contains, expected: '"ok"'}\n""", "")
    step = run_text(text, targets.main.base_url).steps[0]
    assert (step.status, step.error) == ("passed", None)


@pytest.mark.parametrize("label", ["none", "UTF-8", "compress"])
def test_a_body_in_an_unknown_content_encoding_is_an_invalid_body_error(
    targets: Targets, label: str
) -> None:
    status, kind, message = run(targets, f"/encoded?enc=identity&label={label}")
    assert (status, kind) == ("error", "invalid_body")
    assert f"Content-Encoding '{label.lower()}'" in str(message)


@pytest.mark.parametrize("split", [1, 2, 3, 7])
@pytest.mark.parametrize("encoding", ["deflate", "raw-deflate", "gzip"])
def test_a_compressed_body_decodes_however_its_first_bytes_are_chunked(
    targets: Targets, encoding: str, split: int
) -> None:
    assert run(targets, f"/encoded?enc={encoding}&split={split}") == ("passed", None, None)


@pytest.mark.parametrize("encoding", [None, "gzip"])
def test_a_response_a_transport_built_in_memory_is_read_whole(encoding: str | None) -> None:
    """httpx has read (and decoded) such a body already; the engine must take it as it is."""
    document = b'{"ok": true, "n": 1}'
    headers = {"Content-Type": "application/json"}
    if encoding:
        headers["Content-Encoding"] = encoding

    def handler(request: httpx.Request) -> httpx.Response:
        content = gzip.compress(document) if encoding else document
        return httpx.Response(200, content=content, headers=headers)

    with new_client(verify_tls=True, transport=httpx.MockTransport(handler)) as client:
        result = run_text(
            CHECKED.replace("METHOD", "GET").replace("PATH", "/x"), "http://t", client=client
        )

    assert result.steps[0].status == "passed", result.steps[0].error
