"""Template context for the app shell: the current workspace, the switcher and the navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from reqflo.core.navigation import nav_links
from reqflo.core.selectors import memberships_of_user


def workspace(request: HttpRequest) -> dict[str, Any]:
    """Return ``current_workspace``, ``current_membership``, ``my_memberships`` and ``nav``."""
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    return {
        "current_workspace": getattr(request, "workspace", None),
        "current_membership": membership,
        # A queryset is lazy: pages that don't render the switcher never run the query.
        "my_memberships": memberships_of_user(user) if user is not None else [],
        "nav": nav_links(membership),
    }
