"""A secret that is a structure (an object or array input, a secret output captured as one) is
masked part by part: a journey can use one leaf (`{{ inputs.creds.password }}`) without the rest.

The rule (``reqflo.engine.redaction.secret_texts``): every non-empty string leaf, and every number
leaf whose text has at least ``MIN_NUMBER_LEAF`` characters, is masked like a whole secret;
booleans, null, short numbers and mapping keys are not. The property runs Hypothesis-drawn
nested structures through the engine against a loopback server and looks for every leaf that
must be masked, in every spelling, in the evidence, the JSON and JUnit reports, the CLI table
and the log line.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reqflo.engine import REDACTED, Redactor, secret_texts
from reqflo.engine.redaction import MIN_NUMBER_LEAF
from reqflo.engine.values import member_text
from tests.engine.exactness_target import Targets, run_text, targets_fixture  # noqa: F401
from tests.engine.test_redaction_spellings import PRINTABLE, control_outputs, leaked, outputs

Path = tuple[str | int, ...]

# Strings with some variety, so that none turns up in a report by chance ("status").
STRINGS = st.text(PRINTABLE, min_size=8, max_size=16).filter(lambda s: len(set(s.lower())) >= 4)
LONG_NUMBERS = st.one_of(
    st.integers(min_value=10**7, max_value=10**30),
    st.integers(min_value=-(10**30), max_value=-(10**7)),
    st.decimals(min_value=Decimal("1000000.5"), max_value=Decimal("1e9"), places=7),
)
UNMASKED = st.one_of(st.booleans(), st.none(), st.integers(min_value=0, max_value=99))
LEAVES = st.one_of(STRINGS, LONG_NUMBERS, UNMASKED)
KEYS = st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True)
STRUCTURES = st.dictionaries(
    KEYS,
    st.recursive(
        LEAVES,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3),
            st.dictionaries(KEYS, inner, min_size=1, max_size=3),
        ),
        max_leaves=6,
    ),
    min_size=1,
    max_size=4,
)


def leaves(value: Any, path: Path = ()) -> list[tuple[Path, Any]]:
    """Return (path, leaf) for every scalar inside ``value``."""
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in leaves(item, (*path, key))]
    if isinstance(value, list):
        return [pair for index, item in enumerate(value) for pair in leaves(item, (*path, index))]
    return [(path, value)]


def must_mask(leaf: Any) -> str | None:
    """Return the text of a leaf the rule masks, or None (independent of the redactor)."""
    if isinstance(leaf, str):
        return leaf
    if isinstance(leaf, int | Decimal) and not isinstance(leaf, bool):
        text = str(leaf)
        return text if len(text) >= MIN_NUMBER_LEAF else None
    return None


def reference(root: str, path: Path) -> str:
    return root + "".join(f"[{p}]" if isinstance(p, int) else member_text(p) for p in path)


def journey(paths: list[Path]) -> str:
    """A journey using each masked leaf alone: in a query, a JSON body, a URL path, an error
    message, and again through a secret output captured as a structure."""
    query = {f"q{i}": f"{{{{ {reference('inputs.creds', p)} }}}}" for i, p in enumerate(paths)}
    body = {f"b{i}": f"{{{{ {reference('inputs.creds', p)} }}}}" for i, p in enumerate(paths)}
    later = {
        f"o{i}": f"{{{{ {reference('steps.grab.outputs.o', p)} }}}}" for i, p in enumerate(paths)
    }
    steps: list[dict[str, Any]] = [
        {
            "id": "use",
            "always": True,
            "request": {
                "method": "POST",
                "url": "{{ env.base_url }}/echo/"
                + "/".join(f"{{{{ {reference('inputs.creds', p)} }}}}" for p in paths),
                "query": query,
                "json": body,
            },
            "assertions": [
                {"type": "json_path", "path": "$.json.b0", "operator": "equals", "expected": "x"}
            ],
        },
        {
            # An invalid port: the request error message names what the URL held.
            "id": "broken",
            "always": True,
            "request": {
                "method": "GET",
                "url": f"http://127.0.0.1:{{{{ {reference('inputs.creds', paths[0])} }}}}/",
            },
        },
        {
            "id": "grab",
            "always": True,
            "request": {"method": "GET", "url": "{{ env.base_url }}/unhex?d={{ inputs.hex }}"},
            "outputs": {"o": {"from": "body", "path": "$", "secret": True}},
        },
        {
            "id": "reuse",
            "always": True,
            "request": {"method": "POST", "url": "{{ env.base_url }}/echo", "query": later},
            "assertions": [
                {
                    "type": "body_contains",
                    "expected": f"{{{{ {reference('steps.grab.outputs.o', paths[0])} }}}}-no",
                }
            ],
        },
    ]
    document = {
        "journey": {
            "name": "Structured secrets",
            "inputs": [
                {"name": "creds", "secret": True, "type": "object", "required": True},
                {"name": "hex", "required": True},
            ],
            "steps": steps,
        }
    }
    return json.dumps(document)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(creds=STRUCTURES)
def test_no_leaf_of_a_structured_secret_reaches_any_output(
    targets: Targets, creds: dict[str, Any]
) -> None:
    masked = [(path, text) for path, leaf in leaves(creds) if (text := must_mask(leaf))]
    assume(masked)
    texts = [text for _, text in masked]
    control = control_outputs(targets)
    assume(not leaked(control, texts))
    # The server answers the same structure (a Decimal leaf as a string with all its digits).
    document = json.dumps(creds, default=str).encode()
    result = run_text(
        journey([path for path, _ in masked]),
        targets.main.base_url,
        inputs={"creds": creds, "hex": document.hex()},
    )

    assert [s.status for s in result.steps][:1] != ["skipped"]
    found = {name: leaked(text, texts) for name, text in outputs(result).items()}
    assert {name: hits for name, hits in found.items() if hits} == {}


def test_the_leaf_rule_masks_strings_and_long_numbers_but_not_flags_or_short_numbers() -> None:
    value = {
        "user": "u-admin",
        "pin": 98765,
        "port": 443,
        "on": True,
        "none": None,
        "nested": [{"password": "Pw-Otter-7781"}, Decimal("12345678901234567890.5")],
    }

    texts = secret_texts(value)

    assert {"u-admin", "98765", "Pw-Otter-7781", "12345678901234567890.5"} <= set(texts)
    assert not {"443", "true", "user", "password", "null"} & set(texts)
    redactor = Redactor([value])
    assert redactor.redact("login u-admin:Pw-Otter-7781 pin=98765 port=443") == (
        f"login {REDACTED}:{REDACTED} pin={REDACTED} port=443"
    )


def test_a_structured_secret_output_is_masked_in_log_records(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from reqflo.secrets.logredact import redact_logs
    from reqflo.secrets.resolution import ResolvedSecrets

    captured = {"token": "tok-Ottr-55172", "refresh": ["rf-Bdgr-90431"]}
    with caplog.at_level(logging.INFO), redact_logs(ResolvedSecrets({}, frozenset())) as mask:
        mask.add(*Redactor([captured]).texts())
        logging.getLogger("reqflo.test").info("GET /x?t=tok-Ottr-55172&r=rf-Bdgr-90431")
    logging.getLogger("reqflo.test").info("after tok-Ottr-55172")

    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == f"GET /x?t={REDACTED}&r={REDACTED}"
    # Masked only while the run uses it.
    assert messages[1] == "after tok-Ottr-55172"
