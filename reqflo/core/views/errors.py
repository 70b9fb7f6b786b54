"""Friendly error pages: a sentence and a way back, never a traceback or a setting."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from reqflo.core.access import RoleRequired


def forbidden(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Render 403; our own role errors say which role is needed, others stay generic."""
    reason = str(exception) if isinstance(exception, RoleRequired) else ""
    return render(request, "403.html", {"reason": reason}, status=403)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Render 404 without the exception text (it can name models and queries)."""
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Render 500 from a template that needs no request, no database and no context processor."""
    return HttpResponseServerError(loader.get_template("500.html").render())
