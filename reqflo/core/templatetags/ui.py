"""Template filters shared by every app's pages (``{% load ui %}``)."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

register = template.Library()


@register.filter
def user_label(user: AbstractBaseUser | AnonymousUser | None) -> str:
    """Name a person as pages show them: their email, else their user name ("" for nobody)."""
    if user is None or not user.is_authenticated:
        return ""
    return str(getattr(user, "email", "") or user.get_username())
