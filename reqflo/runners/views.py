"""Admin → Runners: the Cloud Runner's settings, its connection check, workers and queue.

Every member reads the page and runs the connection check (it changes nothing but a ping
row); owners change the settings. Each action works as a plain form post (redirect or the
whole page) and as an htmx post answered with the page's partial (docs/htmx.md).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reqflo.core.access import require_role
from reqflo.core.http import (
    FORM_ERROR_STATUS,
    AuthedHttpRequest,
    htmx_partial,
    redirect_to,
    render_page,
    render_poll,
)
from reqflo.core.models import Membership, Role
from reqflo.runners import selectors
from reqflo.runners.config import runner_config_for
from reqflo.runners.connection import (
    ConnectionReport,
    connection_check,
    connection_status,
    for_members,
)
from reqflo.runners.forms import RunnerSettingsForm, SelfHostedRunnerForm
from reqflo.runners.models import RunnerConfig, SelfHostedRunner
from reqflo.runners.selfhosted import (
    IssuedRunnerToken,
    runner_register,
    runner_revoke,
    runner_rotate,
)
from reqflo.runners.services import NotCancellable, run_cancel
from reqflo.runners.settings_services import (
    FIELD_LABELS,
    describe_change,
    describe_value,
    runner_config_update,
)
from reqflo.runs.access import get_run_for_user

TEMPLATE = "runners/runners.html"


def _live_context(membership: Membership, config: RunnerConfig) -> dict[str, Any]:
    """What the polled part shows: the workers on the region's queue and the workspace's runs."""
    workers = selectors.live_workers()
    serving = [w for w in workers if config.queue in w.queues]
    return {
        "workspace": membership.workspace,
        "queue_name": config.queue,
        "workers": serving,
        # Worker names are the owners'; other members see counts (as in the connection report).
        "show_workers": membership.is_owner,
        "pool_size": sum(w.pool_size for w in serving),
        "runs_in_progress": sum(w.runs_in_progress for w in serving),
        "other_workers": [w for w in workers if config.queue not in w.queues],
        "run_queue": selectors.workspace_queue(workspace=membership.workspace),
        "can_cancel": membership.has_role(Role.EDITOR),
        "self_hosted": selectors.self_hosted_runners(workspace=membership.workspace),
        "can_manage_runners": membership.is_owner,
    }


def _settings_context(
    membership: Membership, config: RunnerConfig, form: RunnerSettingsForm | None = None
) -> dict[str, Any]:
    """What the settings part shows: the form (owners) or the values, and the change log."""
    context: dict[str, Any] = {
        "config": config,
        "can_edit": membership.is_owner,
        "settings_rows": [
            (label, describe_value(name, getattr(config, name)))
            for name, label in FIELD_LABELS.items()
        ],
        "changes": [
            (change, describe_change(change))
            for change in selectors.config_changes(workspace=membership.workspace)
        ],
    }
    if membership.is_owner:
        # Regions that live workers serve, offered in the region field.
        prefix = f"{settings.CELERY_TASK_DEFAULT_QUEUE}."
        context["known_regions"] = sorted(
            {
                queue.removeprefix(prefix)
                for worker in selectors.live_workers()
                for queue in worker.queues
                if queue.startswith(prefix)
            }
        )
        context["form"] = form or RunnerSettingsForm.for_config(config)
    return context


def _page_context(
    membership: Membership,
    config: RunnerConfig,
    *,
    form: RunnerSettingsForm | None = None,
    report: ConnectionReport | None = None,
    register_form: SelfHostedRunnerForm | None = None,
    issued: IssuedRunnerToken | None = None,
) -> dict[str, Any]:
    """Everything the whole page shows; a check's ``report``, else the status loads after.

    The status on arrival opens a broker connection (up to its timeout when the broker is
    down), so the page does not wait for it: ``#connection`` asks ``runners:status`` once the
    page has loaded (htmx), and the Check connection button works without JavaScript.
    """
    return {
        **_settings_context(membership, config, form),
        **_live_context(membership, config),
        "report": _seen_by(membership, report) if report else None,
        "register_form": register_form or SelfHostedRunnerForm(),
        "issued": issued,
    }


def _seen_by(membership: Membership, report: ConnectionReport) -> ConnectionReport:
    """Owners see the broker's address and the workers' names; other members do not."""
    return report if membership.is_owner else for_members(report)


def _current(
    request: AuthedHttpRequest, minimum: Role, action: str
) -> tuple[Membership, RunnerConfig]:
    membership = require_role(request, minimum, action=action)
    return membership, runner_config_for(workspace_id=membership.workspace.pk)


@login_required
@require_http_methods(["GET", "POST"])
def runners(request: AuthedHttpRequest) -> HttpResponse:
    """Show the Cloud Runner page; a POST saves the settings (owners only).

    htmx gets the settings part back (errors, or the saved values and the change log); a new
    region changes what the whole page is about (its queue, workers and check), so after one
    the page is loaded again.
    """
    if request.method != "POST":
        membership, config = _current(request, Role.VIEWER, "see the runners")
        if htmx_partial(request):
            context = _settings_context(membership, config)
        else:
            context = _page_context(membership, config)
        return render_page(request, TEMPLATE, context, partial="settings")
    membership, config = _current(request, Role.OWNER, "change the Cloud Runner settings")
    form = RunnerSettingsForm(request.POST)
    if form.is_valid():
        try:
            change = runner_config_update(config=config, by=request.user, **form.changes())
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if change is None:
                messages.info(request, "Nothing changed: the settings were already these.")
            else:
                names = ", ".join(item.label.lower() for item in describe_change(change))
                messages.success(request, f"Cloud Runner settings saved ({names}).")
            if htmx_partial(request) and (change is None or "region" not in change.changes):
                context = {**_settings_context(membership, config), "oob": True}
                return render_page(request, TEMPLATE, context, partial="settings")
            return redirect_to(request, request.path)
    if htmx_partial(request):
        context = {**_settings_context(membership, config, form), "oob": True}
    else:
        context = _page_context(membership, config, form=form)
    return render_page(request, TEMPLATE, context, partial="settings", status=FORM_ERROR_STATUS)


@login_required
@require_POST
def check(request: AuthedHttpRequest) -> HttpResponse:
    """Run the connection check (broker, workers, a round trip) and show its report."""
    membership, config = _current(request, Role.VIEWER, "check the Cloud Runner")
    report = connection_check(config=config)
    if htmx_partial(request):
        context: dict[str, Any] = {"report": _seen_by(membership, report)}
    else:
        context = _page_context(membership, config, report=report)
    return render_page(request, TEMPLATE, context, partial="connection")


@login_required
@require_GET
def status(request: AuthedHttpRequest) -> HttpResponse:
    """Answer the page's request on arrival with the quick status: broker and worker heartbeats."""
    membership, config = _current(request, Role.VIEWER, "see the runners")
    if not htmx_partial(request):
        return redirect("runners:runners")
    report = _seen_by(membership, connection_status(config=config))
    return render_page(request, TEMPLATE, {"report": report}, partial="connection")


@login_required
@require_GET
def live(request: AuthedHttpRequest) -> HttpResponse:
    """Answer the page's poll with its live part: active workers and the current queue."""
    membership, config = _current(request, Role.VIEWER, "see the runners")
    if not htmx_partial(request):
        return redirect("runners:runners")
    return render_poll(
        request, TEMPLATE, _live_context(membership, config), partial="live", finished=False
    )


@login_required
@require_POST
def cancel(request: AuthedHttpRequest, run_id: UUID) -> HttpResponse:
    """Cancel a queued or running run of the workspace (editors and owners)."""
    run = get_run_for_user(request, run_id, min_role=Role.EDITOR, action="cancel runs")
    short = str(run.pk)[:8]
    try:
        cancelled = run_cancel(run=run, by=request.user)
    except NotCancellable as exc:
        messages.error(request, f"Run {short} was not cancelled: {exc}")
    else:
        if cancelled.is_finished:
            messages.success(request, f"Run {short} cancelled before it started.")
        else:
            messages.success(
                request,
                f"Cancelling run {short}: its worker stops it before its next request.",
            )
    if not htmx_partial(request):
        return redirect("runners:runners")
    membership, config = _current(request, Role.EDITOR, "cancel runs")
    context = {**_live_context(membership, config), "oob": True}
    return render_page(request, TEMPLATE, context, partial="live")


# --- Self-hosted runners (owners register, rotate and revoke; every member reads) -------------


def _with_token(
    request: AuthedHttpRequest, membership: Membership, issued: IssuedRunnerToken
) -> HttpResponse:
    """Show the page with the runner's token, once (never cached, never in a URL)."""
    config = runner_config_for(workspace_id=membership.workspace.pk)
    context = _page_context(membership, config, issued=issued)
    context["server_url"] = request.build_absolute_uri("/").rstrip("/")
    return render_page(request, TEMPLATE, context, partial="self-hosted-register")


def _runner_or_404(membership: Membership, runner_id: UUID) -> SelfHostedRunner:
    # Another workspace's runner is a 404, as every object of another workspace.
    return get_object_or_404(SelfHostedRunner, pk=runner_id, workspace=membership.workspace)


@login_required
@require_POST
@never_cache
def self_hosted_register(request: AuthedHttpRequest) -> HttpResponse:
    """Register a self-hosted runner and show its token once (owners only)."""
    membership, config = _current(request, Role.OWNER, "register self-hosted runners")
    form = SelfHostedRunnerForm(request.POST)
    if form.is_valid():
        try:
            issued = runner_register(
                workspace=membership.workspace, by=request.user, **form.values()
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Runner {issued.runner.name} registered.")
            return _with_token(request, membership, issued)
    context = _page_context(membership, config, register_form=form)
    return render_page(
        request, TEMPLATE, context, partial="self-hosted-register", status=FORM_ERROR_STATUS
    )


@login_required
@require_POST
@never_cache
def self_hosted_rotate(request: AuthedHttpRequest, runner_id: UUID) -> HttpResponse:
    """Give a runner a new token (shown once); the old one stops working now."""
    membership, _ = _current(request, Role.OWNER, "rotate runner tokens")
    runner = _runner_or_404(membership, runner_id)
    try:
        issued = runner_rotate(runner=runner, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect_to(request, reverse("runners:runners"))
    messages.success(
        request,
        f"Runner {runner.name} has a new token; the old one is refused and its runs were "
        "released to other runners.",
    )
    return _with_token(request, membership, issued)


@login_required
@require_POST
def self_hosted_revoke(request: AuthedHttpRequest, runner_id: UUID) -> HttpResponse:
    """Revoke a runner: its next call is refused and its runs go back to the queue."""
    membership, _ = _current(request, Role.OWNER, "revoke self-hosted runners")
    runner = _runner_or_404(membership, runner_id)
    runner_revoke(runner=runner, by=request.user)
    messages.success(
        request, f"Runner {runner.name} revoked: its next call is refused, its runs re-queued."
    )
    return redirect_to(request, reverse("runners:runners"))
