"""Bodies and journey documents shown by the pages keep every digit and survive deep nesting.

Issue 13's kinds "numbers pass through float" and "every error is a result, never a 500",
where the pages (not the engine) read JSON: the run page's bodies, the comparison of two runs
and the journey editor.
"""

from __future__ import annotations

import json
from decimal import Decimal

from django.contrib.auth.models import User
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from reqflo.core.models import Workspace
from reqflo.journeys.documents import check_document
from reqflo.journeys.services import journey_create
from reqflo.runs.display import pretty_body
from tests.conftest import ClientAs

# Every JSON number text: digits a float cannot hold, trailing zeros, exponents, -0.
JSON_NUMBERS = st.from_regex(
    r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][-+]?[0-9]{1,3})?", fullmatch=True
)


@given(JSON_NUMBERS)
def test_a_body_number_is_shown_as_written(number: str) -> None:
    """`100.10` is shown as 100.10, not 100.1; `1e5` as 1e5; 20 digits as 20 digits."""
    shown, is_json = pretty_body(f'{{"price": {number}, "list": [{number}]}}')
    assert is_json
    assert f'"price": {number},' in shown
    assert f"\n    {number}\n" in shown


def test_a_body_nested_deeper_than_python_reads_is_shown_as_received() -> None:
    for body in ("[" * 3000 + "]" * 3000, '{"a":' * 3000 + "1" + "}" * 3000):
        assert pretty_body(body) == (body, False)
    assert pretty_body("[[1]]") == (json.dumps([[1]], indent=2), True)


def test_the_editor_shows_a_json_body_decimal_with_every_digit(
    client_as: ClientAs, workspace: Workspace, editor: User
) -> None:
    document = {
        "journey": {
            "name": "Prices",
            "steps": [
                {
                    "id": "pay",
                    "request": {
                        "method": "POST",
                        "url": "http://127.0.0.1:9/pay",
                        "json": {"price": Decimal("0.12345678901234567891")},
                    },
                }
            ],
        }
    }
    journey = journey_create(workspace=workspace, author=editor, checked=check_document(document))
    client = client_as("editor")
    for view in ("", "?view=yaml"):
        page = client.get(reverse("journeys:journey_editor", args=[journey.pk]) + view)
        assert page.status_code == 200
        assert "0.12345678901234567891" in page.content.decode()
