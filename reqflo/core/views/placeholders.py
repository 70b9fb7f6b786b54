"""Empty-state pages for areas that later parts of Reqflo fill (see ``reqflo.core.navigation``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from reqflo.core.access import require_role
from reqflo.core.http import AuthedHttpRequest
from reqflo.core.navigation import PLACEHOLDERS


@require_GET
@login_required
def placeholder(request: AuthedHttpRequest, area: str) -> HttpResponse:
    page = PLACEHOLDERS.get(area)
    if page is None:
        raise Http404("No such area.")
    membership = require_role(request, page.min_role, action=f"open {page.title}")
    return render(
        request, "core/placeholder.html", {"page": page, "workspace": membership.workspace}
    )
