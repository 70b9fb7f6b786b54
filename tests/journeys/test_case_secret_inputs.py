"""A case never keeps a secret input's value: refused on save, masked if an old case holds one."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from reqflo.engine import REDACTED
from reqflo.journeys import services
from reqflo.journeys.models import Case, Journey
from tests.conftest import ClientAs
from tests.journeys import samples
from tests.journeys.conftest import MakeJourney

SECRET_VALUE = "case-Secret-Hx81Qw"


@pytest.fixture
def journey(make_journey: MakeJourney) -> Journey:
    return make_journey(
        inputs=[
            {"name": "password", "secret": True, "default": "dflt-Secret-Zq72"},
            {"name": "user", "default": "ada"},
        ],
        steps=[samples.step("s1", path="/p?u={{ inputs.user }}&p={{ inputs.password }}")],
    )


def test_saving_a_case_with_a_secret_inputs_value_is_refused(journey: Journey) -> None:
    with pytest.raises(ValidationError) as refused:
        services.case_create(journey=journey, name="Happy", values={"password": SECRET_VALUE})
    assert "password: a secret input's value cannot be kept in a case" in str(refused.value)
    case = services.case_create(journey=journey, name="Happy", values={"user": "bob"})
    with pytest.raises(ValidationError):
        services.case_update(case=case, name="Happy", values={"password": SECRET_VALUE})
    assert not Case.objects.filter(values__has_key="password").exists()


def test_the_case_page_refuses_it_and_never_shows_a_secret_value(
    client_as: ClientAs, journey: Journey
) -> None:
    url = reverse("journeys:case_list", args=[journey.pk])
    client = client_as("editor")
    response = client.post(url, {"name": "Happy", "values": f"password={SECRET_VALUE}"})
    assert response.status_code == 400
    assert "cannot be kept in a case" in response.content.decode()
    assert not Case.objects.filter(journey=journey).exists()
    # A case saved before the rule keeps its row, but the page shows the mask.
    Case.objects.create(journey=journey, name="Old", values={"password": SECRET_VALUE, "user": "x"})
    html = client_as("viewer").get(url).content.decode()
    assert SECRET_VALUE not in html
    assert "dflt-Secret-Zq72" not in html  # nor the secret input's default in the new-case form
    assert f"password={REDACTED}" in html
