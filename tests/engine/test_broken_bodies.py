"""Issue 13, kind 3: a body that ended early or does not decode is a named step error.

Every way a body can be cut or mangled on the wire — inside a gzip or deflate stream, inside a
chunk, short of its Content-Length, or with data that is not what its Content-Encoding says —
ends the step `error` with kind `incomplete_body` or `invalid_body` and a sentence saying what
happened; the assertions never judge the fragment. Whole bodies in the same encodings pass.
"""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from typing import Any

import httpx
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from reqflo.engine import new_client
from reqflo.engine.decoding import _GZIP_MAGIC
from tests.engine.exactness_target import (  # noqa: F401
    BOMB_BYTES,
    BOMBS,
    DOCUMENT,
    Targets,
    bomb,
    encoded_payload,
    run_text,
    targets_fixture,
)

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
        "/encoded?enc=br",
        "/encoded?enc=gzip-br",
        "/encoded?enc=gzip2&split=1",
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
        ("/encoded?enc=gzip&cut=garbage", "the gzip stream is corrupt"),
        ("/encoded?enc=deflate&cut=garbage", "the deflate stream is corrupt"),
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


# -- the property: every codec, every way to damage it, the same named kinds in plain words --

CODECS = ["gzip", "gzip2", "deflate", "raw-deflate", "br", "gzip-br"]
# What each codec is called in its messages: the outer coding (undone first) for a stack.
CODEC_NAME = {"gzip2": "gzip", "raw-deflate": "deflate", "gzip-br": "br"}


def _member_ends(codec: str) -> set[int]:
    """Where a multi-member gzip body may be cut and still be a whole, shorter, valid body."""
    if codec != "gzip2":
        return set()
    return {encoded_payload(codec)[0].index(b"\x1f\x8b", 2)}


def _assert_plain(message: str | None, codec: str, *, names: tuple[str, ...] = ()) -> None:
    """The message names the codec (or one of `names`) and quotes no bytes."""
    assert message is not None
    names = names or (CODEC_NAME.get(codec, codec),)
    assert any(f"the {name} stream" in message for name in names), message
    for repr_mark in ("b'", 'b"', "\\x", "bytearray", "_ERROR_", "Error -"):
        assert repr_mark not in message, message


def _fetch(targets: Targets, codec: str, damage: str, split: int | None) -> tuple[Any, ...]:
    path = f"/encoded?enc={codec}&{damage}" + (f"&split={split}" if split else "")
    return run(targets, path)


@settings(max_examples=60, deadline=None)
@given(
    codec=st.sampled_from(CODECS),
    where=st.floats(0, 1, exclude_max=True),
    short=st.booleans(),
    split=st.none() | st.integers(1, 40),
)
@example(codec="gzip2", where=0.5, short=False, split=None)
def test_a_body_cut_anywhere_is_an_incomplete_body_error(
    targets: Targets, codec: str, where: float, short: bool, split: int | None
) -> None:
    """Cut at any byte but the member boundaries of a multi-member gzip body (where what is
    left is a whole, valid body), with its Content-Length saying so or promising more."""
    size = len(encoded_payload(codec)[0])
    cut = 1 + int(where * (size - 1))
    assume(cut not in _member_ends(codec))
    status, kind, message = _fetch(
        targets, codec, f"cut={cut}" + ("&short=1" if short else ""), None if short else split
    )

    assert (status, kind) == ("error", "incomplete_body"), message
    assert message is not None
    if short:
        assert "the connection closed before its end" in message
    else:
        assert message.endswith("ended early"), message
        _assert_plain(message, codec)


@settings(max_examples=60, deadline=None)
@given(
    codec=st.sampled_from(CODECS),
    junk=st.binary(min_size=1, max_size=40),
    split=st.none() | st.integers(1, 40),
)
@example(codec="gzip", junk=b"junkjunk", split=None)
@example(codec="gzip2", junk=b"\x1f", split=None)  # a lone first byte of the gzip magic
@example(codec="gzip", junk=b"\x00" * 8, split=None)
@example(codec="br", junk=b"\x00", split=None)
def test_junk_after_a_whole_body_is_never_a_pass(
    targets: Targets, codec: str, junk: bytes, split: int | None
) -> None:
    """Bytes after a whole stream are junk (`invalid_body`), except that after a gzip member
    bytes starting with the gzip magic number are the next member (which then ends early or
    is corrupt: an error too, of a named kind)."""
    status, kind, message = _fetch(targets, codec, f"junk={junk.hex()}", split)

    assert status == "error"
    _assert_plain(message, codec)
    if CODEC_NAME.get(codec, codec) == "gzip" and _GZIP_MAGIC.startswith(junk[:2]):
        assert kind in ("incomplete_body", "invalid_body")
    else:
        assert kind == "invalid_body"
        assert message is not None
        assert f"junk follows the end of the {CODEC_NAME.get(codec, codec)} stream" in message
        if codec in ("gzip", "deflate", "raw-deflate"):  # zlib says where its stream ended
            assert message.endswith(f"({len(junk)} byte{'' if len(junk) == 1 else 's'})")


# Codecs with a checksum over the decoded data: a changed byte past the header cannot pass.
CHECKED_AFTER = {"gzip": 10, "gzip2": 10, "deflate": 2}


def _still_decodes(codec: str, at: int, xor: int) -> bool:
    """Whether zlib itself decodes the changed stream to the same document, checksum and all
    (a flipped bit Deflate never reads, such as padding after a block's end, changes nothing:
    gzip at byte 42, xor 1, is one)."""
    data = bytearray(encoded_payload(codec)[0])
    data[at] ^= xor
    wbits = 15 if codec == "deflate" else 31
    decoded, rest = b"", bytes(data)
    try:
        while rest:
            decoder = zlib.decompressobj(wbits=wbits)
            decoded += decoder.decompress(rest)
            if not decoder.eof:
                return False
            rest = decoder.unused_data
    except zlib.error:
        return False
    return decoded == DOCUMENT


@settings(max_examples=60, deadline=None)
@example(codec="gzip", where=42 / 76, xor=1)  # decodes unchanged (see `_still_decodes`)
@given(
    codec=st.sampled_from(CODECS),
    where=st.floats(0, 1, exclude_max=True),
    xor=st.integers(1, 255),
)
def test_a_corrupt_byte_is_a_named_error_or_decodes(
    targets: Targets, codec: str, where: float, xor: int
) -> None:
    """br and raw deflate carry no checksum: a changed byte may decode to other data (the
    assertions then judge it). Otherwise, and always in words, a named error."""
    size = len(encoded_payload(codec)[0])
    at = int(where * size)
    status, kind, message = _fetch(targets, codec, f"flip={at}:{xor}", None)

    if codec in CHECKED_AFTER and at >= CHECKED_AFTER[codec] and not _still_decodes(codec, at, xor):
        assert status == "error", (at, xor)
    if kind is not None and kind in ("incomplete_body", "invalid_body"):
        # br decodes a changed byte to other data without noticing; gzip, inside, may.
        _assert_plain(message, codec, names=("br", "gzip") if codec == "gzip-br" else ())
    else:
        assert kind is None, message  # passed or failed on the assertions: decoded


STATUS_ONLY = """
journey:
  name: Bomb
  steps:
    - id: get
      request: {method: GET, url: "{{ env.base_url }}/encoded?enc=ENC"}
      assertions: [{type: status_code, expected: 200}]
"""


@pytest.mark.parametrize("coding", sorted(BOMBS))
def test_a_small_body_that_decodes_to_64_mib_costs_time_not_memory(
    targets: Targets, coding: str
) -> None:
    """A few KB that decode to 64 MiB of zeros: every decoder hands the engine bounded pieces
    (brotli used to hand it the whole 64 MiB of one chunk at once)."""
    bomb(coding)  # made before the measure (the server sends it from memory)
    tracemalloc.start()
    try:
        text = STATUS_ONLY.replace("ENC", f"bomb-{coding}")
        step = run_text(text, targets.main.base_url).steps[0]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert step.status == "passed", step.error
    response = step.attempts[0].response
    assert response is not None
    assert response.body_size == BOMB_BYTES
    assert peak < BOMB_BYTES // 4, f"{peak / 2**20:.1f} MiB at the peak"
