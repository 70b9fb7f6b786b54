"""Run history: keyset pages that neither skip nor repeat a run, and filters kept in the URL."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqflo.runs import history
from reqflo.runs.history import BadCursor, RunFilters, decode_cursor, history_page
from reqflo.runs.models import Run, RunStatus, Trigger
from tests.conftest import ClientAs
from tests.factories import EnvironmentFactory
from tests.runs.fixtures import MakeScenario
from tests.runs.history_data import copies
from tests.runs.pages import PAGES_JOURNEY, queued_run

pytestmark = pytest.mark.django_db

MATRIX = [("owner", 200), ("editor", 200), ("viewer", 200), ("outsider", 404), ("anonymous", 302)]


@pytest.fixture
def template(make_scenario: MakeScenario) -> Run:
    return queued_run(make_scenario(PAGES_JOURNEY))


def _walk(template: Run, filters: RunFilters, size: int) -> list[Run]:
    seen: list[Run] = []
    after = ""
    while True:
        page = history_page(workspace=template.workspace, filters=filters, after=after, size=size)
        assert len(page.rows) <= size
        seen += [row.run for row in page.rows]
        if page.next_cursor is None:
            return seen
        after = page.next_cursor


def test_pages_list_every_run_once_newest_first_even_with_equal_times(template: Run) -> None:
    now = timezone.now()
    # Seven runs share one creation time: only the id orders them, across page boundaries.
    made = copies(
        template,
        [{"created_at": now - timedelta(minutes=1)} for _ in range(7)]
        + [{"created_at": now - timedelta(minutes=n)} for n in range(2, 6)],
    )
    everything = [template, *made]
    expected = sorted(everything, key=lambda r: (r.created_at, r.pk), reverse=True)
    for size in (1, 2, 3, 7, 50):
        walked = _walk(template, RunFilters(), size)
        assert [r.pk for r in walked] == [r.pk for r in expected], size


# The template run is only read.
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(size=st.integers(min_value=1, max_value=6), failed=st.sets(st.integers(0, 9)))
def test_a_filtered_walk_is_exactly_the_matching_runs(
    template: Run, size: int, failed: set[int]
) -> None:
    now = timezone.now()
    # Runs are never deleted: each example gets its own environment and filters by it too.
    environment = EnvironmentFactory(workspace=template.workspace)
    runs = copies(
        template,
        [
            {
                "environment_id": environment.pk,
                "created_at": now - timedelta(seconds=n // 2),
                "status": RunStatus.FAILED if n in failed else RunStatus.PASSED,
            }
            for n in range(10)
        ],
    )
    filters = RunFilters(status=RunStatus.FAILED, environment=environment.pk)
    walked = _walk(template, filters, size)
    expected = sorted(
        (r for r in runs if r.status == RunStatus.FAILED),
        key=lambda r: (r.created_at, r.pk),
        reverse=True,
    )
    assert [r.pk for r in walked] == [r.pk for r in expected]


def test_filters_combine(template: Run, owner: User, editor: User) -> None:
    now = timezone.now()
    copies(
        template,
        [
            {"status": RunStatus.FAILED, "triggered_by_id": editor.pk, "trigger": Trigger.CLI},
            {"status": RunStatus.FAILED, "triggered_by_id": owner.pk, "trigger": Trigger.CLI},
            {"status": RunStatus.PASSED, "triggered_by_id": editor.pk, "trigger": Trigger.CLI},
            {"status": RunStatus.FAILED, "created_at": now - timedelta(days=3)},
        ],
    )
    filters = RunFilters(status=RunStatus.FAILED, triggered_by=editor.pk, trigger=Trigger.CLI)
    assert len(_walk(template, filters, 10)) == 1
    assert len(_walk(template, RunFilters(status=RunStatus.FAILED), 10)) == 3
    today = timezone.localdate()
    assert len(_walk(template, RunFilters(status="failed", since=today), 10)) == 2
    assert len(_walk(template, RunFilters(until=today - timedelta(days=1)), 10)) == 1
    assert len(_walk(template, RunFilters(tag="no-such-tag"), 10)) == 0
    journey = template.journey_version.journey
    assert len(_walk(template, RunFilters(journey=journey.pk), 10)) == 5


def test_a_cursor_from_elsewhere_is_refused_with_a_reason() -> None:
    for junk in ("abc", "bm90LWEtY3Vyc29y", "%%%"):
        with pytest.raises(BadCursor, match="page link"):
            decode_cursor(junk)


@pytest.mark.parametrize(("persona", "status"), MATRIX)
def test_the_history_answers_by_role(
    client_as: ClientAs, template: Run, persona: str, status: int
) -> None:
    response = client_as(persona).get(reverse("runs:list"))
    assert (
        response.status_code == {404: 200}.get(status, status) if persona == "outsider" else status
    )
    if persona == "outsider":
        # Their own (empty) workspace: nothing of Acme's.
        assert str(template.pk) not in response.content.decode()


@pytest.mark.parametrize(("persona", "status"), MATRIX)
def test_a_journeys_runs_tab_answers_by_role(
    client_as: ClientAs, template: Run, persona: str, status: int
) -> None:
    journey = template.journey_version.journey
    url = reverse("runs:journey_runs", kwargs={"journey_id": journey.pk})
    assert client_as(persona).get(url).status_code == status


def test_the_next_page_link_keeps_the_filters(
    client_as: ClientAs, template: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "PAGE_SIZE", 2)
    copies(template, [{"status": RunStatus.FAILED} for _ in range(3)])
    client = client_as("viewer")
    first = client.get(reverse("runs:list"), {"status": "failed"})
    html = first.content.decode()
    assert html.count('data-run="') == 2
    start = html.index('data-testid="next-page"')
    href = html[
        html.rindex('href="', 0, start) + 6 : html.index('"', html.rindex('href="', 0, start) + 6)
    ]
    query = parse_qs(urlsplit(href.replace("&amp;", "&")).query)
    assert query["status"] == ["failed"]
    second = client.get(reverse("runs:list"), {k: v[0] for k, v in query.items()})
    assert second.content.decode().count('data-run="') == 1
    fragment = client.get(
        reverse("runs:list"), {"status": "failed"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert fragment.lstrip().startswith('<div id="run-table"')
    assert "<html" not in fragment


def test_a_bad_filter_value_is_named_and_filters_nothing(
    client_as: ClientAs, template: Run
) -> None:
    response = client_as("viewer").get(reverse("runs:list"), {"status": "bogus", "since": "x"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice" in html
    assert "Enter a valid date" in html
    assert f'data-run="{template.pk}"' in html
