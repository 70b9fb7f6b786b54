"""Cases of a journey: create from the current inputs, rename, duplicate, archive, delete.

Actions answer a plain POST with a redirect to the cases page and an htmx POST with the page's
``#cases`` partial; a form with errors re-renders with status 400 either way (``reqflo.core.http``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from reqflo.core.access import current_membership
from reqflo.core.http import FORM_ERROR_STATUS, AuthedHttpRequest, htmx_partial, render_page
from reqflo.core.models import Role
from reqflo.engine import REDACTED
from reqflo.journeys import services
from reqflo.journeys.access import get_case_for_user, get_journey_for_user
from reqflo.journeys.forms import CaseForm
from reqflo.journeys.models import Case, Journey
from reqflo.journeys.selectors import case_list


def _input_defaults(journey: Journey) -> dict[str, str]:
    """Return the head version's inputs with their defaults, to prefill a new case."""
    if journey.head is None:
        return {}
    values: dict[str, str] = {}
    for item in journey.head.document.get("journey", {}).get("inputs", []):
        default = item.get("default", "")
        # A secret input's value is never kept in a case, so it is not prefilled either.
        values[str(item.get("name"))] = (
            "" if default is None or item.get("secret") else str(default)
        )
    return values


def _masked(cases: list[Case], secret: frozenset[str]) -> list[Case]:
    """Mask secret inputs' values that cases saved before they were refused (never saved)."""
    for case in cases:
        if secret & case.values.keys():
            case.values = {k: REDACTED if k in secret and v else v for k, v in case.values.items()}
    return cases


def _render(
    request: AuthedHttpRequest,
    journey: Journey,
    *,
    form: CaseForm | None = None,
    edit_forms: dict[UUID, CaseForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    cases = _masked(list(case_list(journey=journey)), services.journey_secret_inputs(journey))
    edit_forms = edit_forms or {}
    rows = [
        (
            case,
            edit_forms.get(case.pk)
            or CaseForm(initial={"name": case.name, "values": case.values}, prefix=str(case.pk)),
        )
        for case in cases
    ]
    context: dict[str, Any] = {
        "journey": journey,
        "rows": rows,
        "form": form or CaseForm(initial={"values": _input_defaults(journey)}),
        "can_edit": current_membership(request).can_edit,
    }
    return render_page(request, "journeys/case_list.html", context, partial="cases", status=status)


def _done(request: AuthedHttpRequest, journey: Journey, text: str) -> HttpResponse:
    """Show the case list again, with ``text`` as a success message (none when empty)."""
    if text:
        messages.success(request, text)
    if htmx_partial(request):
        return _render(request, journey)
    return redirect("journeys:case_list", journey.pk)


@login_required
@require_http_methods(["GET", "POST"])
def case_list_view(request: AuthedHttpRequest, journey_id: UUID) -> HttpResponse:
    if request.method == "GET":
        return _render(request, get_journey_for_user(request, journey_id))
    journey = get_journey_for_user(request, journey_id, min_role=Role.EDITOR)
    form = CaseForm(request.POST)
    if form.is_valid():
        try:
            case = services.case_create(
                journey=journey, name=form.cleaned_data["name"], values=form.cleaned_data["values"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _done(request, journey, f"Created case {case.name}.")
    return _render(request, journey, form=form, status=FORM_ERROR_STATUS)


@login_required
@require_POST
def case_update(request: AuthedHttpRequest, case_id: UUID) -> HttpResponse:
    case = get_case_for_user(request, case_id, min_role=Role.EDITOR)
    form = CaseForm(request.POST, prefix=str(case.pk))
    if form.is_valid():
        try:
            services.case_update(
                case=case, name=form.cleaned_data["name"], values=form.cleaned_data["values"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _done(request, case.journey, f"Saved case {case.name}.")
    # Re-render every row from the database; only this row keeps the rejected input and error.
    return _render(request, case.journey, edit_forms={case.pk: form}, status=FORM_ERROR_STATUS)


@login_required
@require_POST
def case_duplicate(request: AuthedHttpRequest, case_id: UUID) -> HttpResponse:
    case = get_case_for_user(request, case_id, min_role=Role.EDITOR)
    copy = services.case_duplicate(case=case)
    return _done(request, case.journey, f"Duplicated {case.name} as {copy.name}.")


@login_required
@require_POST
def case_archive(request: AuthedHttpRequest, case_id: UUID) -> HttpResponse:
    case = get_case_for_user(request, case_id, min_role=Role.EDITOR)
    archived = request.POST.get("archived") != "0"
    services.case_set_archived(case=case, archived=archived)
    return _done(request, case.journey, f"{'Archived' if archived else 'Restored'} {case.name}.")


@login_required
@require_POST
def case_delete(request: AuthedHttpRequest, case_id: UUID) -> HttpResponse:
    case: Case = get_case_for_user(request, case_id, min_role=Role.EDITOR)
    try:
        outcome = services.case_delete(case=case)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
        return _done(request, case.journey, "")
    if outcome == "archived":
        text = f"{case.name} was used by runs, so it was archived instead of deleted."
    else:
        text = f"Deleted case {case.name}."
    return _done(request, case.journey, text)
