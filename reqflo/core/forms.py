"""Forms of the core app: they validate and normalise input; services make the changes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.db.models import QuerySet

from reqflo.core.models import Role
from reqflo.core.services import normalize_email


def pick(queryset: QuerySet[Any], raw: Any) -> Any:
    """Return the object of ``queryset`` with primary key ``raw`` (None for junk or nothing).

    For a choice that decides another field's options (a journey's cases) before the form is
    validated: ``raw`` is what the query or the initial values hold.
    """
    if isinstance(raw, queryset.model):
        return raw if queryset.filter(pk=raw.pk).exists() else None
    if not raw:
        return None
    try:
        return queryset.filter(pk=UUID(str(raw))).first()
    except ValueError:
        return None


class EmailAuthenticationForm(AuthenticationForm):
    """Log in with an email address (usernames are email addresses)."""

    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an account.",
    }

    def clean_username(self) -> str:
        return normalize_email(self.cleaned_data["username"])


class RoleField(forms.TypedChoiceField):
    """A role picker; an unknown value is a form error naming the valid roles."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "Role")
        super().__init__(
            choices=Role.choices,
            coerce=Role,
            error_messages={
                "invalid_choice": "%(value)s is not a role; choose owner, editor or viewer."
            },
            **kwargs,
        )


# Logins are email addresses stored as usernames, so an address may be no longer than a username.
MAX_EMAIL_LENGTH = User._meta.get_field("username").max_length


class MemberAddForm(forms.Form):
    email = forms.EmailField(
        label="Email",
        max_length=MAX_EMAIL_LENGTH,
        error_messages={
            "max_length": "Use an email address of at most %(limit_value)d characters "
            "(this one has %(show_value)d)."
        },
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = RoleField(initial=Role.EDITOR)

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])


class MemberRoleForm(forms.Form):
    role = RoleField()


class WorkspaceForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120, strip=True)


class InvitationPasswordForm(forms.Form):
    """Choose the password of the account an invitation creates."""

    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The validators compare the password with the (future) user's email address.
        self.future_user = User(username=email, email=email)

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second:
            if first != second:
                self.add_error("password2", "The two passwords differ.")
            else:
                try:
                    password_validation.validate_password(first, self.future_user)
                except forms.ValidationError as error:
                    self.add_error("password1", error)
        return cleaned
