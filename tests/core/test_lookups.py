"""``has_element``: a JSON array holds a string exactly (the SQLite side runs in
tests/test_smoke_embedded.py against the quick start's own database)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqflo.journeys.models import Journey
from tests.factories import JourneyFactory

pytestmark = pytest.mark.django_db

# PostgreSQL text holds no NUL character (and a journey's tags come from YAML text).
tag = st.text(
    st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), min_size=1, max_size=12
)
tags = st.lists(tag, max_size=4)


@settings(max_examples=40, deadline=None)
@given(stored=tags, asked=tag)
def test_has_element_is_exact_membership(stored: list[str], asked: str) -> None:
    journey = JourneyFactory()
    Journey.objects.filter(pk=journey.pk).update(tags=stored)
    found = Journey.objects.filter(pk=journey.pk, tags__has_element=asked).exists()
    assert found == (asked in stored)


def test_has_element_ignores_case_prefixes_and_json_fragments() -> None:
    journey = JourneyFactory()
    Journey.objects.filter(pk=journey.pk).update(tags=["smoke", "shop"])
    matches = [
        tag
        for tag in ["smoke", "shop", "Smoke", "smo", '"smoke"', '["smoke"]', "smoke,shop"]
        if Journey.objects.filter(pk=journey.pk, tags__has_element=tag).exists()
    ]
    assert matches == ["smoke", "shop"]
