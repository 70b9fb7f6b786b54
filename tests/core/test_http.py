"""The htmx convention of reqflo/core/http.py: partial or page, form errors, redirects, polling."""

from __future__ import annotations

import pytest
from django.http import HttpRequest
from django.test import RequestFactory
from django.urls import reverse
from django_htmx.middleware import HtmxDetails

from reqflo.core.http import htmx_partial, redirect_to, render_poll
from tests.conftest import ClientAs


def _request(**headers: str) -> HttpRequest:
    request = RequestFactory().get("/", headers=headers)
    request.htmx = HtmxDetails(request)  # type: ignore[attr-defined]
    return request


@pytest.mark.parametrize(
    ("headers", "partial"),
    [
        ({}, False),
        ({"HX-Request": "true"}, True),
        # A boosted link navigates: it gets the whole page.
        ({"HX-Request": "true", "HX-Boosted": "true"}, False),
    ],
)
def test_htmx_partial_is_for_htmx_requests_that_are_not_boosted(
    headers: dict[str, str], partial: bool
) -> None:
    assert htmx_partial(_request(**headers)) is partial


def test_boosted_request_gets_the_whole_journeys_page(client_as: ClientAs) -> None:
    url = reverse("journeys:journey_list")
    client = client_as("viewer")
    boosted = client.get(url, headers={"HX-Request": "true", "HX-Boosted": "true"})
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert b"<html" in boosted.content
    assert b"<html" not in fragment.content
    assert fragment.content.lstrip().startswith(b'<div id="journey-table"')


def test_redirect_to_is_a_client_redirect_for_htmx_and_a_302_otherwise() -> None:
    assert redirect_to(_request(**{"HX-Request": "true"}), "/x/")["HX-Redirect"] == "/x/"
    plain = redirect_to(_request(), "/x/")
    assert (plain.status_code, plain["Location"]) == (302, "/x/")


def test_render_poll_stops_polling_with_286_once_finished(client_as: ClientAs) -> None:
    # The members page has a named partial; polling it shows the rule without a run page.
    request = _request(**{"HX-Request": "true"})
    request.user = client_as("viewer").get(reverse("core:home")).wsgi_request.user
    context = {"members": [], "membership": None, "workspace": None}
    running = render_poll(
        request, "core/member_list.html", context, partial="members", finished=False
    )
    done = render_poll(request, "core/member_list.html", context, partial="members", finished=True)
    assert (running.status_code, done.status_code) == (200, 286)
    assert running.content == done.content
    full = render_poll(
        _request(), "core/member_list.html", context, partial="members", finished=True
    )
    assert full.status_code == 200
