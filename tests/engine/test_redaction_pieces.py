"""Issue 13, the remaining kinds: spellings no escape undoes, and pieces of a secret.

A fresh verifier found a secret leaking as: pieces URL syntax cut it into, a host label (and its
IDNA spelling), another Unicode normal form, mojibake applied twice, line-wrapped base64, an
error message quoting part of it, and an escape fragment at the evidence cap. The oracle here
extends `test_redaction_spellings`' (written independently of the redactor): it also undoes
those spellings, and counts as a leak any piece of the secret (cut at URL syntax) of at least
MIN_SPELLED_CHARS characters. Each input the verifier reported is one case; Hypothesis draws
the rest from the whole printable range plus URL syntax, against a loopback server that echoes
the path, query, Host header and body, spelled each of those ways.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import re
import unicodedata

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from reqflo.engine import REDACTED, Redactor, RunOptions, RunResult
from reqflo.engine.redaction import MIN_SPELLED_CHARS
from tests.engine.exactness_target import Targets, run_text, targets_fixture  # noqa: F401
from tests.engine.test_redaction_spellings import PRINTABLE, outputs
from tests.engine.test_redaction_spellings import spellings as escaped_spellings

# -- the oracle --------------------------------------------------------------------------------

_DELIMITERS = re.compile(r"([:/?#\[\]@&=;\\])")
_WRAPPED_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]|\r?\n)+={0,2}")


def pieces(secret: str) -> list[str]:
    """The secret, and each piece URL syntax may cut it into that is long enough to recognise:
    a parser cuts at some of the delimiters (a path keeps `@ & = ;`), so every slice from the
    start or just after a delimiter to the end or just before a later one, keeping the
    delimiters it did not cut at — also those at its ends (`j1o:#rest` cut at `#` leaves
    `j1o:`) — and holding something besides delimiters (written here as slices, not as the
    redactor builds them)."""
    delimiters = list(_DELIMITERS.finditer(secret))
    starts = [0, *(match.end() for match in delimiters)]
    ends = [*(match.start() for match in delimiters), len(secret)]
    found = {
        secret[start:end]
        for start in starts
        for end in ends
        if end - start >= MIN_SPELLED_CHARS and _DELIMITERS.sub("", secret[start:end])
    }
    # A value and each piece stripped of the whitespace at its ends (header values, servers).
    found |= {piece.strip() for piece in [secret, *found]} - {secret}
    return [secret, *sorted(piece for piece in found if len(piece) >= MIN_SPELLED_CHARS)]


def _unmojibake(text: str) -> set[str]:
    out = set()
    for codec in ("latin-1", "cp1252"):
        with contextlib.suppress(UnicodeError):
            out.add(text.encode(codec).decode("utf-8"))
    return out


def _base64_texts(text: str) -> set[str]:
    out = set()
    for match in _WRAPPED_BASE64.finditer(text):
        run = re.sub(r"\r?\n", "", match.group()).rstrip("=")
        for offset in range(4):
            chunk = run[offset:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            with contextlib.suppress(binascii.Error, ValueError):
                out.add(base64.b64decode(chunk).decode("utf-8", "replace"))
    return out


def _punycode(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        try:
            return match.group()[4:].encode().decode("punycode")
        except UnicodeError:
            return match.group()

    return re.sub(r"(?i)xn--[a-z0-9-]+", one, text)


def views(text: str) -> set[str]:
    """Every view of the text: escapes undone, then mojibake (twice), base64 (wrapped or not),
    Punycode, and each in NFKC form (which all four normal forms of a value share)."""
    found = {text}
    for _ in range(2):
        more = set()
        for view in found:
            more |= _unmojibake(view) | _base64_texts(view) | {_punycode(view)}
        found |= more
    spelled = set()
    for view in found:
        spelled |= escaped_spellings(view)
    return spelled | {unicodedata.normalize("NFKC", v) for v in spelled}


def leaked(text: str, secret: str) -> list[str]:
    found = views(text)
    forms = {unicodedata.normalize("NFKC", p).lower() for p in pieces(secret)}
    forms |= {unicodedata.normalize("NFKC", p.casefold()) for p in pieces(secret)}
    return sorted(form for form in forms if any(form in view for view in found))


def assert_no_leak(result: RunResult, secret: str, control: str = "") -> None:
    shown = views(control) if control else set()
    found = {}
    for name, text in outputs(result).items():
        hits = [hit for hit in leaked(text, secret) if not any(hit in v for v in shown)]
        if hits:
            found[name] = hits
    assert found == {}


# -- the journeys ------------------------------------------------------------------------------

MIRRORED = """
journey:
  name: A secret in every part of a URL, and spelled by the server
  steps:
    - id: path
      always: true
      request: {method: GET, url: "{{ env.base_url }}/mirror/a/{{ secrets.s }}/b"}
    - id: query
      always: true
      request: {method: GET, url: "{{ env.base_url }}/mirror?k={{ secrets.s }}&z=1"}
    - id: params
      always: true
      request:
        method: GET
        url: "{{ env.base_url }}/mirror"
        query: {k: "{{ secrets.s }}"}
    - id: body
      always: true
      request: {method: POST, url: "{{ env.base_url }}/mirror", body: "p={{ secrets.s }}&q=2"}
SPELLINGS
"""

SPELL_STEP = """
    - id: spell-{n}
      always: true
      request:
        method: POST
        url: "{{{{ env.base_url }}}}/spell?as={how}"
        body: "{{{{ secrets.s }}}}"
"""

HOWS = [
    "NFC",
    "NFD",
    "NFKC",
    "NFKD",
    "moji-latin-1~latin-1",
    "moji-cp1252~cp1252",
    "moji-latin-1~cp1252",
    "moji-cp1252~latin-1",
    "b64wrap-76-0",
    "b64wrap-76-1",
    "b64wrap-64-2",
    "b64wrap-64-0",
    "idna",
]


def journey(hows: list[str]) -> str:
    steps = "".join(SPELL_STEP.format(n=n, how=how) for n, how in enumerate(hows))
    return MIRRORED.replace("SPELLINGS", steps)


_control: dict[str, str] = {}


def control(targets: Targets) -> str:
    """What the outputs show whatever the secret is (route names, field names)."""
    if not _control:
        result = run_text(journey(HOWS), targets.main.base_url, secrets={"s": "Ctl-7q%Zx"})
        _control.update(outputs(result))
    return "\n".join(_control.values())


# The verifier's inputs, one case each.
CASES = [
    's()$G?s<ouPtp&"J33zY',  # cut by `?` and `&`; a form parser re-joins it with `=`
    "abcd/../efgh=ijkl#mnop",  # dot segments, a fragment
    "user:pässwörd@hôst",  # userinfo syntax, non-ASCII
    "Ünïcödé-ﬁle-Ω",  # NFD, NFKC (ligature), mojibake
    "Geheimnis-äöü-2024",  # mojibake twice
    "pässwörd",  # an IDNA label
    # A path keeps `@ & = ; : , \` whole: runs of parts across delimiters the parser did not
    # cut at (the second verifier's inputs).
    "c@Rk,\\elp#/6EX79Pn&d",
    "XyPW&4bY&)[r|D?(VI\\x",
    "}@rj#V,N3#]T&Pap4|5S",
    "abc@defgh#ijkl",
    # A short part and the delimiter after (or before) it, cut at the next one: `j1o:` is what
    # a path keeps of `j1o:#…` (the fragment goes), `?Zq` … what a query keeps.
    "j1o:#Rest-Of-It-9",
    "j1o:?Rest-Of-It-9",
    "Rest-Of-It-9#?Zq8",
    "ab/&cd#ef:/gh",
]


@pytest.mark.parametrize("secret", CASES, ids=ascii)
def test_the_verifiers_inputs_leave_no_piece_and_no_spelling(targets: Targets, secret: str) -> None:
    result = run_text(journey(HOWS), targets.main.base_url, secrets={"s": secret})
    assert "skipped" not in [s.status for s in result.steps]
    # The server really answered each spelling (no step errored before the echo).
    assert [s.attempts[-1].response is not None for s in result.steps] == [True] * len(result.steps)
    assert_no_leak(result, secret, control(targets))


URL_SYNTAX = st.sampled_from([*list("#?&=/:@;[]\\"), "../", "/./", "%"])
WITH_SYNTAX = st.lists(
    st.one_of(st.text(PRINTABLE, min_size=1, max_size=8), URL_SYNTAX), min_size=3, max_size=7
).map("".join)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    secret=st.tuples(st.sampled_from(["", "", " ", "\t"]), WITH_SYNTAX, st.sampled_from(["", " "]))
    .map("".join)
    .filter(lambda s: len(set(s.lower())) >= 6)
)
@example(secret="Hunter2/Secret ")
def test_no_piece_or_spelling_of_a_secret_with_url_syntax_reaches_any_output(
    targets: Targets, secret: str
) -> None:
    """The whole printable range plus URL syntax, through every part of a URL and every
    spelling the server makes, against every output."""
    assume(not leaked(control(targets), secret))
    result = run_text(journey(HOWS), targets.main.base_url, secrets={"s": secret})
    assert_no_leak(result, secret, control(targets))


_SHORT_PART = st.text(st.sampled_from("abcxyzJKQ0189-_.~"), min_size=1, max_size=3)
_DELIMITER_RUN = st.text(st.sampled_from(":/?#[]@&=;\\"), min_size=1, max_size=3)
_LONG_PART = st.text(PRINTABLE, min_size=6, max_size=10).filter(
    lambda s: len(set(s.lower())) >= 5 and s.strip() == s
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    short=_SHORT_PART,
    delimiters=_DELIMITER_RUN,
    long=_LONG_PART,
    short_first=st.booleans(),
)
@example(short="0", delimiters="://", long="A00123", short_first=False)  # no public scheme
def test_a_short_part_keeps_no_delimiter_beside_it_in_any_output(
    targets: Targets, short: str, delimiters: str, long: str, short_first: bool
) -> None:
    """A part shorter than MIN_SPELLED_CHARS beside URL delimiters (`j1o:#rest`): where the
    URL cuts at the second delimiter, the part and the first (`j1o:`) is a piece of the secret
    as recognisable as any other of its length."""
    secret = short + delimiters + long if short_first else long + delimiters + short
    assume(not leaked(control(targets), secret))
    result = run_text(journey([]), targets.main.base_url, secrets={"s": secret})
    assert_no_leak(result, secret, control(targets))


# -- hosts -------------------------------------------------------------------------------------

IN_THE_HOST = """
journey:
  name: A secret in a host name
  steps:
    - id: go
      request: {method: GET, url: "http://{{ secrets.s }}.invalid./path"}
"""


@pytest.mark.parametrize(
    "secret", ["Tenant-SECRET-Host", "Pässwörd-Straße", "kunde-ÄÖÜ"], ids=ascii
)
def test_a_secret_in_a_host_is_masked_in_every_spelling_the_host_takes(secret: str) -> None:
    """httpx lower-cases the host and IDNA-encodes it; DNS errors quote it."""
    result = run_text(IN_THE_HOST, "http://unused", secrets={"s": secret})

    attempt = result.steps[0].attempts[0]
    assert attempt.error is not None
    assert_no_leak(result, secret)
    if attempt.request is not None:
        assert "Host" not in attempt.request.headers or REDACTED in attempt.request.headers["Host"]


# -- error messages ----------------------------------------------------------------------------

USERINFO = """
journey:
  name: A password in the URL's userinfo
  steps:
    - id: sign-in
      request: {method: GET, url: "http://user:{{ secrets.pw }}@127.0.0.1:9/"}
"""


@pytest.mark.parametrize("secret", ["abcd/efgh?ijkl#mnop", "abcdefgh#ijkl", "x1y2z3w4?q"])
def test_a_url_broken_by_a_secret_is_named_not_quoted(secret: str) -> None:
    """httpx would say `Invalid port: 'abcd'`: the engine names the step and field instead."""
    result = run_text(USERINFO, "http://unused", secrets={"pw": secret})

    error = result.steps[0].attempts[0].error
    assert error is not None
    assert error.kind == "invalid_request"
    assert "step 'sign-in'" in error.message
    assert "url:" in error.message
    assert_no_leak(result, secret)


@pytest.mark.parametrize("secret", CASES[:3], ids=ascii)
def test_a_runs_log_lines_hold_no_piece_of_a_secret(
    targets: Targets, secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The log lines of a run (httpx's request lines at INFO, as the Cloud Runner's worker
    writes them) under the worker's log mask, with the secret cut by URL syntax."""
    from reqflo.secrets.logredact import redact_logs
    from reqflo.secrets.resolution import ResolvedSecrets

    resolved = ResolvedSecrets(values={"s": secret}, redact=frozenset({secret}))
    with caplog.at_level(logging.DEBUG), redact_logs(resolved):
        logging.getLogger("httpx").setLevel(logging.INFO)
        run_text(journey(HOWS), targets.main.base_url, secrets={"s": secret})

    lines = [record.getMessage() for record in caplog.records]
    # The request lines were logged (the `/` after `a` may be masked: with the dot segment
    # gone, `/efgh=ijkl` is the last characters of the secret's `../efgh=ijkl`).
    assert any("/mirror/a" in line for line in lines)
    assert [line for line in lines if leaked(line, secret)] == []


def test_log_lines_mask_the_pieces_of_a_secret(caplog: pytest.LogCaptureFixture) -> None:
    from reqflo.secrets.logredact import redact_logs
    from reqflo.secrets.resolution import ResolvedSecrets

    secret = 's()$G?s<ouPtp&"J33zY'
    resolved = ResolvedSecrets(values={"s": secret}, redact=frozenset({secret}))
    with caplog.at_level(logging.INFO), redact_logs(resolved):
        logging.getLogger("reqflo.test").info("echo: s<ouPtp=&%s=", '"J33zY')
        logging.getLogger("reqflo.test").info("Invalid port: %r", "s()$G")

    assert [leaked(r.getMessage(), secret) for r in caplog.records] == [[], []]


def test_the_log_mask_keeps_the_words_around_a_secret(caplog: pytest.LogCaptureFixture) -> None:
    """A worker adds its run's redactor texts to the log mask before each step: the strings
    built from a secret (the sent URL) are not among them, or their pieces (host, port, path
    words) would be masked in every later line."""
    from reqflo.secrets.logredact import redact_logs
    from reqflo.secrets.resolution import ResolvedSecrets

    secret = "c@Rk,\\elp#/6EX79Pn&d"
    redactor = Redactor([secret])
    redactor.add(f"http://127.0.0.1:8799/echo/{secret}/x", derived=True)
    assert secret in redactor.texts()
    with (
        caplog.at_level(logging.INFO),
        redact_logs(ResolvedSecrets(values={}, redact=frozenset())) as mask,
    ):
        mask.add(*redactor.texts())
        logging.getLogger("reqflo.test").info("GET http://127.0.0.1:8799/echo/c@Rk,\\elp/x")
        logging.getLogger("reqflo.test").info(
            "step 2/3 json-check: passed http://127.0.0.1:8799/echo"
        )

    first, second = (record.getMessage() for record in caplog.records)
    assert leaked(first, secret) == []
    assert first.startswith("GET http://127.0.0.1:8799/echo/")
    assert second == "step 2/3 json-check: passed http://127.0.0.1:8799/echo"


# -- the evidence cap --------------------------------------------------------------------------

CAPPED = """
journey:
  name: Cut
  inputs: [{name: pad, default: ""}]
  steps:
    - id: echo
      request:
        method: POST
        url: "{{ env.base_url }}/echo"
        json: {a_pad: "{{ inputs.pad }}", b_key: "{{ secrets.key }}"}
"""

_FRAGMENT = re.compile(r"(?:\\u[0-9a-fA-F]{0,3}|%[0-9a-fA-F]?|\\u[dD][89abAB][0-9a-fA-F]{2})$")


@pytest.mark.parametrize("shift", range(0, 14))
def test_the_evidence_cap_never_leaves_an_escape_fragment(targets: Targets, shift: int) -> None:
    """The echo spells `é€😀` as `\\u00e9\\u20ac\\ud83d\\ude00`: the cap falls at each position
    of those escapes; the stored body ends before the escape, never inside it."""
    secret = "\u00e9\u20ac\U0001f600-Zugang-77"
    limit = 400
    probe = run_text(
        CAPPED, targets.main.base_url, inputs={"pad": "p" * 100}, secrets={"key": secret}
    )
    whole = probe.steps[0].attempts[0].response.body  # type: ignore[union-attr]
    assert whole is not None
    # The raw echo (the `body` field) spells it with JSON's escapes, twice escaped.
    start = whole.index(REDACTED)
    pad = "p" * (100 + limit - shift - start)
    result = run_text(
        CAPPED,
        targets.main.base_url,
        inputs={"pad": pad},
        secrets={"key": secret},
        options=RunOptions(body_limit_bytes=limit),
    )
    body = result.steps[0].attempts[0].response.body  # type: ignore[union-attr]
    assert body is not None
    assert _FRAGMENT.search(body) is None, body[-20:]
    assert_no_leak(result, secret)


def test_a_redactor_masks_every_spelling_without_a_server() -> None:
    """The same spellings made in-process, for many more secrets (no network)."""

    @settings(max_examples=150, deadline=None)
    @given(secret=st.text(PRINTABLE, min_size=6, max_size=16).filter(lambda s: not s.isascii()))
    def check(secret: str) -> None:
        raw = secret.encode()
        encoded = base64.b64encode(b"ab" + raw + b" trailing text here").decode()
        texts = [
            *(unicodedata.normalize(form, secret) for form in ("NFC", "NFD", "NFKC", "NFKD")),
            raw.decode("latin-1").encode().decode("cp1252", "replace"),
            raw.decode("cp1252", "replace").encode().decode("latin-1"),
            "\n".join(encoded[i : i + 64] for i in range(0, len(encoded), 64)),
            "\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)),
        ]
        redactor = Redactor([secret])
        for text in texts:
            masked = redactor.redact(text)
            assert leaked(masked, secret) == [], (text, masked)

    check()
