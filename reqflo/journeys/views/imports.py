"""Import journeys from Postman, OpenAPI, curl or HAR: preview the report, then create.

Nothing is saved by the preview. The create step converts the same source again (sealed in the
page, see ``reqflo.journeys.imports``) and saves every journey in one transaction, the report
in each v1's message.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from reqflo.core.access import require_role
from reqflo.core.http import FORM_ERROR_STATUS, AuthedHttpRequest
from reqflo.core.models import Role, Workspace
from reqflo.engine.imports import ImportResult, SourceError, fetch_source
from reqflo.journeys import hooks, services
from reqflo.journeys.forms import MAX_IMPORT_BYTES, JourneyImportForm
from reqflo.journeys.imports import ImportChoices, convert, seal
from reqflo.journeys.selectors import free_journey_slug

TEMPLATE = "journeys/journey_import.html"


@login_required
@require_http_methods(["GET", "POST"])
def journey_import(request: AuthedHttpRequest) -> HttpResponse:
    membership = require_role(request, Role.EDITOR, action="import journeys")
    workspace = membership.workspace
    context: dict[str, Any] = {"is_owner": membership.is_owner, "result": None}
    if request.method != "POST":
        initial = {"kind": "postman", "create_environments": membership.is_owner}
        context["form"] = JourneyImportForm(initial=initial)
        return render(request, TEMPLATE, context)
    form = JourneyImportForm(request.POST, request.FILES)
    context["form"] = form
    if not form.is_valid():
        return render(request, TEMPLATE, context, status=FORM_ERROR_STATUS)
    choices = form.choices()
    try:
        if form.cleaned_data["fetch"]:
            choices = replace(choices, text=_fetch(choices.source_url, workspace=workspace))
        result = convert(choices)
    except SourceError as error:
        context["source_error"] = error.message
        context["form"] = _kept(request.POST, choices)
        return render(request, TEMPLATE, context, status=FORM_ERROR_STATUS)
    if request.POST.get("action") == "create" and result.journeys:
        outcome = services.journeys_import(
            workspace=workspace,
            author=request.user,
            result=result,
            create_environments=membership.is_owner
            and bool(form.cleaned_data.get("create_environments")),
        )
        names = ", ".join(journey.name for journey in outcome.journeys)
        messages.success(request, f"Imported {len(outcome.journeys)} journey(s): {names}.")
        if outcome.environments:
            created = ", ".join(e.name for e in outcome.environments)
            messages.success(request, f"Created environment(s): {created}.")
        stored = hooks.secret_names(workspace)
        missing = [s.name for s in result.secrets if s.name not in stored]
        if missing:
            names = ", ".join(missing)
            messages.info(request, f"Store these secrets in Admin → Secrets: {names}.")
        return redirect("journeys:journey_list")
    context["result"] = result
    context["slugs"] = _slugs(result, workspace=workspace)
    context["stored_secrets"] = hooks.secret_names(workspace)
    context["form"] = _kept(request.POST, choices)
    status = 200 if result.journeys else FORM_ERROR_STATUS
    return render(request, TEMPLATE, context, status=status)


def _fetch(url: str, *, workspace: Workspace) -> str:
    """Fetch an import URL through the workspace's egress policy; refuse without one."""
    transport = hooks.import_transport(workspace)
    if transport is None:
        raise SourceError("importing from a URL needs the Cloud Runner's egress policy")
    data = fetch_source(url, transport=transport)
    if len(data) > MAX_IMPORT_BYTES:  # the page carries the source on: the upload limit holds
        raise SourceError(f"{url} is larger than 2 MB; import it with the CLI (10 MiB)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(f"{url} did not answer with UTF-8 text") from None


def _kept(post: QueryDict, choices: ImportChoices) -> JourneyImportForm:
    """Return the form as submitted with the source sealed and the text box emptied."""
    data = post.copy()
    data["text"] = ""
    data["sealed_text"] = seal(choices.text) if choices.text else ""
    data["sealed_url"] = choices.source_url if choices.text else ""
    data["sealed_environment"] = seal(choices.environment) if choices.environment else ""
    return JourneyImportForm(data)


def _slugs(result: ImportResult, *, workspace: Workspace) -> list[tuple[str, str, int]]:
    """Return (name, slug it will get, steps) per journey: a taken slug gets the next free one."""
    return [
        (
            journey.name,
            free_journey_slug(workspace=workspace, slug=journey.slug),
            journey.step_count,
        )
        for journey in result.journeys
    ]
