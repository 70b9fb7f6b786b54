"""The API tokens page: each member creates and revokes their own; owners oversee everyone's.

A new token is shown once, on the answer to the create request itself (never stored, never
put in a redirect or the session). Revoking answers a normal POST with a redirect back and an
htmx POST with the page's ``#tokens`` partial.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from reqflo.api import selectors, services
from reqflo.api.access import get_token_for_user
from reqflo.api.forms import ApiTokenCreateForm
from reqflo.core.access import require_role
from reqflo.core.http import FORM_ERROR_STATUS, AuthedHttpRequest, htmx_partial, render_page
from reqflo.core.models import Membership, Role

TEMPLATE = "api/token_list.html"


def _context(
    request: AuthedHttpRequest,
    membership: Membership,
    form: ApiTokenCreateForm | None = None,
    new_key: str = "",
) -> dict[str, Any]:
    workspace = membership.workspace
    context: dict[str, Any] = {
        "workspace": workspace,
        "membership": membership,
        "form": form or ApiTokenCreateForm(),
        "tokens": selectors.user_tokens(user=request.user, workspace=workspace),
        "new_key": new_key,
        "api_url": request.build_absolute_uri("/").rstrip("/"),
        "now": timezone.now(),
    }
    if membership.is_owner:
        context["all_tokens"] = selectors.workspace_tokens(workspace=workspace)
    return context


@require_GET
@login_required
def token_list(request: AuthedHttpRequest) -> HttpResponse:
    membership = require_role(request, Role.VIEWER, action="use API tokens")
    return render_page(request, TEMPLATE, _context(request, membership), partial="tokens")


@require_POST
@login_required
@never_cache
def token_create(request: AuthedHttpRequest) -> HttpResponse:
    membership = require_role(request, Role.VIEWER, action="create API tokens")
    form = ApiTokenCreateForm(request.POST)
    if form.is_valid():
        try:
            created = services.api_token_create(
                user=request.user,
                workspace=membership.workspace,
                name=form.cleaned_data["name"],
                expires_at=form.expires_at(),
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            context = _context(request, membership, new_key=created.key)
            return render_page(request, TEMPLATE, context, partial="tokens")
    context = _context(request, membership, form=form)
    return render_page(request, TEMPLATE, context, partial="tokens", status=FORM_ERROR_STATUS)


@require_POST
@login_required
def token_revoke(request: AuthedHttpRequest, token_id: UUID) -> HttpResponse:
    token = get_token_for_user(request, token_id)
    services.api_token_revoke(token=token, by=request.user)
    messages.success(request, f"The token '{token.name}' is revoked; it no longer works.")
    membership = require_role(request, Role.VIEWER, action="use API tokens")
    if htmx_partial(request):
        return render_page(request, TEMPLATE, _context(request, membership), partial="tokens")
    return redirect("tokens:token_list")
