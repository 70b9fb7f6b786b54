"""Admin → Secrets: everyone in the workspace sees names and usage, owners manage values.

Views receiving a value are wrapped in ``sensitive_post_parameters`` so an error report never
carries it; forms never render a value back (``render_value=False``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reqflo.core.access import require_role
from reqflo.core.http import FORM_ERROR_STATUS, AuthedHttpRequest, htmx_partial, render_page
from reqflo.core.models import Role
from reqflo.secrets import selectors, services
from reqflo.secrets.access import get_secret_for_user
from reqflo.secrets.forms import (
    AuditFilterForm,
    EnvironmentClearForm,
    EnvironmentValueForm,
    SecretCreateForm,
    SecretDescribeForm,
    SecretRotateForm,
)
from reqflo.secrets.models import NAME_MAX_LENGTH, Secret

AUDIT_PAGE_SIZE = 50
DETAIL_AUDIT_ROWS = 20


def _actor(request: AuthedHttpRequest) -> services.Actor:
    return services.Actor(user=request.user, ip_address=request.META.get("REMOTE_ADDR"))


def _apply_errors(form: Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form, on the field it names when it has one."""
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
@require_GET
def secret_list(request: AuthedHttpRequest) -> HttpResponse:
    membership = require_role(request, Role.VIEWER, action="see secrets")
    search = request.GET.get("q", "")
    secrets = list(selectors.secret_list(workspace=membership.workspace, search=search))
    counts = selectors.usage_counts(membership.workspace) if secrets else {}
    for secret in secrets:
        secret.usage_count = counts.get(secret.name, 0)
    context = {
        "secrets": secrets,
        "search": search,
        "can_manage": membership.is_owner,
    }
    return render_page(request, "secrets/secret_list.html", context, partial="rows")


@login_required
@sensitive_post_parameters("value")
@require_http_methods(["GET", "POST"])
def secret_create(request: AuthedHttpRequest) -> HttpResponse:
    membership = require_role(request, Role.OWNER, action="manage secrets")
    # `?name=` fills the name in: the journey import page links here for each missing secret.
    initial = {"name": request.GET.get("name", "")[:NAME_MAX_LENGTH]}
    form = SecretCreateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            secret = services.secret_create(
                workspace=membership.workspace,
                actor=_actor(request),
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                value=form.cleaned_data["value"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"Secret {secret.name} created.")
            return redirect("secrets:secret_detail", secret_id=secret.pk)
    status = FORM_ERROR_STATUS if form.errors else 200
    return render(request, "secrets/secret_create.html", {"form": form}, status=status)


def _detail_context(request: AuthedHttpRequest, secret: Secret, **forms: Form) -> dict[str, Any]:
    membership = request.membership
    is_owner = bool(membership and membership.is_owner)
    environments = selectors.environment_names(secret.workspace)
    context: dict[str, Any] = {
        "secret": secret,
        "slots": selectors.secret_value_slots(secret),
        "usage": selectors.secret_usage(secret),
        "environment_names": environments,
        "can_manage": is_owner,
    }
    if is_owner:
        context.update(
            rotate_form=forms.get("rotate_form") or SecretRotateForm(),
            describe_form=forms.get("describe_form")
            or SecretDescribeForm(initial={"description": secret.description}),
            environment_form=forms.get("environment_form")
            or EnvironmentValueForm(environments=environments),
            audit=selectors.audit_list(workspace=secret.workspace, secret_id=secret.id)[
                :DETAIL_AUDIT_ROWS
            ],
        )
    return context


@login_required
@require_GET
def secret_detail(request: AuthedHttpRequest, secret_id: UUID) -> HttpResponse:
    secret = get_secret_for_user(request, secret_id)
    return render(request, "secrets/secret_detail.html", _detail_context(request, secret))


def _after_change(
    request: AuthedHttpRequest, secret: Secret, message: str, **forms: Form
) -> HttpResponse:
    """Answer a value form: the refreshed values and audit fragments for htmx, else a page.

    With errors in ``forms`` the same fragments (or the page) show them; without, a full
    request is redirected back to the secret (post/redirect/get).
    """
    failed = any(form.errors for form in forms.values())
    status = FORM_ERROR_STATUS if failed else 200
    if not failed:
        messages.success(request, message)
    if htmx_partial(request):
        context = _detail_context(request, secret, **(forms if failed else {}))
        context["oob"] = True
        return render(request, "secrets/partials/secret_changed.html", context, status=status)
    if failed:
        return render(
            request,
            "secrets/secret_detail.html",
            _detail_context(request, secret, **forms),
            status=status,
        )
    return redirect("secrets:secret_detail", secret_id=secret.pk)


@login_required
@sensitive_post_parameters("value")
@require_POST
def secret_rotate(request: AuthedHttpRequest, secret_id: UUID) -> HttpResponse:
    secret = get_secret_for_user(request, secret_id, min_role=Role.OWNER)
    form = SecretRotateForm(request.POST)
    if form.is_valid():
        try:
            services.secret_rotate(
                secret=secret, actor=_actor(request), value=form.cleaned_data["value"]
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
    return _after_change(request, secret, f"Rotated {secret.name}.", rotate_form=form)


@login_required
@require_POST
def secret_describe(request: AuthedHttpRequest, secret_id: UUID) -> HttpResponse:
    secret = get_secret_for_user(request, secret_id, min_role=Role.OWNER)
    form = SecretDescribeForm(request.POST)
    if form.is_valid():
        try:
            services.secret_describe(
                secret=secret, actor=_actor(request), description=form.cleaned_data["description"]
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
    if form.errors:
        return render(
            request,
            "secrets/secret_detail.html",
            _detail_context(request, secret, describe_form=form),
            status=FORM_ERROR_STATUS,
        )
    messages.success(request, f"Description of {secret.name} saved.")
    return redirect("secrets:secret_detail", secret_id=secret.pk)


@login_required
@sensitive_post_parameters("value")
@require_POST
def secret_environment_set(request: AuthedHttpRequest, secret_id: UUID) -> HttpResponse:
    secret = get_secret_for_user(request, secret_id, min_role=Role.OWNER)
    form = EnvironmentValueForm(
        request.POST, environments=selectors.environment_names(secret.workspace)
    )
    environment = ""
    if form.is_valid():
        try:
            environment = services.secret_environment_value_set(
                secret=secret,
                actor=_actor(request),
                environment=form.cleaned_data["environment"],
                value=form.cleaned_data["value"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
    return _after_change(
        request, secret, f"Set the {environment} value of {secret.name}.", environment_form=form
    )


@login_required
@require_POST
def secret_environment_clear(request: AuthedHttpRequest, secret_id: UUID) -> HttpResponse:
    secret = get_secret_for_user(request, secret_id, min_role=Role.OWNER)
    form = EnvironmentClearForm(request.POST)
    if form.is_valid():
        environment = form.cleaned_data["environment"]
        try:
            services.secret_environment_value_clear(
                secret=secret, actor=_actor(request), environment=environment
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                f"Cleared the {environment} value of {secret.name}; runs there use the default.",
            )
    if htmx_partial(request):
        context = _detail_context(request, secret)
        context["oob"] = True
        return render(request, "secrets/partials/secret_changed.html", context)
    return redirect("secrets:secret_detail", secret_id=secret.pk)


@login_required
@require_http_methods(["GET", "POST"])
def secret_delete(request: AuthedHttpRequest, secret_id: UUID) -> HttpResponse:
    secret = get_secret_for_user(request, secret_id, min_role=Role.OWNER)
    usage = selectors.secret_usage(secret)
    if request.method == "POST":
        name = secret.name
        services.secret_delete(secret=secret, actor=_actor(request))
        if usage:
            messages.warning(
                request,
                f"Secret {name} deleted. The Run check of {len(usage)} journey(s) now reports "
                f"it missing.",
            )
        else:
            messages.success(request, f"Secret {name} deleted.")
        return redirect("secrets:secret_list")
    return render(request, "secrets/secret_delete.html", {"secret": secret, "usage": usage})


@login_required
@require_GET
def audit_list(request: AuthedHttpRequest) -> HttpResponse:
    membership = require_role(request, Role.OWNER, action="see the secrets audit log")
    form = AuditFilterForm(
        request.GET or None, secret_names=selectors.audit_secret_names(membership.workspace)
    )
    filters = selectors.AuditFilters()
    if form.is_valid():
        filters = selectors.AuditFilters(**form.cleaned_data)
    events = selectors.audit_list(workspace=membership.workspace, filters=filters)
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "list_url": reverse("secrets:audit_list"),
    }
    return render_page(request, "secrets/audit_list.html", context, partial="results")
